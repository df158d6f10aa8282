"""PATCH /media/{media_id}: change the title or description (the owner or an admin)."""

from fastapi import APIRouter, Request

from media_platform import catalog
from media_platform.auth import AuthenticatedFirst, Uploader
from media_platform.models import MediaOut, UpdateMedia
from media_platform.settings import require
from media_platform.web import body_document, build_app, json_body, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table")

router = APIRouter(route_class=AuthenticatedFirst, tags=["media"])


@router.patch(
    "/media/{media_id}", responses=problem_responses(401, 403, 404, 409, 503), openapi_extra=body_document(UpdateMedia)
)
async def update_media(media_id: str, caller: Uploader, request: Request) -> MediaOut:
    return catalog.update_media(caller, media_id, await json_body(request, UpdateMedia))


app = build_app(router)
lambda_handler = lambda_entry(app)
