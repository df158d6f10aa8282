"""Input an attacker or a sloppy client sends: look-alike emails, bodies that are not JSON, numbers that are strings,
and bodies sent with no token at all. Through the real handlers, on moto."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.integration.conftest import Invoke, Reply, Team

SignUp = Callable[..., Reply]
LogIn = Callable[..., str]
PASSWORD = "correct horse battery"
# Every route that takes a JSON body and needs a token (its event in events/ names a path and parameters).
PROTECTED_BODIES = ["media_create", "media_update", "upload_complete", "users_update"]


def user_items() -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("media-platform-local-UsersTable")
    return [item for item in table.scan()["Items"] if str(item["pk"]).startswith("USER#")]


@pytest.mark.parametrize(
    "look_alike", ["view@ex.com.", "\uff56iew@ex.com", "VIEW@EX.COM", " view@ex.com ", "v\u0131ew@ex.com"]
)
def test_look_alike_emails_are_one_account(sign_up: SignUp, invoke: Invoke, look_alike: str) -> None:
    assert sign_up("view@ex.com").status == 201

    again = sign_up(look_alike)
    login = invoke("auth_login", body={"email": look_alike, "password": PASSWORD})

    if look_alike == "v\u0131ew@ex.com":  # a dotless i (U+0131) is another letter, not a spelling of i: another account
        assert again.status == 201
    else:
        assert again.status == 409 and login.status == 200
        assert len(user_items()) == 1


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("vi\x00ew@ex.com", "control"),
        ("vi\x1bew@ex.com", "control"),
        ("vi\u200bew@ex.com", "invisible"),
        ("<script>@ex.com", "markup"),
        ('"view"@ex.com', "special"),
    ],
)
def test_emails_with_control_or_markup_characters_are_refused(invoke: Invoke, email: str, why: str) -> None:
    reply = invoke("auth_signup", body={"email": email, "password": PASSWORD})

    assert reply.status == 422
    assert reply.body["errors"][0]["field"] == "body.email"
    assert why in reply.body["errors"][0]["message"]
    assert email not in str(reply.body)  # never echoed back
    assert user_items() == []


@pytest.mark.parametrize("body", ['{"email": "ada@example.com", "pass', "{", '{"a": 1,}', "nul"])
@pytest.mark.parametrize("function", ["auth_signup", "auth_login"])
def test_a_body_that_is_not_json_is_400(invoke: Invoke, function: str, body: str) -> None:
    reply = invoke(function, body=body)

    assert reply.status == 400
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.body["title"] == "Malformed request"


@pytest.mark.parametrize("function", PROTECTED_BODIES)
def test_a_signed_in_body_that_is_not_json_is_400(invoke: Invoke, team: Team, function: str) -> None:
    reply = invoke(function, token=team.admin.token, body='{"title": "x"')

    assert reply.status == 400 and reply.body["status"] == 400


@pytest.mark.parametrize("body", ['{"title": "x"', '{"role": "admin", "extra": 1}', "[]", '{"size_bytes": "1"}'])
@pytest.mark.parametrize("function", PROTECTED_BODIES)
def test_nothing_of_a_body_is_parsed_for_an_anonymous_caller(
    invoke: Invoke, aws: object, function: str, body: str
) -> None:
    for token in (None, "not-a-token"):
        reply = invoke(function, token=token, body=body)

        assert reply.status == 401, (function, body, reply.body)
        assert "errors" not in reply.body


@pytest.mark.parametrize("size", ['"1831"', "1831.0", "true", "1.831e3"])
def test_size_bytes_must_be_a_json_integer(invoke: Invoke, team: Team, size: str) -> None:
    body = f'{{"title": "t", "filename": "f.mp4", "content_type": "video/mp4", "size_bytes": {size}}}'

    reply = invoke("media_create", token=team.editor.token, body=body)

    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == ["body.size_bytes"]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "Application/X-WWW-Form-URLencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
    ],
)
def test_the_login_form_content_type_matches_case_insensitively(
    invoke: Invoke, sign_up: SignUp, content_type: str
) -> None:
    sign_up("ada@example.com")

    reply = invoke(
        "auth_login",
        body="username=ada%40example.com&password=correct+horse+battery&grant_type=password",
        headers={"content-type": content_type},
    )

    assert reply.status == 200 and reply.body["token_type"] == "bearer"
