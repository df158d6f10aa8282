"""GET /media: the media the caller may see, newest first, cursor-paginated."""

from fastapi import APIRouter, Request

from media_platform import catalog
from media_platform.auth import AuthenticatedFirst, Caller
from media_platform.models import MediaPage, MediaStatus
from media_platform.settings import require
from media_platform.web import PageQuery, build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table")

router = APIRouter(route_class=AuthenticatedFirst, tags=["media"])


class MediaQuery(PageQuery):
    status: MediaStatus | None = None


@router.get("/media", responses=problem_responses(401, 503), openapi_extra=MediaQuery.openapi())
async def list_media(caller: Caller, request: Request) -> MediaPage:
    query = MediaQuery.read(request)
    return catalog.list_media(caller, query.status, query.limit, query.cursor)


app = build_app(router)
lambda_handler = lambda_entry(app)
