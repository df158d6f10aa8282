"""GET /media/{media_id}/analytics: one media item's counted views and unique viewers per UTC day over a range,
for its owner (an editor) or an admin."""

from fastapi import APIRouter, Request

from media_platform import analytics
from media_platform.auth import AuthenticatedFirst, Uploader
from media_platform.models import MediaAnalytics
from media_platform.settings import require
from media_platform.web import DayRange, build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table", "views_table", "daily_stats_table")

router = APIRouter(route_class=AuthenticatedFirst, tags=["analytics"])


@router.get(
    "/media/{media_id}/analytics", responses=problem_responses(401, 403, 404, 503), openapi_extra=DayRange.openapi()
)
async def media_analytics(media_id: str, caller: Uploader, request: Request) -> MediaAnalytics:
    days = DayRange.read(request)
    return analytics.media_analytics(caller, media_id, days.first, days.last)


app = build_app(router)
lambda_handler = lambda_entry(app)
