"""The local stack reads functions, routes and resources from template.yaml and refuses drift."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from werkzeug.test import Client

from devtools.local_stack.gateway import Gateway, LoadedFunction, RouteMismatch, check_routes
from devtools.local_stack.template import Function, Route, Template

ORIGINAL_PATHS = {
    "POST /auth/signup",
    "POST /auth/login",
}


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load()


def test_every_function_declares_its_routes(template: Template) -> None:
    routes = {route.key for f in template.functions() for route in f.routes}

    assert routes >= ORIGINAL_PATHS
    assert {"GET /auth/me", "GET /users", "PATCH /users/{user_id}"} <= routes


def test_environment_intrinsics_resolve_to_local_names(template: Template) -> None:
    login = next(f for f in template.functions() if f.logical_id == "AuthLoginFunction")

    assert login.environment["USERS_TABLE"] == "media-platform-local-UsersTable"
    assert login.environment["JWT_SECRET_NAME"] == "media-platform-local-JwtSigningSecret"
    assert login.environment["TOKEN_ISSUER"] == "media-platform-dev"
    assert login.module == "functions.auth_login.app"


def test_path_variables_match_like_api_gateway() -> None:
    assert Route("GET", "/users/{user_id}").pattern().match("/users/abc")
    assert not Route("GET", "/users/{user_id}").pattern().match("/users/abc/def")
    assert Route("GET", "/files/{proxy+}").pattern().match("/files/a/b")


def _loaded(code_path: str, template_path: str) -> LoadedFunction:
    router = APIRouter()

    @router.get(code_path)
    async def route() -> None: ...

    app = FastAPI()
    app.include_router(router)
    spec = Function("SampleFunction", "functions/sample", "app.lambda_handler", {}, [Route("GET", template_path)])
    return LoadedFunction(spec=spec, app=app, handler=None)


def test_matching_routes_pass() -> None:
    check_routes([_loaded("/things/{thing_id}", "/things/{thing_id}")])


def test_a_route_only_in_code_or_only_in_the_template_fails_loudly() -> None:
    with pytest.raises(RouteMismatch) as raised:
        Gateway([_loaded("/things", "/stuff")])

    assert "GET /things is in the code but not in template.yaml" in str(raised.value)
    assert "GET /stuff is in template.yaml but not in the code" in str(raised.value)


def test_static_paths_win_over_variables() -> None:
    specific, general = _loaded("/media/upload", "/media/upload"), _loaded("/media/{media_id}", "/media/{media_id}")
    gateway = Gateway([general, specific])

    matched = gateway.match("GET", "/media/upload")

    assert matched is not None and matched[1] is specific


def test_docs_load_swagger_ui_from_the_gateway_not_a_cdn() -> None:
    client = Client(Gateway([_loaded("/things", "/things")]))

    html = client.get("/docs").get_data(as_text=True)
    script, stylesheet = client.get("/docs/swagger-ui-bundle.min.js"), client.get("/docs/swagger-ui.min.css")

    assert '<script src="/docs/swagger-ui-bundle.min.js">' in html
    assert 'href="/docs/swagger-ui.min.css"' in html
    assert "https://" not in html
    assert script.status_code == 200 and script.mimetype == "text/javascript" and b"SwaggerUIBundle" in script.data
    assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css" and b".swagger-ui" in stylesheet.data
