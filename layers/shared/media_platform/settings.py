"""One validated settings model, read from the environment that template.yaml sets for each function.

Each field reads the environment variable of its own name in upper case (`users_table` ← `USERS_TABLE`); the two
that AWS names for us say so. Resource names have no default: a function names the ones it needs with `require`
at init, so a missing variable fails the cold start with one clear log line instead of the first AWS call."""

from __future__ import annotations

import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from media_platform.observability import logger


class MissingSettings(RuntimeError):
    """The function's environment lacks variables it needs (a template or deployment mistake, never a request's)."""


class Settings(BaseModel):
    model_config = ConfigDict(alias_generator=str.upper, frozen=True)

    stage: str = "dev"
    region: str = Field(default="us-east-1", alias="AWS_REGION")
    users_table: str | None = None
    jwt_secret_name: str | None = None
    token_issuer: str = "media-platform"  # noqa: S105 (the JWT iss claim)
    signup_open: bool = True
    access_token_ttl_seconds: int = Field(default=1800, gt=0)
    login_max_failures: int = Field(default=5, gt=0)
    login_lock_seconds: int = Field(default=60, gt=0)
    secret_max_age_seconds: int = Field(default=300, ge=0)
    media_table: str | None = None
    media_bucket: str | None = None
    idempotency_table: str | None = None
    upload_post_max_bytes: int = Field(default=100 * 1024**2, gt=0)
    upload_max_bytes: int = Field(default=50 * 1024**3, gt=0)
    upload_url_expiry_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    # A presigned GET lives at most 7 days (SigV4), and no longer than the stream token it is issued for.
    stream_token_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    views_table: str | None = None
    daily_stats_table: str | None = None
    viewer_key_secret_name: str | None = None
    view_shards: int = Field(default=16, ge=1, le=256)
    view_window_seconds: int = Field(default=1800, ge=1, le=86400)
    view_retention_days: int = Field(default=90, ge=3, le=3650)
    view_ip_mode: Literal["full", "truncated", "hashed"] = "full"
    rollup_queue_url: str | None = None
    local_endpoint: str | None = Field(default=None, alias="AWS_ENDPOINT_URL")

    @classmethod
    def env_name(cls, field: str) -> str:
        return cls.model_fields[field].alias or field.upper()

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        names = {cls.env_name(field) for field in cls.model_fields}
        return cls.model_validate({name: env[name] for name in names if name in env})

    def resource(self, field: str) -> str:
        """The name of a table, bucket or secret; MissingSettings when the environment does not give it."""
        value = getattr(self, field)
        if not value:
            raise MissingSettings(f"{self.env_name(field)} is not set.")
        return str(value)


@cache
def get_settings() -> Settings:
    return Settings.from_environ()


def require(*fields: str) -> Settings:
    """Called once at a function's init: every setting must validate and every named resource must be set."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        invalid = sorted({str(err["loc"][0]) for err in exc.errors() if err["loc"]})  # loc is the variable
        logger.error("Invalid settings in the environment", extra={"invalid_variables": invalid})
        raise MissingSettings(f"Invalid environment variables: {', '.join(invalid)}") from None
    missing = [Settings.env_name(field) for field in fields if not getattr(settings, field)]
    if missing:
        logger.error("Missing environment variables", extra={"missing_variables": missing})
        raise MissingSettings(f"Missing environment variables: {', '.join(missing)}")
    return settings
