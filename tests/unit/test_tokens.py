from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media_platform import clients, tokens
from media_platform.errors import NotAuthenticated
from media_platform.models import Role
from media_platform.tokens import TokenKind
from tests.support import Clock, FakeSecrets

KEY = "k" * 64


@pytest.fixture(autouse=True)
def signing_key() -> FakeSecrets:
    fake = FakeSecrets(KEY)
    clients.override("secrets", fake)
    return fake


def claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "sub": "user-1",
        "role": "editor",
        "iat": now,
        "exp": now + 600,
        "iss": "media-platform",
        "aud": "media-platform-api",
        "token_use": "access",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_an_issued_access_token_verifies_with_its_claims() -> None:
    token = tokens.issue(TokenKind.ACCESS, "user-1", Role.EDITOR, 1800)

    verified = tokens.verify(token, TokenKind.ACCESS)

    assert (verified.subject, verified.role) == ("user-1", Role.EDITOR)
    assert verified.expires_at - int(time.time()) in range(1795, 1801)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    decoded = jwt.decode(token, options={"verify_signature": False})
    assert set(decoded) == {"sub", "role", "iat", "exp", "iss", "aud", "token_use"}


def test_the_key_is_read_through_the_cached_provider() -> None:
    fake = FakeSecrets(KEY)
    clients.override("secrets", fake)

    tokens.issue(TokenKind.ACCESS, "u", Role.VIEWER, 60)

    assert fake.calls == 1


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(jwt.encode(claims(exp=int(time.time()) - 60), KEY, algorithm="HS256"), id="expired"),
        pytest.param(jwt.encode(claims(), "another-key-" + "x" * 40, algorithm="HS256"), id="other-key"),
        pytest.param(jwt.encode(claims(), KEY, algorithm="HS512"), id="other-algorithm"),
        pytest.param(jwt.encode(claims(), None, algorithm="none"), id="alg-none"),  # type: ignore[arg-type]
        pytest.param(jwt.encode(claims(aud="media-platform-stream"), KEY, algorithm="HS256"), id="other-audience"),
        pytest.param(jwt.encode(claims(iss="someone-else"), KEY, algorithm="HS256"), id="other-issuer"),
        pytest.param(jwt.encode(claims(token_use="stream"), KEY, algorithm="HS256"), id="stream-type"),
        pytest.param(jwt.encode(claims(role="superuser"), KEY, algorithm="HS256"), id="unknown-role"),
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param("", id="empty"),
    ],
)
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(NotAuthenticated):
        tokens.verify(token, TokenKind.ACCESS)


@pytest.mark.parametrize("missing", ["sub", "role", "iat", "exp", "iss", "aud", "token_use"])
def test_every_claim_is_required(missing: str) -> None:
    token = jwt.encode(claims(**{missing: None}), KEY, algorithm="HS256")

    with pytest.raises(NotAuthenticated):
        tokens.verify(token, TokenKind.ACCESS)


def test_a_tampered_payload_is_refused() -> None:
    token = tokens.issue(TokenKind.ACCESS, "user-1", Role.VIEWER, 1800)
    header, _, signature = token.split(".")
    forged_payload = jwt.encode(claims(role="admin"), KEY, algorithm="HS256").split(".")[1]

    with pytest.raises(NotAuthenticated):
        tokens.verify(f"{header}.{forged_payload}.{signature}", TokenKind.ACCESS)


MEDIA_ID = "3f6c1a52-8d0e-4b7a-9c21-5e4f7a9b0d13"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(1_800_000_000.123)
    monkeypatch.setattr(tokens, "clock", fake)
    return fake


def stream_claims(**changes: object) -> dict[str, object]:
    stream: dict[str, object] = {
        "role": None,
        "aud": "media-platform-stream",
        "token_use": "stream",
        "media_id": MEDIA_ID,
        "jti": "j-1",
    }
    return claims(**(stream | changes))


def test_an_issued_stream_token_carries_its_own_claims(clock: Clock) -> None:
    token, issued = tokens.issue_stream_token("user-1", MEDIA_ID, 3600)

    verified = tokens.verify_stream_token(token)

    assert verified == issued
    assert (verified.subject, verified.media_id) == ("user-1", MEDIA_ID)
    assert verified.issued_at == 1_800_000_000.123  # to the millisecond
    assert verified.expires_at == 1_800_003_600
    decoded = jwt.decode(token, options={"verify_signature": False})
    assert set(decoded) == {"sub", "media_id", "iat", "exp", "jti", "iss", "aud", "token_use"}
    assert (decoded["aud"], decoded["token_use"]) == ("media-platform-stream", "stream")


@settings(max_examples=200, deadline=None)
@given(subject=st.text(max_size=40), media_id=st.text(max_size=40), ttl=st.integers(0, 10**9))
def test_a_stream_token_needs_no_quoting_in_a_query(subject: str, media_id: str, ttl: int) -> None:
    """The stream URL carries the token as it is (`?token=<token>`): what urlencode would have written."""
    token, _ = tokens.issue_stream_token(subject, media_id, ttl)

    assert urlencode({"token": token}) == f"token={token}"


def test_every_stream_token_has_its_own_id(clock: Clock) -> None:
    first, _ = tokens.issue_stream_token("u", MEDIA_ID, 60)
    second, _ = tokens.issue_stream_token("u", MEDIA_ID, 60)

    assert tokens.verify_stream_token(first).token_id != tokens.verify_stream_token(second).token_id


def test_a_stream_token_is_reusable_until_it_expires_then_refused(clock: Clock) -> None:
    token, _ = tokens.issue_stream_token("u", MEDIA_ID, 3600)

    for moment in (1_800_000_000.123, 1_800_001_800, 1_800_003_599):
        clock.now = moment
        assert tokens.verify_stream_token(token).media_id == MEDIA_ID
    clock.now = 1_800_003_600 + tokens.LEEWAY_SECONDS
    with pytest.raises(NotAuthenticated):
        tokens.verify_stream_token(token)


def test_an_access_token_expires_by_the_same_clock(clock: Clock) -> None:
    token = tokens.issue(TokenKind.ACCESS, "u", Role.VIEWER, 60)

    clock.now += 60 + tokens.LEEWAY_SECONDS

    with pytest.raises(NotAuthenticated):
        tokens.verify(token, TokenKind.ACCESS)


def test_a_token_issued_in_the_future_is_refused(clock: Clock) -> None:
    token, _ = tokens.issue_stream_token("u", MEDIA_ID, 3600, now=clock.now + 600)

    with pytest.raises(NotAuthenticated):
        tokens.verify_stream_token(token)


def test_a_stream_token_is_not_an_access_token(clock: Clock) -> None:
    stream, _ = tokens.issue_stream_token("u", MEDIA_ID, 3600)
    # Even one that carries a role, and so every claim an access token needs, still has the stream audience.
    with_role = jwt.encode(stream_claims(role="admin"), KEY, algorithm="HS256")
    relabelled = jwt.encode(stream_claims(role="admin", token_use="access"), KEY, algorithm="HS256")

    for token in (stream, with_role, relabelled):
        with pytest.raises(NotAuthenticated):
            tokens.verify(token, TokenKind.ACCESS)


def test_an_access_token_is_not_a_stream_token(clock: Clock) -> None:
    access = tokens.issue(TokenKind.ACCESS, "u", Role.ADMIN, 600)
    # An access token given a media id and a jti still has the access audience and token_use.
    dressed_up = jwt.encode(claims(media_id=MEDIA_ID, jti="j-1"), KEY, algorithm="HS256")
    wrong_use = jwt.encode(stream_claims(token_use="access"), KEY, algorithm="HS256")

    for token in (access, dressed_up, wrong_use):
        with pytest.raises(NotAuthenticated):
            tokens.verify_stream_token(token)


@pytest.mark.parametrize("missing", ["sub", "media_id", "iat", "exp", "jti", "iss", "aud", "token_use"])
def test_every_stream_claim_is_required(missing: str) -> None:
    token = jwt.encode(stream_claims(**{missing: None}), KEY, algorithm="HS256")

    with pytest.raises(NotAuthenticated):
        tokens.verify_stream_token(token)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(jwt.encode(stream_claims(), "another-key-" + "x" * 40, algorithm="HS256"), id="other-key"),
        pytest.param(jwt.encode(stream_claims(), KEY, algorithm="HS512"), id="other-algorithm"),
        pytest.param(jwt.encode(stream_claims(), None, algorithm="none"), id="alg-none"),  # type: ignore[arg-type]
        pytest.param(jwt.encode(stream_claims(iss="someone-else"), KEY, algorithm="HS256"), id="other-issuer"),
        pytest.param(jwt.encode(stream_claims(exp="later"), KEY, algorithm="HS256"), id="exp-not-a-number"),
        pytest.param("", id="empty"),
    ],
)
def test_bad_stream_tokens_are_refused(token: str) -> None:
    with pytest.raises(NotAuthenticated):
        tokens.verify_stream_token(token)


def test_a_stream_token_with_a_tampered_payload_or_signature_is_refused(clock: Clock) -> None:
    token, _ = tokens.issue_stream_token("u", MEDIA_ID, 3600)
    header, payload, signature = token.split(".")
    other_media = jwt.encode(stream_claims(media_id="another-media"), "x" * 64, algorithm="HS256").split(".")[1]
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]

    for forged in (f"{header}.{other_media}.{signature}", f"{header}.{payload}.{flipped}", f"{header}.{payload}."):
        with pytest.raises(NotAuthenticated):
            tokens.verify_stream_token(forged)


def test_a_short_signing_key_is_refused() -> None:
    clients.override("secrets", FakeSecrets("s" * 31))

    with pytest.raises(tokens.WeakSigningKey):
        tokens.issue(TokenKind.ACCESS, "u", Role.VIEWER, 60)


def test_issued_tokens_carry_the_one_header_the_verifier_accepts() -> None:
    token = tokens.issue(TokenKind.ACCESS, "user-1", Role.EDITOR, 60)

    assert token.split(".")[0].encode() == tokens.ISSUED_HEADER
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def test_a_validly_signed_token_with_any_other_header_is_refused() -> None:
    # Signed with the right key and algorithm, but the header is not byte for byte the one issued here.
    for headers in ({"kid": "other"}, {"typ": "jwt"}, {"crit": ["exp"]}):
        token = jwt.encode(claims(), KEY, algorithm="HS256", headers=headers)
        with pytest.raises(NotAuthenticated):
            tokens.verify(token, TokenKind.ACCESS)


@pytest.mark.parametrize("claim", ["iat", "exp"])
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_signed_time_that_is_no_finite_number_is_refused(claim: str, value: str) -> None:
    # JSON's NaN and Infinity (and a number too big for a float) parse in Python: NaN passes every time check
    # (comparisons are False), int(Infinity) raises OverflowError. Only a key holder could sign one; still a 401.
    payload = json.dumps(claims(**{claim: 0})).replace(f'"{claim}": 0', f'"{claim}": {value}')
    body = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=")
    signing_input = tokens.ISSUED_HEADER + b"." + body
    signature = base64.urlsafe_b64encode(hmac.new(KEY.encode(), signing_input, hashlib.sha256).digest()).rstrip(b"=")

    with pytest.raises(NotAuthenticated):
        tokens.verify((signing_input + b"." + signature).decode(), TokenKind.ACCESS)


def _pyjwt_decode(token: str, kind: TokenKind, required: list[str], now: float) -> dict[str, object]:
    """The verifier as it was, on PyJWT: the oracle that tokens._decode is held to."""
    decoded: dict[str, object] = jwt.decode(
        token,
        KEY,
        algorithms=["HS256"],
        audience=tokens.AUDIENCE[kind],
        issuer="media-platform",
        options={"require": required, "verify_exp": False, "verify_iat": False},
    )
    if decoded["token_use"] != kind.value:
        raise jwt.InvalidTokenError("wrong token type")
    iat, exp = decoded["iat"], decoded["exp"]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (iat, exp)):
        raise jwt.InvalidTokenError("numbers")
    if exp <= now - tokens.LEEWAY_SECONDS or iat > now + tokens.LEEWAY_SECONDS:  # type: ignore[operator]
        raise jwt.InvalidTokenError("time")
    return decoded


def _verdict(decode: object, token: str, now: float) -> dict[str, object] | str:
    try:
        return decode(token, TokenKind.ACCESS, tokens.REQUIRED_CLAIMS, now)  # type: ignore[operator, no-any-return]
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        return type(exc).__name__


NOW = int(time.time())  # PyJWT checks `nbf` against the real clock
CLAIM_CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "sub": st.sampled_from([None, "", "other-user", 7]),
        "role": st.sampled_from([None, "admin", "viewer"]),
        "iat": st.sampled_from([None, NOW - 10, NOW + 4.9, NOW + 5.1, True, "now"]),
        "exp": st.sampled_from([None, NOW - 5, NOW - 4.9, NOW + 1, 2**40, False, "later"]),
        "iss": st.sampled_from([None, "someone-else", ""]),
        "aud": st.sampled_from([None, "media-platform-stream", "", 0]),
        "token_use": st.sampled_from([None, "stream", "ACCESS"]),
        "nbf": st.sampled_from([NOW - 100, NOW + 100]),
    },
)
SEGMENT_CHARS = st.sampled_from("AZaz09-_=.+/!é ")


@settings(max_examples=300, deadline=None)
@given(
    changes=CLAIM_CHANGES,
    key=st.sampled_from([KEY, "k" * 63 + "j", "another-key-" + "x" * 40]),
    algorithm=st.sampled_from(["HS256", "HS256", "HS384", "none"]),
    edit=st.one_of(st.none(), st.tuples(st.integers(0, 400), SEGMENT_CHARS), st.integers(0, 400)),
)
def test_the_verifier_accepts_only_what_pyjwt_accepts(
    changes: dict[str, object], key: str, algorithm: str, edit: tuple[int, str] | int | None
) -> None:
    base = claims(iat=NOW - 10, exp=NOW + 600)
    token = jwt.encode(
        {k: v for k, v in (base | changes).items() if v is not None},
        key if algorithm != "none" else None,  # type: ignore[arg-type]
        algorithm=algorithm,
    )
    if isinstance(edit, tuple):  # one character replaced
        at = edit[0] % len(token)
        token = token[:at] + edit[1] + token[at + 1 :]
    elif isinstance(edit, int):  # cut short
        token = token[: edit % len(token)]

    ours, reference = _verdict(tokens._decode, token, NOW), _verdict(_pyjwt_decode, token, NOW)

    if isinstance(ours, dict):
        assert ours == reference, "accepted a token PyJWT refuses"
    elif token.split(".")[0].encode() == tokens.ISSUED_HEADER and isinstance(reference, dict):
        pytest.fail(f"refused ({ours}) a token PyJWT accepts")


# The verdict cache: one signature check per token and key, never a way past a check.


@pytest.fixture
def hmac_calls(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every HMAC computed (the module is shared: signing one counts too), by key."""
    tokens._verified_payload.cache_clear()
    made: list[bytes] = []
    real = hmac.new

    def counted(key: bytes, *args: Any, **kwargs: Any) -> hmac.HMAC:
        made.append(key)
        return real(key, *args, **kwargs)

    monkeypatch.setattr(hmac, "new", counted)
    return made


def test_a_token_sent_again_is_verified_once(hmac_calls: list[bytes]) -> None:
    token = tokens.issue(TokenKind.ACCESS, "user-1", Role.EDITOR, 1800)
    hmac_calls.clear()

    for _ in range(3):
        assert tokens.verify(token, TokenKind.ACCESS).subject == "user-1"

    assert hmac_calls == [KEY.encode()]


def test_a_refused_token_is_checked_every_time_and_never_remembered(hmac_calls: list[bytes]) -> None:
    token = tokens.issue(TokenKind.ACCESS, "user-1", Role.EDITOR, 1800)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    hmac_calls.clear()

    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            tokens.verify(forged, TokenKind.ACCESS)

    assert len(hmac_calls) == 3
    assert tokens._verified_payload.cache_info().currsize == 0


def test_a_remembered_token_is_refused_under_a_new_key(hmac_calls: list[bytes]) -> None:
    token = tokens.issue(TokenKind.ACCESS, "user-1", Role.EDITOR, 1800)
    tokens.verify(token, TokenKind.ACCESS)

    clients.override("secrets", FakeSecrets("n" * 64))  # the key rotated

    with pytest.raises(NotAuthenticated):
        tokens.verify(token, TokenKind.ACCESS)


def test_a_remembered_token_still_expires_and_keeps_its_kind(hmac_calls: list[bytes]) -> None:
    token = tokens.issue(TokenKind.ACCESS, "user-1", Role.EDITOR, 600)
    tokens.verify(token, TokenKind.ACCESS)

    with pytest.raises(NotAuthenticated):
        tokens.verify(token, TokenKind.ACCESS, now=time.time() + 600 + tokens.LEEWAY_SECONDS + 1)
    with pytest.raises(NotAuthenticated):
        tokens.verify_stream_token(token)


TEXT = st.text(st.characters(codec="utf-8"), max_size=40)  # any JSON string: quotes, escapes, non-ASCII
CLAIM_VALUES = st.one_of(TEXT, st.integers(-(2**63), 2**63), st.floats(allow_nan=False, allow_infinity=False))


@settings(max_examples=300, deadline=None)
@given(
    claims=st.dictionaries(TEXT, CLAIM_VALUES, max_size=8),
    key=st.sampled_from([KEY.encode(), b"\x00\xff" * 32, "clé-secrète-".encode() * 4]),
)
def test_tokens_are_encoded_as_pyjwt_encodes_them(claims: dict[str, object], key: bytes) -> None:
    claims.pop("iss", None)  # PyJWT refuses a non-string issuer; the one issued here is a setting's string
    assert tokens._encode(claims, key) == jwt.encode(claims, key, algorithm="HS256")


@settings(max_examples=100, deadline=None)
@given(subject=TEXT, media_id=TEXT, ttl=st.integers(1, 10**6), now=st.floats(0, 4e9))
def test_issued_tokens_are_the_ones_pyjwt_would_issue(subject: str, media_id: str, ttl: int, now: float) -> None:
    stream, _ = tokens.issue_stream_token(subject, media_id, ttl, now=now)
    access = tokens.issue(TokenKind.ACCESS, subject, Role.EDITOR, ttl, now=now)

    for token in (stream, access):
        claims = jwt.decode(token, options={"verify_signature": False})  # in the order they were encoded
        assert token == jwt.encode(claims, KEY, algorithm="HS256")


@pytest.mark.parametrize(
    "key",
    [
        b"-----BEGIN PUBLIC KEY-----\n" + b"A" * 64 + b"\n-----END PUBLIC KEY-----",
        b"ssh-rsa " + b"A" * 64,
        b'{"kty": "oct", "k": "' + b"A" * 64 + b'"}',
    ],
)
def test_a_key_pyjwt_refuses_as_an_hmac_secret_is_refused_alike(key: bytes) -> None:
    with pytest.raises(jwt.InvalidKeyError):
        jwt.encode(claims(), key, algorithm="HS256")
    with pytest.raises(jwt.InvalidKeyError):
        tokens._encode(claims(), key)
