"""One validated settings model, read from the environment that template.yaml sets for each function."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    stage: str = "dev"
    region: str = "us-east-1"
    users_table: str = ""
    jwt_secret_name: str = ""
    token_issuer: str = "media-platform"  # noqa: S105 (the JWT iss claim)
    signup_open: bool = True
    access_token_ttl_seconds: int = Field(default=1800, gt=0)
    login_max_failures: int = Field(default=5, gt=0)
    login_lock_seconds: int = Field(default=60, gt=0)
    secret_max_age_seconds: int = Field(default=300, ge=0)
    media_table: str = ""
    media_bucket: str = ""
    idempotency_table: str = ""
    upload_post_max_bytes: int = Field(default=100 * 1024**2, gt=0)
    upload_max_bytes: int = Field(default=50 * 1024**3, gt=0)
    upload_url_expiry_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    local_endpoint: str | None = None

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        names = {
            "stage": "STAGE",
            "region": "AWS_REGION",
            "users_table": "USERS_TABLE",
            "jwt_secret_name": "JWT_SECRET_NAME",
            "token_issuer": "TOKEN_ISSUER",
            "signup_open": "SIGNUP_OPEN",
            "access_token_ttl_seconds": "ACCESS_TOKEN_TTL_SECONDS",
            "login_max_failures": "LOGIN_MAX_FAILURES",
            "login_lock_seconds": "LOGIN_LOCK_SECONDS",
            "secret_max_age_seconds": "SECRET_MAX_AGE_SECONDS",
            "media_table": "MEDIA_TABLE",
            "media_bucket": "MEDIA_BUCKET",
            "idempotency_table": "IDEMPOTENCY_TABLE",
            "upload_post_max_bytes": "UPLOAD_POST_MAX_BYTES",
            "upload_max_bytes": "UPLOAD_MAX_BYTES",
            "upload_url_expiry_seconds": "UPLOAD_URL_EXPIRY_SECONDS",
            "local_endpoint": "AWS_ENDPOINT_URL",
        }
        return cls.model_validate({field: env[var] for field, var in names.items() if var in env})


@cache
def get_settings() -> Settings:
    return Settings.from_environ()
