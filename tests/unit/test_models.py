from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from media_platform.models import (
    EMAIL_PATTERN,
    MAX_EMAIL_CHARS,
    MIN_PART_BYTES,
    CreateMedia,
    RoleChange,
    SignupRequest,
    UpdateMedia,
    normalize_email,
)
from media_platform.settings import get_settings
from media_platform.sniffing import ALLOWED_CONTENT_TYPES
from tests.support import served_openapi


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


# The OpenAPI document states what the models enforce: read from the functions' own apps, as the local stack serves it.


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return served_openapi()


def body_schema(document: dict[str, Any], operation: str, media_type: str = "application/json") -> dict[str, Any]:
    method, path = operation.split(" ")
    schema: dict[str, Any] = document["paths"][path][method.lower()]["requestBody"]["content"][media_type]["schema"]
    return resolved(document, schema)


def resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def parameter_schema(document: dict[str, Any], operation: str, name: str) -> dict[str, Any]:
    """An optional parameter's schema without FastAPI's `null` branch (a missing parameter is not sent as null)."""
    method, path = operation.split(" ")
    [parameter] = [p for p in document["paths"][path][method.lower()]["parameters"] if p["name"] == name]
    schema: dict[str, Any] = parameter["schema"]
    return next((branch for branch in schema.get("anyOf", []) if branch != {"type": "null"}), schema)


@pytest.mark.parametrize(
    ("operation", "field", "stated"),
    [
        ("POST /auth/signup", "email", {"format": "email", "maxLength": 254, "pattern": EMAIL_PATTERN}),
        ("POST /auth/signup", "password", {"type": "string", "minLength": 8, "maxLength": 72}),
        ("POST /auth/login", "email", {"type": "string", "maxLength": 320}),
        ("POST /auth/login", "password", {"type": "string", "maxLength": 1024}),
        ("POST /media", "title", {"type": "string", "minLength": 1, "maxLength": 200}),
        ("POST /media", "filename", {"type": "string", "minLength": 1, "maxLength": 255}),
        ("POST /media", "content_type", {"type": "string", "enum": sorted(ALLOWED_CONTENT_TYPES)}),
        ("POST /media", "size_bytes", {"type": "integer", "exclusiveMinimum": 0, "maximum": 50 * 1024**3}),
        ("POST /media", "multipart", {"type": "boolean"}),
        ("PATCH /media/{media_id}", "title", {"type": "string", "minLength": 1, "maxLength": 200}),
        ("POST /media/{media_id}/upload/complete", "parts", {"type": "array", "minItems": 1, "maxItems": 10000}),
    ],
)
def test_the_document_states_each_field_constraint(
    document: dict[str, Any], operation: str, field: str, stated: dict[str, Any]
) -> None:
    schema = body_schema(document, operation)

    assert schema["additionalProperties"] is False
    assert stated.items() <= schema["properties"][field].items()


def test_descriptions_are_at_most_5000_characters_and_may_be_null(document: dict[str, Any]) -> None:
    for operation in ("POST /media", "PATCH /media/{media_id}"):
        assert body_schema(document, operation)["properties"]["description"]["anyOf"] == [
            {"type": "string", "maxLength": 5000},
            {"type": "null"},
        ]


def test_an_edit_may_leave_the_title_out_but_never_null_it(document: dict[str, Any]) -> None:
    schema = body_schema(document, "PATCH /media/{media_id}")

    assert "anyOf" not in schema["properties"]["title"] and "default" not in schema["properties"]["title"]
    assert "title" not in schema.get("required", [])
    assert schema["minProperties"] == 1


def test_a_multipart_upload_is_stated_to_need_at_least_5_mib(document: dict[str, Any]) -> None:
    assert body_schema(document, "POST /media")["allOf"] == [
        {
            "if": {"properties": {"multipart": {"const": True}}, "required": ["multipart"]},
            "then": {"properties": {"size_bytes": {"minimum": MIN_PART_BYTES}}},
        }
    ]


def test_the_parts_of_an_upload_are_stated(document: dict[str, Any]) -> None:
    part = resolved(document, body_schema(document, "POST /media/{media_id}/upload/complete")["properties"]["parts"])
    part = resolved(document, part["items"])

    assert {"type": "integer", "minimum": 1, "maximum": 10000}.items() <= part["properties"]["part_number"].items()
    assert {"type": "string", "minLength": 1, "maxLength": 200}.items() <= part["properties"]["etag"].items()


def test_the_login_form_has_the_json_bodys_limits_and_nothing_else(document: dict[str, Any]) -> None:
    form = body_schema(document, "POST /auth/login", "application/x-www-form-urlencoded")

    assert form["properties"]["username"]["maxLength"] == 320
    assert form["properties"]["password"]["maxLength"] == 1024
    assert form["additionalProperties"] is False


@pytest.mark.parametrize(
    ("operation", "name", "stated"),
    [
        ("GET /media", "limit", {"type": "integer", "minimum": 1, "maximum": 100}),
        ("GET /media", "cursor", {"type": "string", "maxLength": 2048}),
        ("GET /users", "limit", {"type": "integer", "minimum": 1, "maximum": 100}),
        ("GET /users", "cursor", {"type": "string", "maxLength": 2048}),
        ("POST /media", "idempotency-key", {"type": "string", "minLength": 1, "maxLength": 255}),
        ("PATCH /users/{user_id}", "user_id", {"type": "string", "format": "uuid"}),
    ],
)
def test_the_document_states_each_parameter_constraint(
    document: dict[str, Any], operation: str, name: str, stated: dict[str, Any]
) -> None:
    assert stated.items() <= parameter_schema(document, operation, name).items()


@pytest.mark.parametrize(
    ("operation", "refusals"),
    [
        ("POST /auth/signup", {403, 409}),
        ("POST /auth/login", {401, 429}),
        ("POST /media", {401, 403, 409}),
        ("PATCH /media/{media_id}", {401, 403, 404, 409}),
        ("DELETE /media/{media_id}", {401, 403, 404}),
        ("POST /media/{media_id}/upload/complete", {401, 403, 404, 409}),
        ("DELETE /media/{media_id}/upload", {401, 403, 404, 409}),
        ("PATCH /users/{user_id}", {401, 403, 404, 409}),
    ],
)
def test_the_refusals_that_depend_on_state_are_documented(
    document: dict[str, Any], operation: str, refusals: set[int]
) -> None:
    method, path = operation.split(" ")

    assert refusals <= {int(status) for status in document["paths"][path][method.lower()]["responses"]}


# Where the server's check and the schema's words differ, what the schema admits the server accepts.


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(EMAIL_PATTERN, fullmatch=True).filter(lambda email: len(email) <= MAX_EMAIL_CHARS))
def test_every_email_the_pattern_admits_is_accepted_as_sent(email: str) -> None:
    assert normalize_email(email) == email.lower()


@pytest.mark.parametrize(
    "email",
    [
        "ada\u200b@example.com",  # invisible
        "ada\x00@example.com",  # control
        "<ada>@example.com",  # markup
        "ada\uff20example.com",  # a full-width @ that NFKC makes a second one
        "ada@example.",  # no dot left once the trailing one goes
        " ada@example.com",
    ],
)
def test_the_pattern_refuses_what_the_server_refuses_or_rewrites(email: str) -> None:
    assert re.fullmatch(EMAIL_PATTERN, email) is None


def test_the_server_still_accepts_more_than_the_pattern_states() -> None:
    assert normalize_email("  José@Exämple.COM. ") == "josé@exämple.com"


def test_the_title_of_an_edit_may_be_left_out_but_not_nulled() -> None:
    assert UpdateMedia.model_validate({"description": None}).model_dump(exclude_unset=True) == {"description": None}
    with pytest.raises(ValidationError) as refused:
        UpdateMedia.model_validate({"title": None})
    assert [error["loc"] for error in refused.value.errors()] == [("title",)]


@pytest.mark.parametrize("content_type", sorted(ALLOWED_CONTENT_TYPES))
def test_every_content_type_stated_is_accepted_in_any_case(content_type: str) -> None:
    for spelling in (content_type, f" {content_type.upper()} "):
        assert CreateMedia(title="t", filename="f", content_type=spelling, size_bytes=1).content_type == content_type


def test_the_stated_size_limits_follow_the_deployments_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPLOAD_MAX_BYTES", "1000000000")
    monkeypatch.setenv("UPLOAD_POST_MAX_BYTES", str(MIN_PART_BYTES - 1))
    get_settings.cache_clear()

    schema = CreateMedia.model_json_schema()

    assert schema["properties"]["size_bytes"]["maximum"] == 1_000_000_000
    implied = {"properties": {"size_bytes": {"exclusiveMinimum": MIN_PART_BYTES - 1}}}
    assert implied in [rule["if"] for rule in schema["allOf"]]


@pytest.mark.parametrize("size", [12.0, "12", True])
def test_sizes_are_json_integers_as_the_description_says(size: Any) -> None:
    assert "12.0" in CreateMedia.model_json_schema()["properties"]["size_bytes"]["description"]
    with pytest.raises(ValidationError):
        CreateMedia.model_validate({"title": "t", "filename": "f", "content_type": "video/mp4", "size_bytes": size})
