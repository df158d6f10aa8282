"""POST /media/{media_id}/upload/complete: complete a multipart upload (the owner or an admin)."""

from fastapi import APIRouter, Request

from media_platform import uploads
from media_platform.auth import AuthenticatedFirst, Uploader
from media_platform.models import CompleteUpload, MediaOut
from media_platform.settings import require
from media_platform.web import body_document, build_app, json_body, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table", "media_bucket")

router = APIRouter(route_class=AuthenticatedFirst, tags=["media"])


@router.post(
    "/media/{media_id}/upload/complete",
    status_code=202,
    responses=problem_responses(401, 403, 404, 409, 503),
    openapi_extra=body_document(CompleteUpload),
)
async def complete_upload(media_id: str, caller: Uploader, request: Request) -> MediaOut:
    return uploads.complete_upload(caller, media_id, await json_body(request, CompleteUpload))


app = build_app(router)
lambda_handler = lambda_entry(app)
