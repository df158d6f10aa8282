"""PATCH /users/{user_id}: change a user's role (admins only; the last admin stays)."""

from uuid import UUID

from fastapi import APIRouter, Request

from media_platform import accounts
from media_platform.auth import Admin, AuthenticatedFirst
from media_platform.models import RoleChange, UserOut
from media_platform.settings import require
from media_platform.web import body_document, build_app, json_body, lambda_entry, problem_responses

# The cold start fails, with one log line, if the template left any of these out.
require("users_table", "jwt_secret_name")

router = APIRouter(route_class=AuthenticatedFirst, tags=["users"])


@router.patch(
    "/users/{user_id}", responses=problem_responses(401, 403, 404, 409, 503), openapi_extra=body_document(RoleChange)
)
async def change_role(user_id: UUID, _: Admin, request: Request) -> UserOut:
    return accounts.change_role(str(user_id), (await json_body(request, RoleChange)).role)


app = build_app(router)
lambda_handler = lambda_entry(app)
