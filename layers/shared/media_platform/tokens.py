"""HS256 JWTs signed with the key from Secrets Manager. Each token kind has its own audience and `token_use`
claim, and decoding requires every claim, so a token of one kind is never accepted as another."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm

from media_platform import clients
from media_platform.errors import NotAuthenticated
from media_platform.models import Role
from media_platform.settings import get_settings

ALGORITHM = "HS256"  # the one accepted algorithm
MIN_KEY_BYTES = 32
REQUIRED_CLAIMS = ["sub", "role", "iat", "exp", "iss", "aud", "token_use"]
STREAM_REQUIRED_CLAIMS = ["sub", "media_id", "iat", "exp", "jti", "iss", "aud", "token_use"]
LEEWAY_SECONDS = 5
# The header of every token issued here, as PyJWT encodes it (sorted keys, no spaces). A token whose header differs
# in any byte (another `alg`, `none`, a `kid`, `crit`, ...) is refused before any key is touched: there is no
# algorithm to confuse and no header to parse.
ISSUED_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
# The clock tokens are issued and checked against (tests replace it; PyJWT's own time checks are turned off).
clock: Callable[[], float] = time.time


class TokenKind(StrEnum):
    ACCESS = "access"
    STREAM = "stream"


AUDIENCE = {TokenKind.ACCESS: "media-platform-api", TokenKind.STREAM: "media-platform-stream"}


class WeakSigningKey(RuntimeError):
    """The configured signing key is shorter than 32 bytes: refuse to sign or verify with it."""


@dataclass(frozen=True)
class Claims:
    subject: str
    role: Role
    expires_at: int
    issued_at: float  # to the millisecond, so a token issued just after a logout is told from one just before


@dataclass(frozen=True)
class StreamClaims:
    """What a stream token says: who asked, for which media, when (to the millisecond, so a revocation is told
    apart from a token issued in the same second), until when, and its own id."""

    subject: str
    media_id: str
    issued_at: float
    expires_at: int
    token_id: str

    def remaining_seconds(self, now: float | None = None) -> int:
        return max(0, int(self.expires_at - (clock() if now is None else now)))


def secret_key(setting: str) -> bytes:
    """A key kept in Secrets Manager under the secret the setting names (cached for `secret_max_age_seconds`),
    refused when shorter than MIN_KEY_BYTES."""
    settings = get_settings()
    secret = clients.secrets().get(settings.resource(setting), max_age=settings.secret_max_age_seconds)
    key = secret.encode() if isinstance(secret, str) else secret if isinstance(secret, bytes) else b""
    if len(key) < MIN_KEY_BYTES:
        raise WeakSigningKey(f"the key in {settings.env_name(setting)} must be at least {MIN_KEY_BYTES} bytes")
    return key


def signing_key() -> bytes:
    return secret_key("jwt_secret_name")


def purpose_key(purpose: str) -> bytes:
    """A key for one other purpose (cursor signatures), derived from the signing key so that the two never mix."""
    return hmac.new(signing_key(), f"media-platform/{purpose}".encode(), hashlib.sha256).digest()


def _issued_at(now: float | None) -> float:
    return round(clock() if now is None else now, 3)


def issue(kind: TokenKind, subject: str, role: Role, ttl_seconds: int, now: float | None = None) -> str:
    issued_at = _issued_at(now)  # a NumericDate may have a fraction (RFC 7519)
    claims = {
        "sub": subject,
        "role": role.value,
        "iat": issued_at,
        "exp": int(issued_at) + ttl_seconds,
        "iss": get_settings().token_issuer,
        "aud": AUDIENCE[kind],
        "token_use": kind.value,
    }
    return _encode(claims, signing_key())


def issue_stream_token(
    subject: str, media_id: str, ttl_seconds: int, now: float | None = None
) -> tuple[str, StreamClaims]:
    """A token that lets a player fetch one media item for `ttl_seconds`, reusable until then (players come back to
    the stream URL for later byte ranges)."""
    issued_at = _issued_at(now)
    issued = StreamClaims(
        subject=subject,
        media_id=media_id,
        issued_at=issued_at,
        expires_at=int(issued_at) + ttl_seconds,
        token_id=secrets.token_hex(16),  # 128 random bits, opaque
    )
    claims = {
        "sub": issued.subject,
        "media_id": issued.media_id,
        "iat": issued.issued_at,
        "exp": issued.expires_at,
        "jti": issued.token_id,
        "iss": get_settings().token_issuer,
        "aud": AUDIENCE[TokenKind.STREAM],
        "token_use": TokenKind.STREAM.value,
    }
    return _encode(claims, signing_key()), issued


@lru_cache(maxsize=4)  # the key changes only when the secret is rotated
def _hmac_key(key: bytes) -> bytes:
    """PyJWT's refusals of an HMAC key (a PEM, SSH, DER or JWK key is no secret), once per key, not per token."""
    return HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(key)


def _encode(claims: dict[str, Any], key: bytes) -> str:
    """`jwt.encode(claims, key, algorithm="HS256")`, byte for byte, at a fraction of its cost: PyJWT builds and
    serialises the header and re-checks the key on every call. tests/unit/test_tokens.py holds it to PyJWT."""
    payload = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=")
    signing_input = ISSUED_HEADER + b"." + payload
    signature = hmac.new(_hmac_key(key), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


@lru_cache(maxsize=1024)
def _verified_payload(token: str, key: bytes) -> dict[str, Any]:
    """`_signed_payload`, remembered per execution environment: a verdict depends only on the token's bytes and the
    key, and clients send the same token request after request (a player its stream URL's, an app its access
    token's), so each is checked once per key. Only verified tokens are kept (a refusal raises), so forged tokens
    cannot evict them; the claims are checked against the clock and the stored state on every request."""
    return _signed_payload(token, key)


def _signed_payload(token: str, key: bytes) -> dict[str, Any]:
    """The payload of a compact JWS that carries ISSUED_HEADER and an HS256 signature by `key`, else an error.

    `_encode` issues the tokens as PyJWT would; verifying them here costs a tenth of `jwt.decode` (which parses the
    header, re-checks the key is no PEM and validates every segment's alphabet on each request) with the same
    refusals for anything this service could have issued. tests/unit/test_tokens.py holds it to PyJWT's verdicts."""
    segments = token.encode("ascii").split(b".")  # non-ASCII: UnicodeEncodeError, a ValueError
    if len(segments) != 3 or segments[0] != ISSUED_HEADER:
        raise jwt.InvalidTokenError("not a token issued here")
    header, payload, signature = segments
    expected = hmac.new(key, header + b"." + payload, hashlib.sha256).digest()
    if not hmac.compare_digest(base64.urlsafe_b64encode(expected).rstrip(b"="), signature):
        raise jwt.InvalidSignatureError("signature verification failed")
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise jwt.DecodeError("payload is not base64url JSON") from exc
    if not isinstance(claims, dict):
        raise jwt.DecodeError("payload is not a JSON object")
    return claims


def _is_time(value: Any) -> bool:
    """A NumericDate: a finite number, not a bool (JSON's NaN and Infinity would pass or break every comparison)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _decode(token: str, kind: TokenKind, required: list[str], now: float | None) -> dict[str, Any]:
    """The verified claims of a token of `kind`: signature, algorithm, issuer, audience, token_use, every required
    claim, and `iat`/`exp` against `clock` (with a small leeway)."""
    claims = dict(_verified_payload(token, signing_key()))  # a copy: the cached claims never change
    if missing := [name for name in required if name not in claims]:
        raise jwt.MissingRequiredClaimError(missing[0])
    if not all(isinstance(claims.get(name, ""), str) for name in ("sub", "jti")):
        raise jwt.InvalidTokenError("sub and jti must be strings")
    if claims["iss"] != get_settings().token_issuer:
        raise jwt.InvalidIssuerError("other issuer")
    if claims["aud"] != AUDIENCE[kind]:  # issued as one string; a list is nothing this service issues
        raise jwt.InvalidAudienceError("other audience")
    if claims["token_use"] != kind.value:
        raise jwt.InvalidTokenError("wrong token type")
    moment = clock() if now is None else now
    issued_at, expires_at = claims["iat"], claims["exp"]
    if not all(_is_time(v) for v in (issued_at, expires_at)):
        raise jwt.InvalidTokenError("iat and exp must be numbers")
    if expires_at <= moment - LEEWAY_SECONDS:
        raise jwt.ExpiredSignatureError("expired")
    if issued_at > moment + LEEWAY_SECONDS:
        raise jwt.ImmatureSignatureError("issued in the future")
    if "nbf" in claims:  # never issued here; honoured as PyJWT would
        not_before = claims["nbf"]
        if not _is_time(not_before) or not_before > moment + LEEWAY_SECONDS:
            raise jwt.ImmatureSignatureError("not yet valid")
    return claims


def verify(token: str, kind: TokenKind, now: float | None = None) -> Claims:
    try:
        claims = _decode(token, kind, REQUIRED_CLAIMS, now)
        return Claims(
            subject=str(claims["sub"]),
            role=Role(claims["role"]),
            expires_at=int(claims["exp"]),
            issued_at=float(claims["iat"]),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise NotAuthenticated("The token is missing, expired or invalid.") from exc


def verify_stream_token(token: str, now: float | None = None) -> StreamClaims:
    try:
        claims = _decode(token, TokenKind.STREAM, STREAM_REQUIRED_CLAIMS, now)
        return StreamClaims(
            subject=str(claims["sub"]),
            media_id=str(claims["media_id"]),
            issued_at=float(claims["iat"]),
            expires_at=int(claims["exp"]),
            token_id=str(claims["jti"]),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise NotAuthenticated("The stream token is missing, expired or invalid.") from exc
