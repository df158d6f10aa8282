"""POST /auth/logout: end every session of the signed-in user (all its tokens are refused from now on)."""

from fastapi import APIRouter, Response

from media_platform import accounts
from media_platform.auth import AuthenticatedFirst, CurrentUser
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name")

router = APIRouter(route_class=AuthenticatedFirst, tags=["auth"])


@router.post("/auth/logout", status_code=204, responses=problem_responses(401, 503))
async def logout(user: CurrentUser) -> Response:
    accounts.logout(user)
    return Response(status_code=204)


app = build_app(router)
lambda_handler = lambda_entry(app)
