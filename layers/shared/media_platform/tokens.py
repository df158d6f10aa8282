"""HS256 JWTs signed with the key from Secrets Manager. Each token kind has its own audience and `token_use`
claim, and decoding requires every claim, so a token of one kind is never accepted as another."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from enum import StrEnum

import jwt

from media_platform import clients
from media_platform.errors import NotAuthenticated
from media_platform.models import Role
from media_platform.settings import get_settings

ALGORITHM = "HS256"  # the one accepted algorithm
MIN_KEY_BYTES = 32
REQUIRED_CLAIMS = ["sub", "role", "iat", "exp", "iss", "aud", "token_use"]
LEEWAY_SECONDS = 5


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


def signing_key() -> bytes:
    settings = get_settings()
    secret = clients.secrets().get(settings.resource("jwt_secret_name"), max_age=settings.secret_max_age_seconds)
    key = secret.encode() if isinstance(secret, str) else secret if isinstance(secret, bytes) else b""
    if len(key) < MIN_KEY_BYTES:
        raise WeakSigningKey(f"the JWT signing key must be at least {MIN_KEY_BYTES} bytes")
    return key


def purpose_key(purpose: str) -> bytes:
    """A key for one other purpose (cursor signatures), derived from the signing key so that the two never mix."""
    return hmac.new(signing_key(), f"media-platform/{purpose}".encode(), hashlib.sha256).digest()


def issue(kind: TokenKind, subject: str, role: Role, ttl_seconds: int, now: float | None = None) -> str:
    issued_at = round(time.time() if now is None else now, 3)  # a NumericDate may have a fraction (RFC 7519)
    claims = {
        "sub": subject,
        "role": role.value,
        "iat": issued_at,
        "exp": int(issued_at) + ttl_seconds,
        "iss": get_settings().token_issuer,
        "aud": AUDIENCE[kind],
        "token_use": kind.value,
    }
    return jwt.encode(claims, signing_key(), algorithm=ALGORITHM)


def verify(token: str, kind: TokenKind) -> Claims:
    try:
        claims = jwt.decode(
            token,
            signing_key(),
            algorithms=[ALGORITHM],
            audience=AUDIENCE[kind],
            issuer=get_settings().token_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
        if claims["token_use"] != kind.value:
            raise jwt.InvalidTokenError("wrong token type")
        return Claims(
            subject=str(claims["sub"]),
            role=Role(claims["role"]),
            expires_at=int(claims["exp"]),
            issued_at=float(claims["iat"]),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise NotAuthenticated("The token is missing, expired or invalid.") from exc
