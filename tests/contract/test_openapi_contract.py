"""schemathesis over every operation of the OpenAPI document that the local stack serves: no 500s, only documented
status codes and content types, and authentication enforced. Bounded examples and a fixed seed keep it repeatable."""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from devtools.local_stack import LocalStack
from devtools.local_stack.gateway import LoadedFunction, merged_openapi
from devtools.local_stack.template import Template


def _document() -> dict[str, object]:
    """The same merged document the local stack serves at /openapi.json, built without starting it."""
    functions = [LoadedFunction.load(f) for f in Template.load().functions()]
    return merged_openapi(functions, "Media Platform API")


schema = schemathesis.openapi.from_dict(_document())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
]


@schema.parametrize()
@settings(max_examples=12, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_its_contract(
    case: schemathesis.Case,  # type: ignore[type-arg]
    local_stack: LocalStack,
    admin_token: str,
) -> None:
    case.call_and_validate(
        base_url=local_stack.api_url, headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS
    )


def test_the_tested_document_is_the_one_served(api: httpx.Client) -> None:
    assert api.get("/openapi.json").json()["paths"] == schema.raw_schema["paths"]
