"""The gateway answers CORS as the HTTP API does with template.yaml's CorsConfiguration: it answers preflights itself,
and only an allowed origin gets CORS headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from werkzeug.test import Client

from devtools.local_stack import resources
from devtools.local_stack.cors import CorsConfig
from devtools.local_stack.gateway import Gateway, LoadedFunction
from devtools.local_stack.template import TEMPLATE, Function, Route, Template, load_template

LOCALHOST, LOOPBACK, OTHER = "http://localhost:3000", "http://127.0.0.1:3000", "https://elsewhere.example"


def _function(answer: dict[str, Any]) -> LoadedFunction:
    """A function behind GET and POST /things whose handler gives `answer`."""
    app = FastAPI()

    @app.get("/things")
    async def list_things() -> None: ...

    @app.post("/things")
    async def add_thing() -> None: ...

    routes = [Route("GET", "/things"), Route("POST", "/things")]
    spec = Function("ThingsFunction", "functions/things", "app.lambda_handler", {}, routes)
    return LoadedFunction(spec=spec, app=app, handler=lambda event, context: answer)


def _gateway(cors: CorsConfig | None, answer: dict[str, Any] | None = None) -> Client:
    answer = answer or {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{}"}
    return Client(Gateway([_function(answer)], cors=cors))


@pytest.fixture(scope="module")
def local_template() -> Template:
    template = Template.load()
    template.allow_origins([LOCALHOST, LOOPBACK])  # what the local stack on port 3000 does
    return template


@pytest.fixture(scope="module")
def client(local_template: Template) -> Client:
    return _gateway(local_template.http_api_cors())


def _preflight(client: Client, origin: str, method: str = "POST", headers: str = "") -> Any:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options("/things", headers=request_headers)


def _cors_headers(response: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def test_the_config_comes_from_the_template() -> None:
    cors = Template.load().http_api_cors()

    assert cors is not None
    assert cors.allow_origins == ("http://localhost:3000",)  # the CorsAllowedOrigins parameter's default
    assert cors.allow_methods == ("GET", "POST", "PATCH", "DELETE", "OPTIONS")
    assert cors.allow_headers == ("Authorization", "Content-Type", "Idempotency-Key")
    assert (cors.max_age, cors.expose_headers, cors.allow_credentials) == (600, (), False)


@pytest.mark.parametrize("origin", [LOCALHOST, LOOPBACK])
def test_a_preflight_from_an_allowed_origin_gets_204_with_the_configured_headers(client: Client, origin: str) -> None:
    response = _preflight(client, origin, "POST", "content-type,authorization")

    assert response.status_code == 204
    assert response.get_data() == b"" and "Content-Type" not in response.headers
    assert _cors_headers(response) == {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "GET,POST,PATCH,DELETE,OPTIONS",
        "access-control-allow-headers": "Authorization,Content-Type,Idempotency-Key",
        "access-control-max-age": "600",
    }
    assert response.headers["Vary"] == "Origin"


def test_preflight_headers_match_in_any_case(client: Client) -> None:
    response = _preflight(client, LOCALHOST, "PATCH", "AUTHORIZATION, Idempotency-KEY")

    assert response.headers["Access-Control-Allow-Origin"] == LOCALHOST


def test_a_preflight_from_another_origin_gets_no_cors_headers(client: Client) -> None:
    response = _preflight(client, OTHER, "POST", "content-type")

    assert response.status_code == 204
    assert _cors_headers(response) == {}


@pytest.mark.parametrize(("method", "headers"), [("PUT", ""), ("POST", "content-type,x-not-allowed")])
def test_a_preflight_for_a_method_or_header_not_allowed_gets_no_cors_headers(
    client: Client, method: str, headers: str
) -> None:
    response = _preflight(client, LOCALHOST, method, headers)

    assert response.status_code == 204
    assert _cors_headers(response) == {}


def test_the_gateway_answers_a_preflight_even_where_no_route_matches(client: Client) -> None:
    # AWS: with CORS configured, API Gateway answers preflights even when no OPTIONS route is configured.
    response = client.options("/nowhere", headers={"Origin": LOCALHOST, "Access-Control-Request-Method": "GET"})

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == LOCALHOST


def test_an_options_request_that_is_no_preflight_goes_to_routing(client: Client) -> None:
    response = client.options("/things", headers={"Origin": LOCALHOST})

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(("origin", "allowed"), [(LOCALHOST, True), (LOOPBACK, True), (OTHER, False)])
def test_an_actual_response_carries_cors_headers_only_for_an_allowed_origin(
    client: Client, method: str, origin: str, allowed: bool
) -> None:
    response = client.open("/things", method=method, headers={"Origin": origin})

    assert response.status_code == 200
    if allowed:
        assert _cors_headers(response) == {"access-control-allow-origin": origin}
        assert response.headers["Vary"] == "Origin"
    else:
        assert _cors_headers(response) == {}
        assert "Vary" not in response.headers


def test_a_request_without_origin_gets_no_cors_headers(client: Client) -> None:
    assert _cors_headers(client.get("/things")) == {}


def test_cors_headers_from_a_function_are_ignored_like_api_gateway_does() -> None:
    cors = CorsConfig(allow_origins=(LOCALHOST,), allow_methods=("GET",))
    answer = {"statusCode": 200, "headers": {"access-control-allow-origin": "*", "x-kept": "1"}, "body": ""}
    client = _gateway(cors, answer)

    to_other = client.get("/things", headers={"Origin": OTHER})
    to_allowed = client.get("/things", headers={"Origin": LOCALHOST})

    assert _cors_headers(to_other) == {} and to_other.headers["x-kept"] == "1"
    assert to_allowed.headers.getlist("Access-Control-Allow-Origin") == [LOCALHOST]


def test_without_a_cors_configuration_the_gateway_adds_nothing() -> None:
    client = _gateway(None)

    assert _cors_headers(client.get("/things", headers={"Origin": LOCALHOST})) == {}
    assert _preflight(client, LOCALHOST).status_code == 404


@pytest.mark.parametrize(
    ("allow_origins", "origin", "expected"),
    [
        (("*",), OTHER, "*"),
        (("https://*",), OTHER, OTHER),
        (("https://*",), LOCALHOST, None),
        (("http://*",), LOCALHOST, LOCALHOST),
        ((LOCALHOST,), "http://localhost:3001", None),
        ((LOCALHOST,), None, None),
    ],
)
def test_origins_match_exactly_or_by_the_documented_wildcards(
    allow_origins: tuple[str, ...], origin: str | None, expected: str | None
) -> None:
    assert CorsConfig(allow_origins=allow_origins).allow_origin_value(origin) == expected


def test_wildcard_methods_and_headers_allow_any_and_echo_the_requested_headers() -> None:
    client = _gateway(CorsConfig(allow_origins=(LOCALHOST,), allow_methods=("*",), allow_headers=("*",)))

    response = _preflight(client, LOCALHOST, "PUT", "x-anything")

    assert response.headers["Access-Control-Allow-Methods"] == "*"
    assert response.headers["Access-Control-Allow-Headers"] == "x-anything"


def test_a_change_to_the_templates_cors_changes_what_the_gateway_answers(tmp_path: Path) -> None:
    # Given a copy of template.yaml whose HTTP API allows another origin, one header more, exposes headers,
    # allows credentials and caches preflights for a minute
    document = load_template(TEMPLATE)
    document["Parameters"]["CorsAllowedOrigins"]["Default"] = "https://app.example"
    cors = document["Resources"]["MediaApi"]["Properties"]["CorsConfiguration"]
    cors.update(AllowHeaders=[*cors["AllowHeaders"], "X-Trace"], ExposeHeaders=["ETag"], AllowCredentials=True)
    cors["MaxAge"] = 60
    copy = tmp_path / "template.yaml"
    copy.write_text(yaml.safe_dump(document))

    # When the gateway answers with the copy's configuration
    client = _gateway(Template.load(copy).http_api_cors())
    preflight = _preflight(client, "https://app.example", "POST", "x-trace")
    actual = client.get("/things", headers={"Origin": "https://app.example"})

    # Then it answers as the copy says, and the template's own origin is no longer allowed
    assert preflight.headers["Access-Control-Allow-Headers"] == "Authorization,Content-Type,Idempotency-Key,X-Trace"
    assert preflight.headers["Access-Control-Max-Age"] == "60"
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    assert _cors_headers(actual) == {
        "access-control-allow-origin": "https://app.example",
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "ETag",
    }
    assert _cors_headers(client.get("/things", headers={"Origin": LOCALHOST})) == {}


def test_the_stacks_own_origins_join_the_api_and_the_bucket_cors(local_template: Template) -> None:
    rule = local_template.resources["MediaBucket"]["Properties"]["CorsConfiguration"]["CorsRules"][0]
    api_cors = local_template.http_api_cors()

    assert api_cors is not None and api_cors.allow_origins == (LOCALHOST, LOOPBACK)
    assert resources._cors_rule(local_template, rule)["AllowedOrigins"] == [LOCALHOST, LOOPBACK]
