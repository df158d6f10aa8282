"""GET /media: the media the caller may see, newest first, cursor-paginated."""

from typing import Annotated

from fastapi import APIRouter, Query

from media_platform import catalog
from media_platform.auth import AuthenticatedFirst, Caller
from media_platform.models import MediaPage, MediaStatus
from media_platform.pagination import CURSOR_DOC
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table")

router = APIRouter(route_class=AuthenticatedFirst, tags=["media"])


@router.get("/media", responses=problem_responses(401, 503))
async def list_media(
    caller: Caller,
    status: MediaStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048, description=CURSOR_DOC)] = None,
) -> MediaPage:
    return catalog.list_media(caller, status, limit, cursor)


app = build_app(router)
lambda_handler = lambda_entry(app)
