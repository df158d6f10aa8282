"""GET /auth/me: the signed-in user."""

from fastapi import APIRouter

from media_platform import accounts
from media_platform.auth import Caller
from media_platform.models import UserOut
from media_platform.web import build_app, lambda_entry, problem_responses

router = APIRouter(tags=["auth"])


@router.get("/auth/me", responses=problem_responses(401, 503))
async def me(caller: Caller) -> UserOut:
    return accounts.me(caller.subject)


app = build_app(router)
lambda_handler = lambda_entry(app)
