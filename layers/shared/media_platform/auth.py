"""FastAPI dependencies that turn a bearer token into the stored user and enforce roles, and the route class that
authenticates before a body is read."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from pydantic import ValidationError

from media_platform import accounts
from media_platform.errors import Forbidden, MalformedBody, NotAuthenticated
from media_platform.models import LoginRequest, Role, User
from media_platform.tokens import Claims, TokenKind, verify

# tokenUrl makes the Authorize button in /docs log in through POST /auth/login with the OAuth2 password form.
TOKEN_URL = "/auth/login"  # noqa: S105  # a path, not a password
bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


# Where a request keeps its signed-in user and caller: a key of the ASGI scope, which costs a dict lookup where
# `request.state` costs an AttributeError until it is set.
_SIGNED_IN_KEY = "media_platform.signed_in"


async def _authenticate(request: Request) -> tuple[User, Claims]:
    """Verifies the bearer token and loads the stored user once per request: the user, and the caller's claims with
    the stored role (never the token's)."""
    signed_in: tuple[User, Claims] | None = request.scope.get(_SIGNED_IN_KEY)
    if signed_in is None:
        token = await bearer(request)
        if not token:
            raise NotAuthenticated("Sign in and send the access token as a Bearer token.")
        claims = verify(token, TokenKind.ACCESS)
        user = accounts.signed_in_user(claims)
        caller = claims if claims.role == user.role else replace(claims, role=user.role)
        signed_in = request.scope[_SIGNED_IN_KEY] = (user, caller)
    return signed_in


class SignedIn(OAuth2PasswordBearer):
    """A dependency on the signed-in user (or caller, with the stored role; of one of `roles`, if given) that is
    itself the OAuth2 scheme the OpenAPI document names. A dependency that declared `bearer` beneath it cost FastAPI a
    second level of solving on every request (cache keys, parameter passes), about a tenth of a signed-in request."""

    def __init__(self, returns: Literal["user", "caller"], roles: tuple[Role, ...] = ()) -> None:
        super().__init__(tokenUrl=TOKEN_URL, scheme_name=bearer.scheme_name, auto_error=False)
        self.returns, self.roles = returns, roles

    async def __call__(self, request: Request) -> User | Claims:  # type: ignore[override]
        user, caller = await _authenticate(request)
        if self.roles and caller.role not in self.roles:
            raise Forbidden("Your role does not allow this action.")
        return user if self.returns == "user" else caller


# A route that also takes a stream token reads its credentials itself and declares no dependency (one would cost
# every playback a level of solving); `openapi_extra=BEARER_DOCUMENT` documents it as FastAPI documents `bearer`,
# and web.build_app adds the scheme to the function's document.
BEARER_DOCUMENT: dict[str, Any] = {"security": [{bearer.scheme_name: []}]}


async def bearer_caller(request: Request) -> Claims:
    """The signed-in caller of a route that also takes other credentials (see BEARER_DOCUMENT)."""
    return (await _authenticate(request))[1]


def require_role(*roles: Role) -> SignedIn:
    return SignedIn("caller", roles)


CurrentUser = Annotated[User, Depends(SignedIn("user"))]
Caller = Annotated[Claims, Depends(SignedIn("caller"))]
Admin = Annotated[Claims, Depends(require_role(Role.ADMIN))]
Uploader = Annotated[Claims, Depends(require_role(Role.ADMIN, Role.EDITOR))]


def _needs_user(dependant: Dependant) -> bool:
    return any(isinstance(sub.call, SignedIn) or _needs_user(sub) for sub in dependant.dependencies)


class AuthenticatedFirst(APIRoute):
    """A route whose dependencies need the signed-in user authenticates before FastAPI reads its body: an anonymous
    caller gets the 401 and nothing of the request is parsed for it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not _needs_user(self.dependant):
            return handler

        async def authenticate_then_handle(request: Request) -> Response:
            await _authenticate(request)
            return await handler(request)

        return authenticate_then_handle


FORM = "application/x-www-form-urlencoded"
_LOGIN = LoginRequest.model_json_schema()
LOGIN_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _LOGIN},
            FORM: {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {**_LOGIN["properties"]["email"], "description": "The account's email"},
                        "password": _LOGIN["properties"]["password"],
                        "grant_type": {"type": "string", "enum": ["password"]},
                        # The rest of the OAuth2 password form; read by nobody, but allowed.
                        "scope": {"type": "string"},
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string"},
                    },
                    "additionalProperties": False,
                }
            },
        },
    }
}


async def read_credentials(request: Request) -> LoginRequest:
    """JSON `{email, password}` or the OAuth2 password form (`username`, `password`), as /docs sends it."""
    body = await request.body()
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    try:
        if media_type == FORM:
            form = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=10)
            fields = {"email": form.get("username", [None])[0], "password": form.get("password", [None])[0]}
            return LoginRequest.model_validate({k: v for k, v in fields.items() if v is not None})
        return LoginRequest.model_validate_json(body or b"null")
    except ValidationError as exc:  # pydantic's json_invalid type becomes the 400 in web.py
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None
    except (UnicodeDecodeError, ValueError):  # not UTF-8, or too many form fields
        raise MalformedBody("The login body could not be read as UTF-8 JSON or form fields.") from None
