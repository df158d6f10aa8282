"""The users table. One table holds four kinds of item, keyed by `pk`:

- `USER#<id>`     the user (a sparse GSI on `kind`/`created_at` lists users newest first);
- `EMAIL#<email>` the uniqueness guard for an email, written in the same transaction as the user;
- `ADMINS`        the number of admins: creating it makes the first admin, and it never drops below one;
- `LOGIN#<email>` login attempts counted in the current window, with a TTL.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from media_platform import clients
from media_platform.dal.aws_errors import busy_on_throttle, error_code, refusing_bad_start_keys
from media_platform.models import Role, User
from media_platform.settings import get_settings

USERS_BY_CREATION_INDEX = "UsersByCreation"
ADMINS_KEY = {"pk": {"S": "ADMINS"}}
CURSOR_KEYS = {"pk", "kind", "created_at"}
LOGIN_RECORD_TTL_SECONDS = 86400
# Read in place of a user when an email has no account, so both cases make the same two reads.
_NO_USER_ID = "00000000-0000-0000-0000-000000000000"


class FirstAdminTaken(Exception):
    """Somebody else became the first admin; sign this user up as a viewer instead."""


class EmailTaken(Exception):
    """Another user holds this email already."""


class LastAdmin(Exception):
    """The change would leave no admin."""


class UserChanged(Exception):
    """The user no longer exists, or no longer has the role the caller read."""


class UserGone(Exception):
    """The user no longer exists."""


def _table() -> str:
    return get_settings().resource("users_table")


def _user_key(user_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"USER#{user_id}"}}


def _email_key(email: str) -> dict[str, Any]:
    return {"pk": {"S": f"EMAIL#{email}"}}


def _to_item(user: User) -> dict[str, Any]:
    item = {
        **_user_key(user.id),
        "kind": {"S": "user"},
        "id": {"S": user.id},
        "email": {"S": user.email},
        "role": {"S": user.role.value},
        "password_hash": {"S": user.password_hash},
        "created_at": {"S": user.created_at.isoformat()},
    }
    if user.tokens_valid_after is not None:
        item["tokens_valid_after"] = {"N": f"{user.tokens_valid_after:.3f}"}
    return item


def _from_item(item: dict[str, Any]) -> User:
    return User(
        id=item["id"]["S"],
        email=item["email"]["S"],
        role=Role(item["role"]["S"]),
        password_hash=item["password_hash"]["S"],
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        tokens_valid_after=float(item["tokens_valid_after"]["N"]) if "tokens_valid_after" in item else None,
    )


def create_user(user: User, first_admin: bool) -> None:
    """Writes the user and its email guard atomically; as first admin, also creates the admin counter.

    Raises EmailTaken when the email is taken, FirstAdminTaken when another signup already claimed the first admin.
    """
    puts: list[dict[str, Any]] = [
        {"Put": {"TableName": _table(), "Item": _to_item(user), "ConditionExpression": "attribute_not_exists(pk)"}},
        {
            "Put": {
                "TableName": _table(),
                "Item": {**_email_key(user.email), "user_id": {"S": user.id}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]
    if first_admin:
        puts.append(
            {
                "Put": {
                    "TableName": _table(),
                    "Item": {**ADMINS_KEY, "admin_count": {"N": "1"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
    try:
        with busy_on_throttle():
            clients.dynamodb().transact_write_items(TransactItems=puts)
    except ClientError as exc:
        if error_code(exc) != "TransactionCanceledException":
            raise
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            raise EmailTaken() from exc
        if first_admin and len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed":
            raise FirstAdminTaken() from exc
        raise


def admins_exist() -> bool:
    with busy_on_throttle():
        response = clients.dynamodb().get_item(TableName=_table(), Key=ADMINS_KEY, ConsistentRead=True)
    return "Item" in response


def get_user(user_id: str) -> User | None:
    with busy_on_throttle():
        item = clients.dynamodb().get_item(TableName=_table(), Key=_user_key(user_id)).get("Item")
    return _from_item(item) if item else None


def get_user_by_email(email: str) -> User | None:
    """Two reads whether or not the email has an account, so the work done does not tell which."""
    with busy_on_throttle():
        guard = clients.dynamodb().get_item(TableName=_table(), Key=_email_key(email)).get("Item")
    return get_user(guard["user_id"]["S"] if guard else _NO_USER_ID)


def list_users(limit: int, start_key: dict[str, Any] | None) -> tuple[list[User], dict[str, Any] | None]:
    query: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": USERS_BY_CREATION_INDEX,
        "KeyConditionExpression": "kind = :user",
        "ExpressionAttributeValues": {":user": {"S": "user"}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start_key:
        query["ExclusiveStartKey"] = start_key
    with busy_on_throttle(), refusing_bad_start_keys(start_key):
        page = clients.dynamodb().query(**query)
    return [_from_item(item) for item in page.get("Items", [])], page.get("LastEvaluatedKey")


def change_role(user: User, new_role: Role, sessions_end_at: float) -> None:
    """Sets the role if it is still what the caller saw, keeping the admin count in step, and ends the user's
    sessions (tokens issued before `sessions_end_at` are refused).

    Raises UserChanged when the user changed or went meanwhile, LastAdmin when this would demote the last admin.
    """
    delta = (new_role == Role.ADMIN) - (user.role == Role.ADMIN)
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": _table(),
                "Key": _user_key(user.id),
                "UpdateExpression": "SET #role = :new, tokens_valid_after = :ended",
                "ConditionExpression": "#role = :old",
                "ExpressionAttributeNames": {"#role": "role"},
                "ExpressionAttributeValues": {
                    ":new": {"S": new_role.value},
                    ":old": {"S": user.role.value},
                    ":ended": {"N": f"{sessions_end_at:.3f}"},
                },
            }
        }
    ]
    if delta:
        update: dict[str, Any] = {
            "TableName": _table(),
            "Key": ADMINS_KEY,
            "UpdateExpression": "ADD admin_count :delta",
            "ExpressionAttributeValues": {":delta": {"N": str(delta)}},
        }
        if delta < 0:
            update["ConditionExpression"] = "admin_count > :one"
            update["ExpressionAttributeValues"][":one"] = {"N": "1"}
        items.append({"Update": update})
    try:
        with busy_on_throttle():
            clients.dynamodb().transact_write_items(TransactItems=items)
    except ClientError as exc:
        if error_code(exc) != "TransactionCanceledException":
            raise
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            raise LastAdmin() from exc
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise UserChanged() from exc
        raise


def end_sessions(user_id: str, at: float) -> None:
    """Refuses every token of this user issued before `at`. Raises UserGone when the user no longer exists."""
    try:
        with busy_on_throttle():
            clients.dynamodb().update_item(
                TableName=_table(),
                Key=_user_key(user_id),
                UpdateExpression="SET tokens_valid_after = :at",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":at": {"N": f"{at:.3f}"}},
            )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            raise UserGone() from exc
        raise


def _login_key(email: str) -> dict[str, Any]:
    return {"pk": {"S": f"LOGIN#{email}"}}


def count_login_attempt(email: str, max_attempts: int, window_seconds: int, now: float | None = None) -> int:
    """Counts one login attempt for this email *before* its password is checked, in one conditional write, so
    concurrent guesses cannot outrun the limit: at most `max_attempts` attempts per window go ahead.

    Returns 0 when the attempt may go ahead, else the seconds until the window ends and attempts are allowed again.
    """
    moment = int(time.time() if now is None else now)
    key = _login_key(email)
    for _ in range(3):  # a lost race to start a new window is retried against the winner's count
        try:
            with busy_on_throttle():
                clients.dynamodb().update_item(
                    TableName=_table(),
                    Key=key,
                    UpdateExpression="ADD attempts :one SET window_ends = if_not_exists(window_ends, :ends), "
                    "expires_at = :expires",
                    ConditionExpression="attribute_not_exists(attempts) OR (attempts < :max AND window_ends > :now)",
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":max": {"N": str(max_attempts)},
                        ":now": {"N": str(moment)},
                        ":ends": {"N": str(moment + window_seconds)},
                        ":expires": {"N": str(moment + LOGIN_RECORD_TTL_SECONDS)},
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            return 0
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            seen: dict[str, Any] = exc.response.get("Item", {})  # type: ignore[assignment]
            window_ends = int(seen.get("window_ends", {}).get("N", moment + window_seconds))
        if window_ends > moment:
            return window_ends - moment  # the limit is reached in this window
        if _start_window(key, seen_end=window_ends, now=moment, window_seconds=window_seconds):
            return 0
    return window_seconds


def _start_window(key: dict[str, Any], seen_end: int, now: int, window_seconds: int) -> bool:
    """Starts a new window with this attempt counted, unless another attempt already did."""
    try:
        with busy_on_throttle():
            clients.dynamodb().update_item(
                TableName=_table(),
                Key=key,
                UpdateExpression="SET attempts = :one, window_ends = :ends, expires_at = :expires",
                ConditionExpression="window_ends = :seen",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":seen": {"N": str(seen_end)},
                    ":ends": {"N": str(now + window_seconds)},
                    ":expires": {"N": str(now + LOGIN_RECORD_TTL_SECONDS)},
                },
            )
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        return False
    return True


def clear_login_attempts(email: str) -> None:
    with busy_on_throttle():
        clients.dynamodb().delete_item(TableName=_table(), Key=_login_key(email))
