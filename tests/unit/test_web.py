"""The one error mapping: every failure is RFC 9457 problem+json, and an unexpected one is a generic 500."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

import pytest
from fastapi import APIRouter, Query
from fastapi.testclient import TestClient
from mangum.handlers import HTTPGateway
from pydantic import BaseModel, Field
from starlette.requests import Request

from media_platform.errors import Conflict, ServiceBusy
from media_platform.models import CompleteUpload, UpdateMedia
from media_platform.web import (
    QueryParameters,
    body_document,
    build_app,
    json_body,
    lambda_entry,
    public_base_url,
)
from tests.support import FakeContext, load_event

router = APIRouter()


class Body(BaseModel):
    name: str


@router.post("/conflict")
async def conflict() -> None:
    raise Conflict("It exists already.")


@router.post("/busy")
async def busy() -> None:
    raise ServiceBusy("Busy.", retry_after=3)


@router.post("/boom")
async def boom() -> None:
    raise RuntimeError("secret internal detail")


@router.post("/echo")
async def echo(body: Body) -> Body:
    return body


client = TestClient(build_app(router), raise_server_exceptions=False)


def test_domain_errors_become_problems_with_their_status() -> None:
    response = client.post("/conflict")

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://media-platform.dev/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "It exists already.",
    }


def test_busy_carries_retry_after() -> None:
    response = client.post("/busy")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "3"


def test_validation_errors_list_the_fields() -> None:
    response = client.post("/echo", json={"nom": 1})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["body.name"]


def test_unknown_routes_are_problems_too() -> None:
    response = client.get("/nowhere")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_unexpected_errors_are_a_generic_500_whose_correlation_id_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    handler = lambda_entry(build_app(router))
    event = load_event("auth_signup")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/boom"

    result = handler(event, FakeContext())

    body = json.loads(result["body"])
    assert result["statusCode"] == 500
    assert result["headers"]["content-type"] == "application/problem+json"
    assert "secret internal detail" not in result["body"]
    assert body["correlation_id"] == event["requestContext"]["requestId"]
    record = next(r for r in caplog.records if r.getMessage() == "Unhandled error")
    assert record.__dict__["correlation_id"] == body["correlation_id"]
    assert record.exc_info is not None and "secret internal detail" in str(record.exc_info[1])


@pytest.mark.parametrize(
    ("stage", "path", "status"),
    [
        ("dev", "/dev/conflict", 409),  # a named stage on the execute-api host prefixes the path
        ("prod", "/prod/conflict", 409),
        ("$default", "/conflict", 409),
        ("prod", "/conflict", 409),  # a custom domain's mapping: no prefix to strip
        ("dev", "/development/conflict", 404),  # only a whole path segment is the stage
    ],
)
def test_a_route_is_reached_under_any_stage(stage: str, path: str, status: int) -> None:
    handler = lambda_entry(build_app(router))
    event = load_event("auth_signup")
    event["requestContext"]["stage"] = stage
    event["rawPath"] = event["requestContext"]["http"]["path"] = path

    result = handler(event, FakeContext())

    assert result["statusCode"] == status, result


def test_each_request_builds_its_asgi_scope_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Mangum's own HTTP API handler builds the scope (every header copied and encoded) twice per request.
    built: list[str] = []
    mangums = vars(HTTPGateway)["scope"].fget

    def counted(self: HTTPGateway) -> Any:
        built.append(self.event["rawPath"])
        return mangums(self)

    monkeypatch.setattr(HTTPGateway, "scope", property(counted))
    handler = lambda_entry(build_app(router))
    event = load_event("auth_signup")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/conflict"

    result = handler(event, FakeContext())

    assert result["statusCode"] == 409
    assert built == ["/conflict"]


def event_request(headers: dict[str, str], **context: Any) -> Request:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    event = {"requestContext": {"domainName": "localhost", "stage": "$default", **context}}
    return Request({"type": "http", "headers": raw, "aws.event": event})


@pytest.mark.parametrize(
    ("headers", "context", "expected"),
    [
        (
            {"x-forwarded-proto": "https"},
            {"domainName": "media.example.com", "stage": "prod"},
            "https://media.example.com",
        ),
        (
            {"x-forwarded-proto": "https"},
            {"domainName": "abc.execute-api.us-east-1.amazonaws.com", "stage": "dev"},
            "https://abc.execute-api.us-east-1.amazonaws.com/dev",
        ),
        (
            {"x-forwarded-proto": "https"},
            {"domainName": "abc.execute-api.us-east-1.amazonaws.com", "stage": "$default"},
            "https://abc.execute-api.us-east-1.amazonaws.com",
        ),
        ({"x-forwarded-proto": "http"}, {"domainName": "127.0.0.1:3000"}, "http://127.0.0.1:3000"),
        ({"x-forwarded-proto": "javascript"}, {"domainName": "media.example.com"}, "https://media.example.com"),
        ({}, {"domainName": "media.example.com"}, "https://media.example.com"),
    ],
)
def test_the_base_url_is_the_host_and_stage_the_caller_reached(
    headers: dict[str, str], context: dict[str, str], expected: str
) -> None:
    assert public_base_url(event_request(headers, **context)) == expected


def test_a_functions_app_matches_its_own_routes_with_no_router_layer_between() -> None:
    # An included router is matched through a layer of FastAPI's own on every request (bench: about a tenth of a
    # warm request); the app holds the router's routes themselves, and every one still answers.
    app = build_app(router)

    assert app.router.routes == router.routes
    assert client.post("/echo", json={"name": "x"}).json() == {"name": "x"}


# QueryParameters: read in one validation, documented and refused as FastAPI would for declared parameters.


class Window(QueryParameters):
    first: date | None = Field(None, alias="from", description="First day")
    limit: int = Field(20, ge=1, le=100)
    cursor: str | None = Field(None, max_length=8, description="Opaque")
    status: Literal["ready", "failed"] | None = None


declared = APIRouter()


@declared.get("/fastapi")
async def by_fastapi(
    first: Annotated[date | None, Query(alias="from", description="First day")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=8, description="Opaque")] = None,
    status: Literal["ready", "failed"] | None = None,
) -> dict[str, Any]:
    return {"from": first, "limit": limit, "cursor": cursor, "status": status}


@declared.get("/model", openapi_extra=Window.openapi())
async def by_model(request: Request) -> dict[str, Any]:
    window = Window.read(request)
    return {"from": window.first, "limit": window.limit, "cursor": window.cursor, "status": window.status}


declared_client = TestClient(build_app(declared), raise_server_exceptions=False)


def test_query_parameters_are_documented_as_fastapi_documents_declared_ones() -> None:
    paths = declared_client.app.openapi()["paths"]  # type: ignore[attr-defined]

    assert paths["/model"]["get"]["parameters"] == paths["/fastapi"]["get"]["parameters"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "from=2026-01-31&limit=5&cursor=abc&status=ready",
        "limit=5&limit=7",  # repeated: the last value
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=",
        "from=2026-02-30",
        "cursor=123456789",
        "status=deleted",
        "status=ready&other=ignored",
        "limit=abc&from=x&status=y",
    ],
)
def test_query_parameters_answer_and_refuse_as_fastapi_does(query: str) -> None:
    by_model = declared_client.get(f"/model?{query}")
    by_fastapi = declared_client.get(f"/fastapi?{query}")

    assert (by_model.status_code, by_model.headers["content-type"]) == (
        by_fastapi.status_code,
        by_fastapi.headers["content-type"],
    )
    assert by_model.json() == by_fastapi.json()


# json_body: read in one validation, documented and refused as FastAPI would for a declared body.

bodies = APIRouter()


@bodies.post("/fastapi")
async def body_by_fastapi(body: CompleteUpload) -> dict[str, Any]:
    return body.model_dump()


@bodies.post("/model", openapi_extra=body_document(CompleteUpload))
async def body_by_model(request: Request) -> dict[str, Any]:
    return (await json_body(request, CompleteUpload)).model_dump()


@bodies.patch("/fastapi")
async def patch_by_fastapi(body: UpdateMedia) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True)


@bodies.patch("/model", openapi_extra=body_document(UpdateMedia))
async def patch_by_model(request: Request) -> dict[str, Any]:
    return (await json_body(request, UpdateMedia)).model_dump(exclude_unset=True)


bodies_client = TestClient(build_app(bodies), raise_server_exceptions=False)
PARTS = b'{"parts": [{"part_number": 1, "etag": "\\"abc\\""}]}'


def test_a_body_is_documented_as_fastapi_documents_a_declared_one() -> None:
    document = bodies_client.app.openapi()  # type: ignore[attr-defined]
    for method in ("post", "patch"):
        operations = document["paths"]
        assert operations["/model"][method]["requestBody"] == operations["/fastapi"][method]["requestBody"]
    fastapi_only = TestClient(
        build_app(APIRouter(routes=[r for r in bodies.routes if getattr(r, "path", None) == "/fastapi"]))
    )
    assert document["components"] == fastapi_only.app.openapi()["components"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", PARTS),
        ("application/json; charset=utf-8", PARTS),
        ("Application/JSON", PARTS),
        ("application/merge-patch+json", b'{"title": "New"}'),
        ("application/json", b'{"title": null}'),
        ("application/json", b'{"description": null}'),
        ("application/json", b"{}"),
        ("application/json", b'{"parts": [{"part_number": 1.0, "etag": "x"}]}'),
        ("application/json", b'{"parts": "x", "extra": 1}'),
        ("application/json", b"null"),
        ("application/json", b"[1, 2]"),
        ("application/json", b"{"),
        ("application/json", b"\xff\xfe{\x00"),
        ("application/json", b"\xc3\x28"),
        ("application/json", b""),
        ("text/plain", PARTS),
        ("multipart/form-data; boundary=x", PARTS),
        ("json", PARTS),
        (None, PARTS),
        (None, b""),
    ],
)
def test_a_body_is_answered_and_refused_as_fastapi_does(method: str, content_type: str | None, body: bytes) -> None:
    headers = {"content-type": content_type} if content_type else {}
    by_model = bodies_client.request(method, "/model", content=body, headers=headers)
    by_fastapi = bodies_client.request(method, "/fastapi", content=body, headers=headers)

    assert (by_model.status_code, by_model.headers.get("content-type")) == (
        by_fastapi.status_code,
        by_fastapi.headers.get("content-type"),
    )
    assert by_model.json() == by_fastapi.json()
