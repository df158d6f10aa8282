"""GET /auth/me: the signed-in user."""

from fastapi import APIRouter

from media_platform.auth import AuthenticatedFirst, CurrentUser
from media_platform.models import UserOut
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name")

router = APIRouter(route_class=AuthenticatedFirst, tags=["auth"])


@router.get("/auth/me", responses=problem_responses(401, 503))
async def me(user: CurrentUser) -> UserOut:
    return user.public()


app = build_app(router)
lambda_handler = lambda_entry(app)
