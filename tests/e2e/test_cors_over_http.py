"""Over HTTP, the local API answers CORS as the HTTP API does, and a page of the stack's own origin, under either name
of the loopback address, may call the API and upload to the bucket."""

from __future__ import annotations

import httpx
import pytest

from devtools.local_stack import LocalStack
from tests.e2e.test_uploads_over_http import bucket

OTHER = "https://elsewhere.example"


def _own(local_stack: LocalStack, host: str) -> str:
    return f"http://{host}:{local_stack.api_port}"


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_a_preflight_from_the_stacks_own_origin_is_allowed(
    api: httpx.Client, local_stack: LocalStack, host: str
) -> None:
    origin = _own(local_stack, host)

    response = api.options(
        "/media",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        },
    )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == origin
    assert "POST" in response.headers["access-control-allow-methods"].split(",")
    assert response.headers["access-control-allow-headers"].lower() == "authorization,content-type,idempotency-key"
    assert response.headers["access-control-max-age"] == "600"


def test_a_preflight_from_another_origin_gets_no_cors_headers(api: httpx.Client) -> None:
    response = api.options("/media", headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"})

    assert response.status_code == 204
    assert _cors_headers(response) == {}


@pytest.mark.parametrize(("host", "allowed"), [("localhost", True), ("127.0.0.1", True), (None, False)])
def test_answers_carry_cors_headers_only_for_an_allowed_origin(
    api: httpx.Client, local_stack: LocalStack, host: str | None, allowed: bool
) -> None:
    origin = _own(local_stack, host) if host else OTHER

    refused = api.get("/auth/me", headers={"Origin": origin})
    login = api.post(
        "/auth/login", json={"email": "nobody@example.com", "password": "x" * 12}, headers={"Origin": origin}
    )

    for response in (refused, login):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert _cors_headers(response) == ({"access-control-allow-origin": origin} if allowed else {})


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_the_bucket_lets_the_stacks_own_origin_upload(local_stack: LocalStack, host: str) -> None:
    origin = _own(local_stack, host)

    preflight = httpx.options(
        f"{local_stack.aws_url}/{bucket(local_stack)}/uploads/x",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )

    assert preflight.headers.get("access-control-allow-origin") == origin
