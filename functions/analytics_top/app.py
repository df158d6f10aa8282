"""GET /analytics/top: the most viewed media over a range of rolled-up UTC days, from the daily statistics only;
every media item for an admin, an editor's own for an editor."""

from fastapi import APIRouter, Request
from pydantic import Field

from media_platform import analytics
from media_platform.auth import AuthenticatedFirst, Uploader
from media_platform.models import TopMedia
from media_platform.settings import require
from media_platform.web import DayRange, build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "daily_stats_table")

router = APIRouter(route_class=AuthenticatedFirst, tags=["analytics"])


class TopQuery(DayRange):
    limit: int = Field(10, ge=1, le=100, description="How many media items")


@router.get("/analytics/top", responses=problem_responses(401, 403, 503), openapi_extra=TopQuery.openapi())
async def top_media(caller: Uploader, request: Request) -> TopMedia:
    query = TopQuery.read(request)
    return analytics.top_media(caller, query.first, query.last, query.limit)


app = build_app(router)
lambda_handler = lambda_entry(app)
