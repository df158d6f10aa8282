"""An API Gateway HTTP API in miniature: sends each request to the function that template.yaml maps its method and
path to, as a payload-v2 event through the function's real Lambda handler, answers CORS as the HTTP API's
`CorsConfiguration` says, and serves /docs for the whole API (Swagger UI's files from Powertools: no CDN)."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from werkzeug.wrappers import Request, Response

from devtools.local_stack.cors import CorsConfig, is_preflight
from devtools.local_stack.environ import restored
from devtools.local_stack.iam import acting_as
from devtools.local_stack.template import ROOT, Function, Route

_thread_state = threading.local()
# os.environ is the process's: functions take turns, each with its own variables set.
_one_at_a_time = threading.RLock()
_function_variables: set[str] = set()  # every variable a loaded function's template environment names

# Swagger UI's script and stylesheet as Powertools ships them, served by the gateway so /docs works offline.
SWAGGER_UI_FILES = {
    "/docs/swagger-ui-bundle.min.js": ("swagger-ui-bundle.min.js", "text/javascript; charset=utf-8"),
    "/docs/swagger-ui.min.css": ("swagger-ui.min.css", "text/css; charset=utf-8"),
}
_SWAGGER_UI_PACKAGE = "aws_lambda_powertools.event_handler.openapi.swagger_ui"


class RouteMismatch(RuntimeError):
    """A route exists in a function's code but not in template.yaml, or the reverse."""


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    aws_request_id: str
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class LoadedFunction:
    spec: Function
    app: FastAPI | None  # None for functions driven by queues or schedules
    handler: Any

    @classmethod
    def load(cls, spec: Function) -> LoadedFunction:
        """A cold start: the handler's module imported afresh with only the function's own environment, so a
        function whose template entry lacks a variable it requires at init fails here as it would on AWS."""
        try:
            with own_environment(spec):
                module = _cold_import(spec)
        except Exception as error:
            error.add_note(f"while loading {spec.logical_id} ({spec.code_uri}) with its environment from template.yaml")
            raise
        return cls(spec=spec, app=getattr(module, "app", None), handler=getattr(module, spec.attribute))

    def openapi(self) -> dict[str, Any]:
        """The function's OpenAPI document, built (once) in its own environment: it states limits from settings."""
        if self.app is None:
            return {}
        with own_environment(self.spec):
            return self.app.openapi()

    def code_routes(self) -> set[Route]:
        # Read from the OpenAPI document: it lists every operation, however routers are nested.
        paths = self.openapi().get("paths", {})
        return {Route(method.upper(), path) for path, operations in paths.items() for method in operations}

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        # Mangum runs the app on the thread's event loop; server threads have none until we give them one.
        if not hasattr(_thread_state, "loop"):
            _thread_state.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(_thread_state.loop)
        request_id = event.get("requestContext", {}).get("requestId") or str(uuid.uuid4())
        context = LambdaContext(self.spec.logical_id, self.spec.memory_mb, request_id)
        from media_platform import clients

        # As this function: the IAM check holds its AWS calls to its own policy, its secrets are cached apart.
        with (
            own_environment(self.spec),
            acting_as(self.spec.logical_id),
            clients.execution_environment(self.spec.logical_id),
        ):
            result: dict[str, Any] = self.handler(event, context)
        return result


@contextmanager
def own_environment(spec: Function) -> Iterator[None]:
    """While the block runs, the function's variables from template.yaml (Globals and its own) are set and any other
    function's are not, as on Lambda, where each function has only its own: a variable missing from its template entry
    fails here too. The settings are read afresh on the way in and out. The environment is the process's, so the
    stack serves one invocation at a time (a login's bcrypt holds the others for ~0.3 s); the handler tests, which
    call handlers directly, still exercise the races."""
    from media_platform.settings import get_settings

    with _one_at_a_time:
        _function_variables.update(spec.environment)
        with restored(list(_function_variables)):
            for name in _function_variables.difference(spec.environment):
                os.environ.pop(name, None)
            os.environ.update(spec.environment)
            get_settings.cache_clear()
            try:
                yield
            finally:
                get_settings.cache_clear()


def _cold_import(spec: Function) -> Any:
    """Executes the handler's module anew (not the copy an earlier import left in sys.modules), under a name of its
    own so that every load is a cold start."""
    path = ROOT / spec.code_uri / f"{spec.handler.rsplit('.', 1)[0].replace('.', '/')}.py"
    name = f"{spec.module}_cold_{uuid.uuid4().hex[:8]}"
    found = importlib.util.spec_from_file_location(name, path)
    assert found and found.loader, path
    module = importlib.util.module_from_spec(found)
    sys.modules[name] = module
    try:
        found.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def check_routes(functions: list[LoadedFunction]) -> None:
    problems = []
    for function in functions:
        in_code, in_template = function.code_routes(), set(function.spec.routes)
        problems += [
            f"{function.spec.logical_id}: {r.key} is in the code but not in template.yaml"
            for r in in_code - in_template
        ]
        problems += [
            f"{function.spec.logical_id}: {r.key} is in template.yaml but not in the code"
            for r in in_template - in_code
        ]
    if problems:
        raise RouteMismatch("; ".join(sorted(problems)))


def merged_openapi(functions: list[LoadedFunction], title: str) -> dict[str, Any]:
    document: dict[str, Any] = {"openapi": "3.1.0", "info": {"title": title, "version": "1.0.0"}, "paths": {}}
    components: dict[str, dict[str, Any]] = {}
    for function in sorted(functions, key=lambda f: f.spec.logical_id):
        if function.app is None:
            continue
        spec = function.openapi()
        for path, operations in spec.get("paths", {}).items():
            document["paths"].setdefault(path, {}).update(operations)
        for kind, entries in spec.get("components", {}).items():
            components.setdefault(kind, {}).update(entries)
    document["components"] = components
    return document


def build_event(request: Request, route: Route, path_params: dict[str, str]) -> dict[str, Any]:
    body = request.get_data()
    text = _as_text(body, request.mimetype)
    now = time.time()
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers and key != "cookie" else value
    cookies = headers.pop("cookie", "")
    headers["x-forwarded-proto"] = request.scheme  # as API Gateway sets it, whatever the client sent
    query = request.query_string.decode()
    return {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": request.path,
        "rawQueryString": query,
        "cookies": [c.strip() for c in cookies.split(";") if c.strip()] or None,
        "headers": headers,
        "queryStringParameters": dict(parse_qsl(query, keep_blank_values=True)) or None,
        "pathParameters": path_params or None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": request.host,
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.user_agent.string,
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text if text is not None else base64.b64encode(body).decode(),
        "isBase64Encoded": text is None,
        "stageVariables": None,
    }


def _as_text(body: bytes, mimetype: str) -> str | None:
    """Like API Gateway: text bodies travel as text, anything else (or bytes that are not UTF-8) as base64."""
    if not (mimetype.startswith("text/") or mimetype.endswith(("json", "x-www-form-urlencoded")) or not body):
        return None
    try:
        return body.decode()
    except UnicodeDecodeError:
        return None


def _not_found(detail: str, status: int = 404) -> Response:
    body = {"type": "about:blank", "title": "Not found", "status": status, "detail": detail}
    return Response(json.dumps(body), status=status, content_type="application/problem+json")


class Gateway:
    def __init__(
        self,
        functions: list[LoadedFunction],
        title: str = "Media Platform API (local)",
        access_log: Callable[[str], None] | None = None,
        cors: CorsConfig | None = None,
    ) -> None:
        check_routes(functions)
        self.access_log = access_log  # one line per request, as `sam local start-api` prints
        self.cors = cors  # the HTTP API's CorsConfiguration; None: no CORS, as an API without one
        self.functions = functions
        self.openapi = merged_openapi(functions, title)
        table = [(route, f) for f in functions for route in f.spec.routes]
        # Like API Gateway, a path with fewer variables is the more specific match.
        self.routes = sorted(table, key=lambda rf: (rf[0].path.count("{"), -len(rf[0].path)))
        self.docs_html = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=title,
            swagger_js_url="/docs/swagger-ui-bundle.min.js",
            swagger_css_url="/docs/swagger-ui.min.css",
            swagger_favicon_url="data:,",  # no icon rather than one from the internet
        ).body

    def match(self, method: str, path: str) -> tuple[Route, LoadedFunction, dict[str, str]] | None:
        for route, function in self.routes:
            if route.method in (method, "ANY") and (found := route.pattern().match(path)):
                return route, function, found.groupdict()
        return None

    def dispatch(self, request: Request) -> Response:
        started = time.perf_counter()
        function, response = self._answer_with_cors(request)
        if self.access_log:
            ms = (time.perf_counter() - started) * 1000
            self.access_log(f"{request.method} {request.path} {response.status_code} {function} {ms:.0f} ms")
        return response

    def _answer_with_cors(self, request: Request) -> tuple[str, Response]:
        """Like an HTTP API with CORS configured: it answers preflights itself (whatever the path), drops the CORS
        headers a function returns, and adds its own to the answer for an allowed origin."""
        if self.cors is None:
            return self._answer(request)
        if is_preflight(request.method, request.headers):
            preflight = Response(status=204, headers=self.cors.preflight_headers(request.headers))
            del preflight.headers["Content-Type"]  # no body, so no type
            return "-", preflight
        function, response = self._answer(request)
        for name in {n for n, _ in response.headers if n.lower().startswith("access-control-")}:
            del response.headers[name]
        for name, value in self.cors.response_headers(request.headers.get("Origin")).items():
            response.headers.add(name, value)
        return function, response

    def _answer(self, request: Request) -> tuple[str, Response]:
        """The response, and the logical id of the function that gave it (`-` for the gateway's own pages)."""
        if request.path == "/openapi.json":
            return "-", Response(json.dumps(self.openapi), content_type="application/json")
        if request.path == "/docs":
            return "-", Response(bytes(self.docs_html), content_type="text/html")
        if asset := SWAGGER_UI_FILES.get(request.path):
            name, content_type = asset
            return "-", Response(files(_SWAGGER_UI_PACKAGE).joinpath(name).read_bytes(), content_type=content_type)
        matched = self.match(request.method, request.path)
        if matched is None:
            return "-", _not_found(f"No route for {request.method} {request.path}.")
        route, function, params = matched
        result = function.invoke(build_event(request, route, params))
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(payload, status=result["statusCode"])
        response.headers.clear()
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = value
        for cookie in result.get("cookies") or []:
            response.headers.add("Set-Cookie", cookie)
        return function.spec.logical_id, response

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.dispatch(Request(environ))(environ, start_response)
