"""GET /media/{media_id}/upload: what S3 holds of an upload in progress, to resume it (the owner or an admin)."""

from fastapi import APIRouter

from media_platform import uploads
from media_platform.auth import AuthenticatedFirst, Uploader
from media_platform.models import MultipartUploadState, PostUploadState
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table", "media_bucket")

router = APIRouter(route_class=AuthenticatedFirst, tags=["media"])


@router.get(
    "/media/{media_id}/upload",
    responses=problem_responses(401, 403, 404, 409, 503),
    description="409 when the media has no upload in progress (it is ready, failed, expired or deleted).",
)
async def upload_state(media_id: str, caller: Uploader) -> MultipartUploadState | PostUploadState:
    return uploads.upload_state(caller, media_id)


app = build_app(router)
lambda_handler = lambda_entry(app)
