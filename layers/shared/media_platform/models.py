"""Pydantic models at the API boundary (requests forbid unknown fields) and the stored user item."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 raises on longer input
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError("must be a valid email address")
    return email


def check_password(value: str) -> str:
    if len(value) < MIN_PASSWORD_CHARS:
        raise ValueError(f"must be at least {MIN_PASSWORD_CHARS} characters")
    if len(value.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(f"must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt's limit)")
    return value


Email = Annotated[str, Field(max_length=254, examples=["ada@example.com"]), AfterValidator(normalize_email)]
Password = Annotated[str, Field(max_length=MAX_PASSWORD_BYTES, examples=["correct horse battery"])]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignupRequest(Strict):
    email: Email
    password: Annotated[Password, AfterValidator(check_password)]


class LoginRequest(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class RoleChange(Strict):
    role: Role


class UserOut(BaseModel):
    id: str
    email: str
    role: Role
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int


class User(BaseModel):
    """A user as stored; carries the hash, so it never leaves the service (see `public`)."""

    id: str
    email: str
    role: Role
    password_hash: str
    created_at: datetime

    def public(self) -> UserOut:
        return UserOut(id=self.id, email=self.email, role=self.role, created_at=self.created_at)
