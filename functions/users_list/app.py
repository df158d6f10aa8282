"""GET /users: every user, newest first, cursor-paginated (admins only)."""

from fastapi import APIRouter, Request

from media_platform import accounts
from media_platform.auth import Admin, AuthenticatedFirst
from media_platform.models import UserPage
from media_platform.settings import require
from media_platform.web import PageQuery, build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name")

router = APIRouter(route_class=AuthenticatedFirst, tags=["users"])


@router.get("/users", responses=problem_responses(401, 403, 503), openapi_extra=PageQuery.openapi())
async def list_users(_: Admin, request: Request) -> UserPage:
    query = PageQuery.read(request)
    return accounts.list_users(query.limit, query.cursor)


app = build_app(router)
lambda_handler = lambda_entry(app)
