"""POST /media/{media_id}/upload/parts: fresh presigned URLs for parts of a multipart upload (the owner or an
admin), which also move the upload's deadline on."""

from fastapi import APIRouter, Request

from media_platform import uploads
from media_platform.auth import AuthenticatedFirst, Uploader
from media_platform.models import SignedParts, SignParts
from media_platform.settings import require
from media_platform.web import body_document, build_app, json_body, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table", "media_bucket")

router = APIRouter(route_class=AuthenticatedFirst, tags=["media"])


@router.post(
    "/media/{media_id}/upload/parts",
    responses=problem_responses(401, 403, 404, 409, 503),
    description="409 when the media has no multipart upload in progress; 422 for a part beyond its part_count.",
    openapi_extra=body_document(SignParts),
)
async def sign_parts(media_id: str, caller: Uploader, request: Request) -> SignedParts:
    return uploads.sign_parts(caller, media_id, await json_body(request, SignParts))


app = build_app(router)
lambda_handler = lambda_entry(app)
