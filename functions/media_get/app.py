"""GET /media/{media_id}: one asset the caller may see."""

from fastapi import APIRouter

from media_platform import catalog
from media_platform.auth import AuthenticatedFirst, Caller
from media_platform.models import MediaOut
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table")

router = APIRouter(route_class=AuthenticatedFirst, tags=["media"])


@router.get("/media/{media_id}", responses=problem_responses(401, 404, 503))
async def get_media(media_id: str, caller: Caller) -> MediaOut:
    return catalog.get_media(caller, media_id)


app = build_app(router)
lambda_handler = lambda_entry(app)
