from __future__ import annotations

import time

import jwt
import pytest

from media_platform import clients, tokens
from media_platform.errors import NotAuthenticated
from media_platform.models import Role
from media_platform.tokens import TokenKind
from tests.support import FakeSecrets

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


def test_stream_and_access_tokens_are_not_interchangeable() -> None:
    access = tokens.issue(TokenKind.ACCESS, "u", Role.VIEWER, 60)
    stream = tokens.issue(TokenKind.STREAM, "u", Role.VIEWER, 3600)

    with pytest.raises(NotAuthenticated):
        tokens.verify(stream, TokenKind.ACCESS)
    with pytest.raises(NotAuthenticated):
        tokens.verify(access, TokenKind.STREAM)
    assert tokens.verify(stream, TokenKind.STREAM).subject == "u"


def test_a_short_signing_key_is_refused() -> None:
    clients.override("secrets", FakeSecrets("s" * 31))

    with pytest.raises(tokens.WeakSigningKey):
        tokens.issue(TokenKind.ACCESS, "u", Role.VIEWER, 60)
