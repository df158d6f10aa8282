"""DELETE /media/{media_id}/upload: abort a multipart upload (the owner or an admin; idempotent)."""

from fastapi import APIRouter, Response

from media_platform import uploads
from media_platform.auth import AuthenticatedFirst, Uploader
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table", "media_bucket")

router = APIRouter(route_class=AuthenticatedFirst, tags=["media"])


@router.delete("/media/{media_id}/upload", status_code=204, responses=problem_responses(401, 403, 404, 409, 503))
async def abort_upload(media_id: str, caller: Uploader) -> Response:
    uploads.abort_upload(caller, media_id)
    return Response(status_code=204)


app = build_app(router)
lambda_handler = lambda_entry(app)
