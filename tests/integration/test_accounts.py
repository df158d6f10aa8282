"""Accounts and authentication through the real handlers, on moto."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable

import boto3
import pytest
from botocore.stub import Stubber

from media_platform import accounts, clients
from media_platform.errors import Conflict
from media_platform.models import SignupRequest
from tests.integration.conftest import Invoke, Reply
from tests.support import AtomicDynamoDB, QueriesThrough, RoutedCalls

SignUp = Callable[..., Reply]
LogIn = Callable[..., str]


def problem(status: int, title: str, slug: str, detail: str) -> dict[str, object]:
    return {"type": f"https://media-platform.dev/problems/{slug}", "title": title, "status": status, "detail": detail}


def failing_dynamodb(operation: str, code: str, **modeled_fields: object) -> Stubber:
    """DynamoDB as moto serves it, except that `operation` fails once with `code`."""
    stubbed = boto3.client("dynamodb", region_name="us-east-1")
    stubber = Stubber(stubbed)
    stubber.add_client_error(operation, code, http_status_code=400, modeled_fields=modeled_fields or None)
    stubber.activate()
    clients.override("dynamodb", RoutedCalls(boto3.client("dynamodb", region_name="us-east-1"), stubbed, operation))
    return stubber


def users_table_items() -> list[dict[str, object]]:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("media-platform-local-UsersTable")
    return list(table.scan()["Items"])


def test_the_first_account_is_admin_and_later_ones_are_viewers(sign_up: SignUp) -> None:
    first = sign_up("Ada@Example.com")
    second = sign_up("bob@example.com")

    assert (first.status, first.body["role"], first.body["email"]) == (201, "admin", "ada@example.com")
    assert (second.status, second.body["role"]) == (201, "viewer")
    assert set(first.body) == {"id", "email", "role", "created_at"}


def test_a_duplicate_email_is_a_conflict(sign_up: SignUp) -> None:
    sign_up("ada@example.com")

    again = sign_up("ADA@example.com")

    assert again.status == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.body == problem(409, "Conflict", "conflict", "An account with this email already exists.")
    assert len([i for i in users_table_items() if str(i["pk"]).startswith("USER#")]) == 1


def test_a_bad_signup_names_the_field_and_writes_nothing(invoke: Invoke) -> None:
    reply = invoke("auth_signup", body={"email": "ada@example.com", "password": "short"})

    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == ["body.password"]
    assert "at least 8 characters" in reply.body["errors"][0]["message"]
    assert users_table_items() == []


def test_a_client_cannot_choose_its_role(invoke: Invoke) -> None:
    reply = invoke("auth_signup", body={"email": "ada@example.com", "password": "correct horse", "role": "admin"})

    assert reply.status == 422
    assert users_table_items() == []


def test_concurrent_signups_with_one_email_create_one_user(aws: object) -> None:
    clients.override("dynamodb", AtomicDynamoDB(boto3.client("dynamodb", region_name="us-east-1")))
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            accounts.signup(SignupRequest(email="race@example.com", password="correct horse"))
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "created"]
    assert len([i for i in users_table_items() if str(i["pk"]).startswith("USER#")]) == 1


def test_concurrent_first_signups_make_exactly_one_admin(aws: object) -> None:
    clients.override("dynamodb", AtomicDynamoDB(boto3.client("dynamodb", region_name="us-east-1")))
    roles: list[str] = []

    def attempt(n: int) -> None:
        roles.append(accounts.signup(SignupRequest(email=f"first{n}@example.com", password="correct horse")).role)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(roles) == ["admin", "viewer", "viewer", "viewer"]


def test_closed_signup_still_lets_the_first_admin_in(sign_up: SignUp, monkeypatch: pytest.MonkeyPatch) -> None:
    from media_platform.settings import get_settings

    monkeypatch.setenv("SIGNUP_OPEN", "false")
    get_settings.cache_clear()

    assert sign_up("ada@example.com").status == 201
    refused = sign_up("bob@example.com")
    assert refused.status == 403


def test_login_with_json_and_form_returns_a_bearer_token(invoke: Invoke, sign_up: SignUp) -> None:
    sign_up("ada@example.com")

    as_json = invoke("auth_login", body={"email": "ADA@example.com", "password": "correct horse battery"})
    as_form = invoke(
        "auth_login",
        body="username=ada%40example.com&password=correct+horse+battery&grant_type=password",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    for reply in (as_json, as_form):
        assert reply.status == 200
        assert reply.body["token_type"] == "bearer"
        assert reply.body["expires_in"] == 1800
        assert set(reply.body) == {"access_token", "token_type", "expires_in"}


def test_unknown_email_and_wrong_password_look_the_same(invoke: Invoke, sign_up: SignUp) -> None:
    sign_up("ada@example.com")

    wrong = invoke("auth_login", body={"email": "ada@example.com", "password": "wrong password"})
    unknown = invoke("auth_login", body={"email": "nobody@example.com", "password": "wrong password"})
    too_long = invoke("auth_login", body={"email": "ada@example.com", "password": "é" * 40})
    not_an_email = invoke("auth_login", body={"email": "nobody", "password": "wrong password"})

    assert wrong.status == unknown.status == too_long.status == not_an_email.status == 401
    assert wrong.body == unknown.body == too_long.body == not_an_email.body


def test_repeated_failures_lock_the_account_with_retry_after(invoke: Invoke, sign_up: SignUp) -> None:
    sign_up("ada@example.com")
    for _ in range(5):
        assert invoke("auth_login", body={"email": "ada@example.com", "password": "wrong password"}).status == 401

    locked = invoke("auth_login", body={"email": "ada@example.com", "password": "correct horse battery"})
    unknown_locked = [invoke("auth_login", body={"email": "x@example.com", "password": "nope nope"}) for _ in range(6)]

    assert locked.status == 429
    assert 1 <= int(locked.headers["retry-after"]) <= 60
    assert unknown_locked[-1].status == 429  # unknown emails lock the same way: no account oracle


def test_a_malformed_stored_hash_gives_the_generic_401(invoke: Invoke, sign_up: SignUp) -> None:
    user_id = sign_up("ada@example.com").body["id"]
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("media-platform-local-UsersTable")
    table.update_item(
        Key={"pk": f"USER#{user_id}"}, UpdateExpression="SET password_hash = :h", ExpressionAttributeValues={":h": "x"}
    )

    reply = invoke("auth_login", body={"email": "ada@example.com", "password": "correct horse battery"})

    assert reply.status == 401


def test_me_returns_the_signed_in_user(invoke: Invoke, sign_up: SignUp, log_in: LogIn) -> None:
    created = sign_up("ada@example.com").body

    reply = invoke("auth_me", token=log_in("ada@example.com"))

    assert reply.status == 200
    assert reply.body == created


@pytest.mark.parametrize("token", [None, "garbage", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])
def test_me_without_a_valid_token_is_401(invoke: Invoke, token: str | None) -> None:
    reply = invoke("auth_me", token=token)

    assert reply.status == 401
    assert reply.headers["www-authenticate"] == "Bearer"


def test_admins_list_users_page_by_page(invoke: Invoke, sign_up: SignUp, log_in: LogIn) -> None:
    for name in ("ada", "bob", "cy"):
        sign_up(f"{name}@example.com")
    token = log_in("ada@example.com")

    first = invoke("users_list", token=token, query="limit=2")
    second = invoke("users_list", token=token, query=f"limit=2&cursor={first.body['next_cursor']}")

    emails = [u["email"] for u in first.body["items"] + second.body["items"]]
    assert emails == ["cy@example.com", "bob@example.com", "ada@example.com"]
    assert second.body["next_cursor"] is None
    assert all("password_hash" not in u for u in first.body["items"])


def test_a_forged_cursor_is_422(invoke: Invoke, sign_up: SignUp, log_in: LogIn) -> None:
    sign_up("ada@example.com")

    reply = invoke("users_list", token=log_in("ada@example.com"), query="cursor=bm9wZQ")

    assert reply.status == 422


def test_viewers_cannot_manage_users(invoke: Invoke, sign_up: SignUp, log_in: LogIn) -> None:
    sign_up("ada@example.com")
    bob = sign_up("bob@example.com").body
    token = log_in("bob@example.com")

    listing = invoke("users_list", token=token)
    promotion = invoke("users_update", token=token, body={"role": "admin"}, path_params={"user_id": bob["id"]})

    assert listing.status == promotion.status == 403


def test_admins_change_roles_but_never_demote_the_last_admin(invoke: Invoke, sign_up: SignUp, log_in: LogIn) -> None:
    ada = sign_up("ada@example.com").body
    bob = sign_up("bob@example.com").body
    token = log_in("ada@example.com")

    def set_role(user: dict[str, str], role: str, as_token: str = token) -> Reply:
        path = f"/users/{user['id']}"
        return invoke(
            "users_update", token=as_token, body={"role": role}, path=path, path_params={"user_id": user["id"]}
        )

    assert set_role(bob, "editor").body["role"] == "editor"
    assert set_role(ada, "viewer").status == 409
    assert set_role(bob, "admin").status == 200
    assert set_role(ada, "viewer").body["role"] == "viewer"  # bob is admin now
    bob_token = log_in("bob@example.com")
    refused = set_role(bob, "editor", as_token=bob_token)  # bob is the last admin
    assert refused.body == problem(409, "Conflict", "conflict", "The last admin cannot be demoted.")


def test_a_role_change_racing_another_is_404(invoke: Invoke, sign_up: SignUp, log_in: LogIn) -> None:
    # Given a user whose role another admin changes between our read and our write
    sign_up("ada@example.com")
    bob = sign_up("bob@example.com").body
    token = log_in("ada@example.com")
    reasons = [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}]
    stubber = failing_dynamodb("transact_write_items", "TransactionCanceledException", CancellationReasons=reasons)

    # When this admin's change is written
    reply = invoke(
        "users_update",
        token=token,
        body={"role": "editor"},
        path=f"/users/{bob['id']}",
        path_params={"user_id": bob["id"]},
    )

    # Then it is refused as a user that no longer is what was read
    assert reply.body == problem(404, "Not found", "not-found", "No such user, or it changed meanwhile.")
    stubber.assert_no_pending_responses()


def test_logging_out_an_account_removed_meanwhile_is_404(invoke: Invoke, sign_up: SignUp, log_in: LogIn) -> None:
    sign_up("ada@example.com")
    token = log_in("ada@example.com")
    stubber = failing_dynamodb("update_item", "ConditionalCheckFailedException")

    reply = invoke("auth_logout", token=token)

    assert reply.body == problem(404, "Not found", "not-found", "No such user.")
    stubber.assert_no_pending_responses()


def test_role_changes_refuse_unknown_users_and_bad_input(invoke: Invoke, sign_up: SignUp, log_in: LogIn) -> None:
    sign_up("ada@example.com")
    token = log_in("ada@example.com")
    unknown = "0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11"

    missing = invoke("users_update", token=token, body={"role": "editor"}, path_params={"user_id": unknown})
    bad_role = invoke("users_update", token=token, body={"role": "root"}, path_params={"user_id": unknown})
    bad_id = invoke("users_update", token=token, body={"role": "editor"}, path="/users/x", path_params={"user_id": "x"})

    assert (missing.status, bad_role.status, bad_id.status) == (404, 422, 422)


def test_throttling_becomes_503_with_retry_after(invoke: Invoke, aws: object) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error("get_item", "ProvisionedThroughputExceededException", http_status_code=400)
    stubber.activate()
    clients.override("dynamodb", client)

    reply = invoke("auth_signup", body={"email": "ada@example.com", "password": "correct horse"})

    assert reply.status == 503
    assert reply.headers["retry-after"] == "2"


def test_no_response_or_log_line_carries_a_hash_or_token(
    invoke: Invoke, sign_up: SignUp, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    sign_up("ada@example.com")
    login = invoke("auth_login", body={"email": "ada@example.com", "password": "correct horse battery"})
    token = login.body["access_token"]
    me = invoke("auth_me", token=token)

    stored_hash = next(i for i in users_table_items() if str(i["pk"]).startswith("USER#"))["password_hash"]
    logs = capsys.readouterr().out + caplog.text
    assert str(stored_hash) not in logs and token not in logs and "correct horse battery" not in logs
    assert "password_hash" not in str(me.body) and "$2b$" not in str(me.body)


def test_a_successful_login_clears_the_failure_count(invoke: Invoke, sign_up: SignUp) -> None:
    sign_up("ada@example.com")
    wrong = {"email": "ada@example.com", "password": "wrong password"}
    for _ in range(4):
        invoke("auth_login", body=wrong)
    assert invoke("auth_login", body={"email": "ada@example.com", "password": "correct horse battery"}).status == 200

    after = [invoke("auth_login", body=wrong).status for _ in range(4)]

    assert after == [401, 401, 401, 401]  # counting started again: not locked yet


def test_a_start_key_dynamodb_refuses_is_a_422_naming_the_cursor(
    invoke: Invoke, sign_up: SignUp, log_in: LogIn
) -> None:
    for name in ("ada", "bob"):
        sign_up(f"{name}@example.com")
    token = log_in("ada@example.com")
    cursor = invoke("users_list", token=token, query="limit=1").body["next_cursor"]
    stubbed = boto3.client("dynamodb", region_name="us-east-1")
    stubber = Stubber(stubbed)
    stubber.add_client_error("query", "ValidationException", "The provided starting key is invalid", 400)
    stubber.activate()
    clients.override("dynamodb", QueriesThrough(boto3.client("dynamodb", region_name="us-east-1"), stubbed))

    reply = invoke("users_list", token=token, query=f"limit=1&cursor={cursor}")

    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == ["query.cursor"]
    stubber.assert_no_pending_responses()


def test_an_edited_users_cursor_is_422(invoke: Invoke, sign_up: SignUp, log_in: LogIn) -> None:
    for name in ("ada", "bob"):
        sign_up(f"{name}@example.com")
    token = log_in("ada@example.com")
    payload, signature = invoke("users_list", token=token, query="limit=1").body["next_cursor"].split(".")
    key = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    key["kind"] = {"S": "media"}  # another partition: DynamoDB itself would answer ValidationException
    edited = base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")

    reply = invoke("users_list", token=token, query=f"cursor={edited}.{signature}")

    assert reply.status == 422 and reply.body["errors"][0]["field"] == "query.cursor"
