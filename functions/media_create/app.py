"""POST /media: create an asset and get presigned upload instructions (admins and editors)."""

from typing import Annotated

from fastapi import APIRouter, Header, Request

from media_platform import idempotency, uploads
from media_platform.auth import AuthenticatedFirst, Uploader
from media_platform.models import CreatedMedia, CreateMedia
from media_platform.settings import require
from media_platform.web import body_document, build_app, json_body, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name", "media_table", "media_bucket", "idempotency_table")

router = APIRouter(route_class=AuthenticatedFirst, tags=["media"])


@router.post(
    "/media",
    status_code=201,
    responses=problem_responses(401, 403, 409, 503),
    openapi_extra=body_document(CreateMedia),
)
async def create_media(
    caller: Uploader,
    request: Request,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=255, description=idempotency.KEY_DOC)
    ] = None,
) -> CreatedMedia:
    body = await json_body(request, CreateMedia)
    payload = uploads.idempotency_payload(caller, idempotency_key or "", body)
    context = request.scope.get("aws.context")  # Mangum passes the Lambda context along
    create = lambda: uploads.create_upload(caller, body)  # noqa: E731
    return idempotency.once(
        idempotency_key,
        payload,
        create,
        CreatedMedia,
        context,
        stored_as=uploads.without_part_urls,
        replayed_as=uploads.with_part_urls,
    )


app = build_app(router)
lambda_handler = lambda_entry(app)
