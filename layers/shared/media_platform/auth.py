"""FastAPI dependencies that turn a bearer token into the caller and enforce roles."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import OAuth2PasswordBearer
from pydantic import ValidationError

from media_platform.errors import Forbidden, NotAuthenticated
from media_platform.models import LoginRequest, Role
from media_platform.tokens import Claims, TokenKind, verify

# tokenUrl makes the Authorize button in /docs log in through POST /auth/login with the OAuth2 password form.
bearer = OAuth2PasswordBearer(tokenUrl="/auth/login", auto_error=False)


async def current_caller(token: Annotated[str | None, Depends(bearer)]) -> Claims:
    if not token:
        raise NotAuthenticated("Sign in and send the access token as a Bearer token.")
    return verify(token, TokenKind.ACCESS)


def require_role(*roles: Role) -> Callable[..., Coroutine[Any, Any, Claims]]:
    async def dependency(caller: Annotated[Claims, Depends(current_caller)]) -> Claims:
        if caller.role not in roles:
            raise Forbidden("Your role does not allow this action.")
        return caller

    return dependency


Caller = Annotated[Claims, Depends(current_caller)]
Admin = Annotated[Claims, Depends(require_role(Role.ADMIN))]
Uploader = Annotated[Claims, Depends(require_role(Role.ADMIN, Role.EDITOR))]


FORM = "application/x-www-form-urlencoded"
LOGIN_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema()},
            FORM: {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {"type": "string", "description": "The account's email"},
                        "password": {"type": "string"},
                        "grant_type": {"type": "string", "enum": ["password"]},
                    },
                }
            },
        },
    }
}


async def read_credentials(request: Request) -> LoginRequest:
    """JSON `{email, password}` or the OAuth2 password form (`username`, `password`), as /docs sends it."""
    body = await request.body()
    try:
        if request.headers.get("content-type", "").startswith(FORM):
            form = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=10)
            fields = {"email": form.get("username", [None])[0], "password": form.get("password", [None])[0]}
            return LoginRequest.model_validate({k: v for k, v in fields.items() if v is not None})
        return LoginRequest.model_validate_json(body or b"null")
    except (UnicodeDecodeError, ValueError) as exc:  # not UTF-8, or too many form fields
        if isinstance(exc, ValidationError):
            raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "Unreadable login body", "type": "value_error"}]
        ) from None
