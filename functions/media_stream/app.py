"""GET|HEAD /media/stream/{media_id}: 302 to a presigned GET of the media's verified bytes, for a stream token in
`?token=` or an access token as Bearer. The bytes come from S3, which serves Range: they never pass through here."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from fastapi import APIRouter, Request, Response

from media_platform import streaming
from media_platform.auth import BEARER_DOCUMENT, bearer_caller
from media_platform.errors import ServiceBusy
from media_platform.observability import logger, metrics
from media_platform.settings import require
from media_platform.view_log import record_view, starts_a_playback
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table", "media_bucket", "views_table", "viewer_key_secret_name")

router = APIRouter(tags=["streaming"])
REDIRECT: dict[int | str, dict[str, Any]] = {
    302: {"description": "Location: a presigned GET of the media (Range requests answer 206)"}
}
# The stream token is read from the request, not declared as a Query parameter: FastAPI's per-request solving of
# one parameter is about a tenth of this route, the one every playback calls. The document still lists it, as
# FastAPI would (tests/integration/test_streaming.py checks).
TOKEN_PARAMETER: dict[str, Any] = {
    "name": "token",
    "in": "query",
    "required": False,
    "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Token"},
    "description": "The stream token of a stream URL",
}
ROUTE: dict[str, Any] = {
    "status_code": 302,
    "response_class": Response,
    "responses": {**REDIRECT, **problem_responses(401, 403, 404, 410, 503)},
    "openapi_extra": {"parameters": [TOKEN_PARAMETER], **BEARER_DOCUMENT},
}


# Decorators register bottom-up: GET (every playback) is registered first, so matching it tries one route, not two.
@router.head("/media/stream/{media_id}", operation_id="stream_media_headers", **ROUTE)
@router.get("/media/stream/{media_id}", operation_id="stream_media", **ROUTE)
async def stream(
    media_id: str,
    request: Request,
) -> Response:
    if token := request.query_params.get("token"):
        playback = streaming.redeem_stream_token(token, media_id)
    else:
        playback = streaming.redeem_access_token(await bearer_caller(request), media_id)
    # A HEAD is no playback, nor is a Range past byte 0: a player seeking inside one already recorded.
    range_header = request.headers.get("range")
    if request.method == "GET" and starts_a_playback(range_header):
        client = request.client.host if request.client else None  # Mangum's, from requestContext.http.sourceIp
        try:
            record_view(playback.viewing.view(client, request.headers.get("user-agent"), range_header))
        except ServiceBusy:  # the view log throttled: playback matters more than one view's count
            logger.warning("View not recorded: the view log is busy", extra={"media_id": media_id})
            metrics.add_metric(name="ViewsNotRecorded", unit=MetricUnit.Count, value=1)
    headers = {"Location": playback.location, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return Response(status_code=302, headers=headers)


app = build_app(router)
# The event's query string holds the stream token: never log the event.
lambda_handler = lambda_entry(app, log_event=False)
