"""POST /auth/login: exchange email and password (JSON or the OAuth2 password form) for an access token."""

from fastapi import APIRouter, Request

from media_platform import accounts
from media_platform.auth import LOGIN_BODY_DOC, AuthenticatedFirst, read_credentials
from media_platform.models import TokenOut
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name")

router = APIRouter(route_class=AuthenticatedFirst, tags=["auth"])


@router.post("/auth/login", responses=problem_responses(401, 429, 503), openapi_extra=LOGIN_BODY_DOC)
async def login(request: Request) -> TokenOut:
    credentials = await read_credentials(request)
    return accounts.login(credentials.email, credentials.password)


app = build_app(router)
lambda_handler = lambda_entry(app)
