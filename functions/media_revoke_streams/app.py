"""POST /media/{media_id}/revoke-streams: every stream URL of the media issued until now stops working."""

from fastapi import APIRouter, Response

from media_platform import streaming
from media_platform.auth import AuthenticatedFirst, Uploader
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table")

router = APIRouter(route_class=AuthenticatedFirst, tags=["streaming"])


@router.post("/media/{media_id}/revoke-streams", status_code=204, responses=problem_responses(401, 403, 404, 503))
async def revoke_streams(media_id: str, caller: Uploader) -> Response:
    streaming.revoke_streams(caller, media_id)
    return Response(status_code=204)


app = build_app(router)
lambda_handler = lambda_entry(app)
