"""POST /auth/signup: create an account (the first one becomes admin)."""

from fastapi import APIRouter

from media_platform import accounts
from media_platform.auth import AuthenticatedFirst
from media_platform.models import SignupRequest, UserOut
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table")

router = APIRouter(route_class=AuthenticatedFirst, tags=["auth"])


@router.post("/auth/signup", status_code=201, responses=problem_responses(403, 409, 503))
async def signup(body: SignupRequest) -> UserOut:
    return accounts.signup(body)


app = build_app(router)
lambda_handler = lambda_entry(app)
