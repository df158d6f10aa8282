from __future__ import annotations

import pytest
from pydantic import ValidationError

from media_platform.models import RoleChange, SignupRequest


def test_emails_are_trimmed_and_lowercased() -> None:
    assert SignupRequest(email="  Ada@Example.COM ", password="12345678").email == "ada@example.com"


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com"])
def test_invalid_emails_are_refused(email: str) -> None:
    with pytest.raises(ValidationError, match="email"):
        SignupRequest(email=email, password="12345678")


@pytest.mark.parametrize(
    ("password", "message"),
    [("1234567", "at least 8 characters"), ("é" * 37, "at most 72 bytes"), ("x" * 73, "72")],
)
def test_passwords_outside_the_limits_are_refused_with_the_reason(password: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SignupRequest(email="ada@example.com", password=password)


def test_a_72_byte_password_is_accepted() -> None:
    assert SignupRequest(email="ada@example.com", password="é" * 36).password == "é" * 36


def test_request_models_forbid_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="extra"):
        SignupRequest.model_validate({"email": "ada@example.com", "password": "12345678", "role": "admin"})
    with pytest.raises(ValidationError):
        RoleChange.model_validate({"role": "root"})
