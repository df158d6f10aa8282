"""schemathesis over every operation of the OpenAPI document that the local stack serves: no 500s, only documented
status codes and content types, authentication enforced, and requests valid by the schema accepted (or refused only
with a status the operation documents for state, such as 403, 404 or 409). Bounded examples and a fixed seed keep it
repeatable."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from devtools.local_stack import LocalStack
from media_platform.models import MAX_PASSWORD_BYTES
from media_platform.web import TYPE_BASE
from tests.support import served_openapi

# Refused because of state, which no schema can describe: a cursor this listing never issued, an Idempotency-Key
# already used with another body (a 422, as the IETF Idempotency-Key draft asks). Both are in the descriptions.
STATE_REFUSALS = {"query.cursor", "header.idempotency-key"}
# A date range that is reversed or longer than 366 days: a rule across two parameters, which no schema can say; the
# parameters' descriptions state it.
RANGE_REFUSALS = {"query.from", "query.to"}


def _sent(case: schemathesis.Case, field: str) -> Any:  # type: ignore[type-arg]
    """The value a problem's `field` (`body.parts.0.part_number`) names in the request that was sent."""
    location, *path = field.split(".")
    value: Any = case.body if location == "body" else None
    for step in path:
        value = value[int(step)] if isinstance(value, list) else value[step]
    return value


def _refused_beyond_any_schema(case: schemathesis.Case, response: Response) -> bool:  # type: ignore[type-arg]
    """A 422 for what the schema cannot say, each case stated in the document's descriptions: a refusal for state,
    a reversed or too long date range, a password over 72 bytes of UTF-8 (`maxLength` counts characters), or an
    integer sent as `12.0` (which JSON Schema's `integer` admits and the strict fields refuse)."""
    if response.status_code != 422:
        return False
    problem = response.json()
    errors = problem.get("errors") or []

    def explained(error: dict[str, str]) -> bool:
        if problem["type"] == TYPE_BASE + "invalid-input":
            return error["field"] in STATE_REFUSALS | RANGE_REFUSALS
        if error["field"] == "body.password":
            return len(str(_sent(case, error["field"])).encode()) > MAX_PASSWORD_BYTES
        if error["type"] == "int_type" and error["field"].startswith("body."):
            value = _sent(case, error["field"])
            return isinstance(value, float) and value.is_integer()
        return False

    return bool(errors) and all(explained(error) for error in errors)


def valid_requests_are_accepted(ctx: CheckContext, response: Response, case: schemathesis.Case) -> bool | None:  # type: ignore[type-arg]
    """schemathesis's positive-data check, less the refusals that no schema can foresee."""
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and _refused_beyond_any_schema(case, response):
        return None
    return positive_data_acceptance(ctx, response, case)


schema = schemathesis.openapi.from_dict(served_openapi())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
    valid_requests_are_accepted,
]
LEAVER = {"email": "leaver@example.com", "password": "leaver password"}


@pytest.fixture(scope="session")
def leaver(api: httpx.Client) -> dict[str, str]:
    """The account whose sessions the logout operation ends: the admin's must outlive it for the other operations."""
    assert api.post("/auth/signup", json=LEAVER).status_code == 201
    return LEAVER


def _token(api: httpx.Client, account: dict[str, str]) -> str:
    return str(api.post("/auth/login", json=account).json()["access_token"])


@schema.parametrize()
@settings(max_examples=12, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_its_contract(
    case: schemathesis.Case,  # type: ignore[type-arg]
    local_stack: LocalStack,
    admin_token: str,
    api: httpx.Client,
    leaver: dict[str, str],
) -> None:
    token = _token(api, leaver) if case.operation.path == "/auth/logout" else admin_token
    case.call_and_validate(base_url=local_stack.api_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def test_the_run_was_signed_in_throughout(api: httpx.Client, admin_token: str) -> None:
    """Had an operation ended the admin's session, every later one would have been checked on its 401 alone."""
    assert api.get("/auth/me", headers={"Authorization": f"Bearer {admin_token}"}).status_code == 200


def test_the_tested_document_is_the_one_served(api: httpx.Client) -> None:
    assert api.get("/openapi.json").json()["paths"] == schema.raw_schema["paths"]
