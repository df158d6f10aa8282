"""GET /analytics/top: the most viewed media over a range of rolled-up UTC days, from the daily statistics only;
every media item for an admin, an editor's own for an editor."""

from typing import Annotated

from fastapi import APIRouter, Query

from media_platform import analytics
from media_platform.auth import AuthenticatedFirst, Uploader
from media_platform.models import TopMedia
from media_platform.settings import require
from media_platform.web import FirstDay, LastDay, build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "daily_stats_table")

router = APIRouter(route_class=AuthenticatedFirst, tags=["analytics"])


@router.get("/analytics/top", responses=problem_responses(401, 403, 503))
async def top_media(
    caller: Uploader,
    first: FirstDay = None,
    last: LastDay = None,
    limit: Annotated[int, Query(ge=1, le=100, description="How many media items")] = 10,
) -> TopMedia:
    return analytics.top_media(caller, first, last, limit)


app = build_app(router)
lambda_handler = lambda_entry(app)
