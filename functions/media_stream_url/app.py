"""GET /media/{media_id}/stream-url: a short-lived URL a player fetches without an Authorization header."""

from fastapi import APIRouter, Request, Response

from media_platform import streaming
from media_platform.auth import AuthenticatedFirst, Caller
from media_platform.models import StreamUrl
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses, public_base_url

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table")

router = APIRouter(route_class=AuthenticatedFirst, tags=["streaming"])


@router.get("/media/{media_id}/stream-url", responses=problem_responses(401, 404, 409, 503))
async def get_stream_url(media_id: str, caller: Caller, request: Request, response: Response) -> StreamUrl:
    response.headers["Cache-Control"] = "no-store"  # the URL carries a token
    return streaming.issue_stream_url(caller, media_id, public_base_url(request))


app = build_app(router)
lambda_handler = lambda_entry(app, log_event=False)
