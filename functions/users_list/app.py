"""GET /users: every user, newest first, cursor-paginated (admins only)."""

from typing import Annotated

from fastapi import APIRouter, Query

from media_platform import accounts
from media_platform.auth import Admin, AuthenticatedFirst
from media_platform.models import UserPage
from media_platform.pagination import CURSOR_DOC
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name")

router = APIRouter(route_class=AuthenticatedFirst, tags=["users"])


@router.get("/users", responses=problem_responses(401, 403, 503))
async def list_users(
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048, description=CURSOR_DOC)] = None,
) -> UserPage:
    return accounts.list_users(limit, cursor)


app = build_app(router)
lambda_handler = lambda_entry(app)
