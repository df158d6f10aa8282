"""POST /media/{media_id}/view: the original API's manual view log, for a stream token in `?token=` (a player
reporting a playback) or an access token as Bearer. Answers whether the view counted, and if not, why."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from media_platform import streaming
from media_platform.auth import BEARER_DOCUMENT, bearer_caller
from media_platform.models import ViewResult
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table", "views_table", "viewer_key_secret_name")

router = APIRouter(tags=["analytics"])


@router.post(
    "/media/{media_id}/view",
    operation_id="record_view",
    responses=problem_responses(401, 403, 404, 410, 503),
    openapi_extra=BEARER_DOCUMENT,
)
async def view(
    media_id: str,
    request: Request,
    token: Annotated[str | None, Query(description="The stream token of a stream URL for this media")] = None,
) -> ViewResult:
    if token:
        viewing = streaming.viewing_by_stream_token(token, media_id)
    else:
        viewing = streaming.viewing_by_access_token(await bearer_caller(request), media_id)
    client = request.client.host if request.client else None  # Mangum's, from requestContext.http.sourceIp
    recorded = streaming.record_manual_view(viewing, client, request.headers.get("user-agent"))
    return ViewResult(counted=recorded.counted, reason=recorded.reason)


app = build_app(router)
# The event's query string may hold a stream token: never log the event.
lambda_handler = lambda_entry(app, log_event=False)
