"""Builds each function's FastAPI app and Lambda handler, and maps every error to RFC 9457 problem+json."""

from __future__ import annotations

import email.message
import json
import uuid
from datetime import date
from functools import cached_property, lru_cache
from typing import Any, Self

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.models import Schema
from fastapi.responses import JSONResponse
from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES
from mangum.handlers import HTTPGateway
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from media_platform.auth import BEARER_DOCUMENT, bearer
from media_platform.errors import DomainError, MalformedBody
from media_platform.observability import Handler, instrumented, logger
from media_platform.pagination import CURSOR_DOC


class QueryParameters(BaseModel):
    """A route's query parameters as one model, which the route reads with `read(request)` in one validation.
    FastAPI 0.165 solves each declared query parameter on every request with typing introspection (three of them
    were about a fifth of a listing's warm request in the bench). `openapi()`, the route's `openapi_extra`, lists
    each parameter as FastAPI would have; errors are FastAPI's too (422, located at `query.<name>`)."""

    model_config = ConfigDict(extra="ignore")  # as FastAPI: parameters nobody declared are no error

    @classmethod
    def read(cls, request: Request) -> Self:
        try:
            return cls.model_validate(dict(request.query_params))  # a repeated name: its last value, as FastAPI
        except ValidationError as exc:
            raise located(exc, "query") from None

    @classmethod
    def openapi(cls) -> dict[str, Any]:
        properties = cls.model_json_schema(ref_template="#/components/schemas/{model}")["properties"]
        parameters = []
        for name, field in cls.model_fields.items():
            alias = field.alias or name
            schema = {key: value for key, value in properties[alias].items() if (key, value) != ("default", None)}
            schema.setdefault("title", alias.replace("_", " ").title())
            parameter = {"name": alias, "in": "query", "required": field.is_required(), "schema": schema}
            parameters.append(parameter | ({"description": field.description} if field.description else {}))
        return {"parameters": parameters}


class DayRange(QueryParameters):
    """The UTC day range of the analytics routes; `from`/`to` are Python keywords, hence the aliases."""

    first: date | None = Field(
        None, alias="from", description="First UTC day (default: 29 days before `to`); not after `to`"
    )
    last: date | None = Field(
        None, alias="to", description="Last UTC day, included (default: today); at most 366 days on"
    )


class PageQuery(QueryParameters):
    """One page of a cursor-paginated listing."""

    limit: int = Field(20, ge=1, le=100)
    cursor: str | None = Field(None, max_length=2048, description=CURSOR_DOC)


# The models of bodies read with json_body, by name: build_app's document defines those its routes refer to.
_BODY_MODELS: dict[str, type[BaseModel]] = {}


def body_document(model: type[BaseModel]) -> dict[str, Any]:
    """The `openapi_extra` of a route that reads its body with `json_body`: the request body FastAPI would document
    for a declared `body: model`."""
    _BODY_MODELS[model.__name__] = model
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"content": {"application/json": {"schema": schema}}, "required": True}}


async def json_body[M: BaseModel](request: Request, model: type[M]) -> M:
    """The request's body as `model`, read as FastAPI reads a declared body: JSON only under a JSON Content-Type
    (any other is validated as bytes, so refused), a missing body a 422, invalid JSON or UTF-8 a 400, errors
    located at `body.<field>`. FastAPI solves a declared body on every request with typing introspection and parses
    its Content-Type with `email.message` (a body was about a tenth of a signed-in request in the bench)."""
    raw = await request.body()
    if not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}])
    value: Any = raw
    if _is_json(request.headers.get("content-type")):
        try:
            value = json.loads(raw)  # as Starlette's request.json()
        except json.JSONDecodeError as exc:
            error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error", "input": {}}
            raise RequestValidationError([{**error, "ctx": {"error": exc.msg}}]) from None
        except UnicodeDecodeError:
            raise StarletteHTTPException(400, "There was an error parsing the body") from None
    try:
        return model.model_validate(value, from_attributes=True)  # as FastAPI validates a body field
    except ValidationError as exc:
        raise located(exc, "body") from None


def located(exc: ValidationError, where: str) -> RequestValidationError:
    """A model's validation errors as FastAPI reports a request's: each located under `query`, `body`, ..."""
    return RequestValidationError([{**e, "loc": (where, *e["loc"])} for e in exc.errors(include_url=False)])


@lru_cache(maxsize=64)  # clients send the same few Content-Types
def _is_json(content_type: str | None) -> bool:
    """FastAPI's test of a declared body's Content-Type: application/json or application/*+json, as email parses
    it (parameters, case and malformed values included); no Content-Type is no JSON (FastAPI's strict default)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://media-platform.dev/problems/"
API_TITLE = "Media Platform API"


def problem(status: int, title: str, detail: str, slug: str, **extra: Any) -> JSONResponse:
    body = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    field = getattr(exc, "field", None)
    extra = {"errors": [{"field": field, "message": exc.detail, "type": "value_error"}]} if field else {}
    response = problem(exc.status, exc.title, exc.detail, exc.type_slug, **extra)
    response.headers.update(exc.headers or {})
    return response


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(err["type"] == "json_invalid" for err in exc.errors()):  # not JSON at all: nothing to name a field in
        return await _domain_error(_, MalformedBody("The body could not be parsed as JSON."))
    errors = [
        {"field": ".".join(str(part) for part in err["loc"]), "message": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    fields = ", ".join(e["field"] for e in errors)
    return problem(422, "Invalid request", f"Invalid fields: {fields}", "validation", errors=errors)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {
        400: "Malformed request",
        404: "Not found",
        405: "Method not allowed",
        401: "Not authenticated",
        403: "Forbidden",
    }
    title = titles.get(exc.status_code, "HTTP error")
    response = problem(exc.status_code, title, str(exc.detail), title.lower().replace(" ", "-"))
    response.headers.update(exc.headers or {})
    return response


class UnexpectedErrors:
    """Turns any unhandled exception into a generic 500 problem with a correlation id that the log line shares.

    Starlette's own handler re-raises after responding, which under Mangum would fail the invocation instead.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started or scope["type"] != "http":
                raise
            correlation_id = logger.get_correlation_id() or str(uuid.uuid4())
            logger.exception("Unhandled error", extra={"correlation_id": correlation_id})
            response = problem(
                500,
                "Internal error",
                "The request could not be completed. Quote the correlation id when reporting it.",
                "internal",
                correlation_id=correlation_id,
            )
            await response(scope, receive, send)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, description in {
        400: "Malformed request (a body that cannot be parsed)",
        401: "Not authenticated",
        403: "Forbidden",
        404: "Not found",
        409: "Conflict",
        410: "Gone",
        422: "Invalid request",
        429: "Too many attempts",
        500: "Internal error",
        503: "Service busy",
    }.items()
}


def public_base_url(request: Request) -> str:
    """The API's base URL as the caller reached it, from the API Gateway event: its host (a custom domain or the
    execute-api one, or the local stack's host and port) and, on the execute-api host, a named stage."""
    context = request.scope.get("aws.event", {}).get("requestContext", {})
    host = context.get("domainName") or request.headers.get("host", "localhost")
    scheme = request.headers.get("x-forwarded-proto", "https").lower()
    stage = context.get("stage") or "$default"
    # A custom domain maps stages with API mappings, so its paths carry none.
    prefix = f"/{stage}" if stage != "$default" and host.endswith(".amazonaws.com") else ""
    return f"{scheme if scheme in ('http', 'https') else 'https'}://{host}{prefix}"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error responses of one operation (400, 422 and 500 are implied everywhere)."""
    return {status: PROBLEM_RESPONSES[status] for status in (*statuses, 400, 422, 500)}


def build_app(router: APIRouter) -> FastAPI:
    # The router's routes become the app's own: FastAPI 0.165 matches an included router through a layer of its
    # own on every request, a route match twice over (the local stack's one app still includes every router).
    app = FastAPI(title=API_TITLE, docs_url=None, redoc_url=None, openapi_url=None, routes=list(router.routes))
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(UnexpectedErrors)
    _document_problems(app)
    return app


PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "correlation_id": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


def _document_problems(app: FastAPI) -> None:
    """Adds the Problem schema that every documented error response refers to, and the bearer scheme where a route
    documents it without declaring it (auth.BEARER_DOCUMENT), as FastAPI would have."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
            operations = [op for ops in schema.get("paths", {}).values() for op in ops.values()]
            schemas = components["schemas"]
            for operation in operations:
                body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
                model = _BODY_MODELS.get(body.get("schema", {}).get("$ref", "").rpartition("/")[2])
                if model is not None and model.__name__ not in schemas:
                    definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
                    for name, nested in {**definition.pop("$defs", {}), model.__name__: definition}.items():
                        # As FastAPI writes every schema of its document: through its OpenAPI model.
                        schemas.setdefault(name, jsonable_encoder(Schema(**nested), by_alias=True, exclude_none=True))
            if any(BEARER_DOCUMENT["security"] == op.get("security") for op in operations):
                scheme = jsonable_encoder(bearer.model, by_alias=True, exclude_none=True)
                components.setdefault("securitySchemes", {})[bearer.scheme_name] = scheme
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def without_stage(event: dict[str, Any]) -> dict[str, Any]:
    """The event with the path its route was declared with. Behind a named stage (`dev`, `prod`) on the execute-api
    host, API Gateway prefixes both paths with the stage (`/dev/media`); behind `$default` or a custom domain it
    does not, and the path is left as it came."""
    context = event.get("requestContext") or {}
    stage, http = context.get("stage"), context.get("http") or {}
    if not stage or stage == "$default":
        return event
    prefix = f"/{stage}"
    for holder, key in ((event, "rawPath"), (http, "path")):
        path = holder.get(key)
        if isinstance(path, str) and (path == prefix or path.startswith(prefix + "/")):
            holder[key] = path[len(prefix) :] or "/"
    return event


class HttpApiEvents(HTTPGateway):
    """Mangum's handler of HTTP API events, its ASGI scope built once per request: Mangum's own builds it twice
    (the second time to read the event's version when it answers), copying and encoding every header each time."""

    @cached_property
    def scope(self) -> Scope:
        scope: Scope = super().scope
        return scope


def lambda_entry(app: FastAPI, log_event: bool | None = None) -> Handler:
    """The Lambda handler: Mangum (lifespan off) inside the shared Powertools decorator stack. `log_event=False`
    keeps the event out of the logs whatever POWERTOOLS_LOGGER_LOG_EVENT says (its query may hold a token)."""
    # problem+json is text too: without it Mangum would base64-encode every error body.
    asgi = Mangum(
        app,
        lifespan="off",
        text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, PROBLEM_JSON],
        custom_handlers=[HttpApiEvents],
    )

    def handle(event: dict[str, Any], context: Any) -> Any:
        # The API Gateway request id, as correlation_paths.API_GATEWAY_HTTP finds it, without a JMESPath search.
        request_context = event.get("requestContext")
        logger.set_correlation_id(request_context.get("requestId") if isinstance(request_context, dict) else None)
        result = asgi(without_stage(event), context)
        if result.get("statusCode") in (204, 302) and not result.get("body"):  # Mangum labels even no body JSON
            result.get("headers", {}).pop("content-type", None)
        return result

    return instrumented(handle, log_event=log_event)
