"""Stale privileges, tried the way an attacker works: a demoted user's old token, a deleted account's token, a token
whose role claim says more than the stored user, and logout. Through the real handlers, on moto."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from media_platform import tokens
from media_platform.models import Role
from tests.integration.conftest import Invoke, Reply, Team
from tests.support import served_openapi

USERS_TABLE = "media-platform-local-UsersTable"
NEW_MEDIA = {"title": "Keynote", "filename": "keynote.mp4", "content_type": "video/mp4", "size_bytes": 1831}


def users_table() -> Any:
    return boto3.resource("dynamodb", region_name="us-east-1").Table(USERS_TABLE)


def set_role(invoke: Invoke, token: str, user_id: str, role: str) -> Reply:
    return invoke(
        "users_update", token=token, body={"role": role}, path=f"/users/{user_id}", path_params={"user_id": user_id}
    )


def stored_role(user_id: str) -> str:
    return str(users_table().get_item(Key={"pk": f"USER#{user_id}"})["Item"]["role"])


def delete_media(invoke: Invoke, token: str, media_id: str) -> Reply:
    return invoke("media_delete", token=token, path=f"/media/{media_id}", path_params={"media_id": media_id})


def test_a_demoted_admin_cannot_re_promote_itself_or_demote_the_real_admin(
    invoke: Invoke, team: Team, log_in: Callable[[str], str]
) -> None:
    # Given a second admin, signed in, whom the first admin then demotes
    assert set_role(invoke, team.admin.token, team.viewer.id, "admin").status == 200
    rogue_token = log_in("viewer@example.com")
    assert set_role(invoke, team.admin.token, team.viewer.id, "viewer").status == 200

    # When the demoted user replays its old admin token, then signs in again as what it now is
    replayed = set_role(invoke, rogue_token, team.viewer.id, "admin")
    demote_real_admin = set_role(invoke, rogue_token, team.admin.id, "viewer")
    fresh_token = log_in("viewer@example.com")
    with_fresh_token = set_role(invoke, fresh_token, team.viewer.id, "admin")

    # Then every attempt is refused and the roles stay as the real admin left them
    assert (replayed.status, demote_real_admin.status, with_fresh_token.status) == (401, 401, 403)
    assert stored_role(team.viewer.id) == "viewer" and stored_role(team.admin.id) == "admin"


def test_a_demoted_editors_old_token_cannot_create_or_delete_media(invoke: Invoke, team: Team) -> None:
    created = invoke("media_create", token=team.editor.token, body=NEW_MEDIA)
    assert created.status == 201
    media_id = created.body["media"]["id"]

    assert set_role(invoke, team.admin.token, team.editor.id, "viewer").status == 200
    create_again = invoke("media_create", token=team.editor.token, body=NEW_MEDIA)
    delete = delete_media(invoke, team.editor.token, media_id)

    assert (create_again.status, delete.status) == (401, 401)
    still_there = invoke(
        "media_get", token=team.admin.token, path=f"/media/{media_id}", path_params={"media_id": media_id}
    )
    assert still_there.body["status"] == "pending_upload"


def test_the_token_role_claim_is_only_a_hint(invoke: Invoke, team: Team) -> None:
    # A token validly signed for the viewer but claiming admin (as an old token would after a silent role change)
    forged_role = tokens.issue(tokens.TokenKind.ACCESS, team.viewer.id, Role.ADMIN, ttl_seconds=600)

    listing = invoke("users_list", token=forged_role)
    promotion = set_role(invoke, forged_role, team.viewer.id, "admin")
    upload = invoke("media_create", token=forged_role, body=NEW_MEDIA)

    assert (listing.status, promotion.status, upload.status) == (403, 403, 403)


def test_a_token_of_a_deleted_account_is_refused_everywhere(invoke: Invoke, team: Team) -> None:
    users_table().delete_item(Key={"pk": f"USER#{team.editor.id}"})

    replies = {
        "me": invoke("auth_me", token=team.editor.token),
        "list media": invoke("media_list", token=team.editor.token),
        "create media": invoke("media_create", token=team.editor.token, body=NEW_MEDIA),
        "logout": invoke("auth_logout", token=team.editor.token),
    }

    assert {name: reply.status for name, reply in replies.items()} == dict.fromkeys(replies, 401)


def test_logout_ends_every_session_and_a_new_login_works(
    invoke: Invoke, team: Team, log_in: Callable[[str], str]
) -> None:
    other_session = log_in("editor@example.com")

    logged_out = invoke("auth_logout", token=team.editor.token)
    old_tokens = [invoke("auth_me", token=token).status for token in (team.editor.token, other_session)]
    again = invoke("auth_logout", token=team.editor.token)
    new_token = log_in("editor@example.com")

    assert logged_out.status == 204 and logged_out.body is None
    assert "content-type" not in {name.lower() for name in logged_out.headers}, logged_out.headers
    assert old_tokens == [401, 401]
    assert again.status == 401
    assert invoke("auth_me", token=new_token).body["id"] == team.editor.id


def test_a_role_change_ends_the_users_sessions(invoke: Invoke, team: Team) -> None:
    assert invoke("auth_me", token=team.other_editor.token).status == 200

    assert set_role(invoke, team.admin.token, team.other_editor.id, "admin").status == 200

    assert invoke("auth_me", token=team.other_editor.token).status == 401  # even a promotion asks to sign in again
    assert invoke("auth_me", token=team.admin.token).status == 200  # the admin's own sessions are untouched


def test_the_document_says_every_operation_but_signup_and_login_takes_the_bearer_token() -> None:
    # The signed-in dependencies are their own OAuth2 scheme (auth.SignedIn): the document must still name it.
    document = served_openapi()
    public = {("post", "/auth/signup"), ("post", "/auth/login")}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected: list[dict[str, list[str]]] | None = (
                None if (method, path) in public else [{"OAuth2PasswordBearer": []}]
            )
            assert operation.get("security") == expected, f"{method.upper()} {path}"
    password = {"password": {"scopes": {}, "tokenUrl": "/auth/login"}}
    assert document["components"]["securitySchemes"] == {"OAuth2PasswordBearer": {"type": "oauth2", "flows": password}}
