"""DELETE /media/{media_id}: remove the object and mark the asset deleted (the owner or an admin; idempotent)."""

from fastapi import APIRouter, Response

from media_platform import catalog
from media_platform.auth import AuthenticatedFirst, Uploader
from media_platform.settings import require
from media_platform.web import build_app, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table", "media_bucket")

router = APIRouter(route_class=AuthenticatedFirst, tags=["media"])


@router.delete("/media/{media_id}", status_code=204, responses=problem_responses(401, 403, 404, 503))
async def delete_media(media_id: str, caller: Uploader) -> Response:
    catalog.delete_media(caller, media_id)
    return Response(status_code=204)


app = build_app(router)
lambda_handler = lambda_entry(app)
