"""The users table. One table holds four kinds of item, keyed by `pk`:

- `USER#<id>`     the user (a sparse GSI on `kind`/`created_at` lists users newest first);
- `EMAIL#<email>` the uniqueness guard for an email, written in the same transaction as the user;
- `ADMINS`        the number of admins: creating it makes the first admin, and it never drops below one;
- `LOGIN#<email>` failed-login counter and lock, with a TTL.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from media_platform import clients
from media_platform.dal.dynamo import busy_on_throttle, error_code
from media_platform.errors import Conflict, NotFound
from media_platform.models import Role, User
from media_platform.settings import get_settings

USERS_BY_CREATION_INDEX = "UsersByCreation"
ADMINS_KEY = {"pk": {"S": "ADMINS"}}
CURSOR_KEYS = {"pk", "kind", "created_at"}


class FirstAdminTaken(Exception):
    """Somebody else became the first admin; sign this user up as a viewer instead."""


def _table() -> str:
    return get_settings().users_table


def _user_key(user_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"USER#{user_id}"}}


def _email_key(email: str) -> dict[str, Any]:
    return {"pk": {"S": f"EMAIL#{email}"}}


def _to_item(user: User) -> dict[str, Any]:
    return {
        **_user_key(user.id),
        "kind": {"S": "user"},
        "id": {"S": user.id},
        "email": {"S": user.email},
        "role": {"S": user.role.value},
        "password_hash": {"S": user.password_hash},
        "created_at": {"S": user.created_at.isoformat()},
    }


def _from_item(item: dict[str, Any]) -> User:
    return User(
        id=item["id"]["S"],
        email=item["email"]["S"],
        role=Role(item["role"]["S"]),
        password_hash=item["password_hash"]["S"],
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
    )


def create_user(user: User, first_admin: bool) -> None:
    """Writes the user and its email guard atomically; as first admin, also creates the admin counter.

    Raises Conflict when the email is taken, FirstAdminTaken when another signup already claimed the first admin.
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
            raise Conflict("An account with this email already exists.") from exc
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
    with busy_on_throttle():
        guard = clients.dynamodb().get_item(TableName=_table(), Key=_email_key(email)).get("Item")
    return get_user(guard["user_id"]["S"]) if guard else None


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
    with busy_on_throttle():
        page = clients.dynamodb().query(**query)
    return [_from_item(item) for item in page.get("Items", [])], page.get("LastEvaluatedKey")


def change_role(user: User, new_role: Role) -> None:
    """Sets the role if it is still what the caller saw, keeping the admin count in step.

    Raises Conflict when the user changed meanwhile or when this would demote the last admin.
    """
    delta = (new_role == Role.ADMIN) - (user.role == Role.ADMIN)
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": _table(),
                "Key": _user_key(user.id),
                "UpdateExpression": "SET #role = :new",
                "ConditionExpression": "#role = :old",
                "ExpressionAttributeNames": {"#role": "role"},
                "ExpressionAttributeValues": {":new": {"S": new_role.value}, ":old": {"S": user.role.value}},
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
            raise Conflict("The last admin cannot be demoted.") from exc
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise NotFound("No such user, or it changed meanwhile.") from exc
        raise


def failed_logins(email: str, now: float | None = None) -> tuple[int, bool]:
    """How long logins for this email stay refused (0 when not locked), and whether any failure is on record."""
    with busy_on_throttle():
        item = clients.dynamodb().get_item(TableName=_table(), Key={"pk": {"S": f"LOGIN#{email}"}}).get("Item")
    locked_until = int(item["locked_until"]["N"]) if item and "locked_until" in item else 0
    return max(0, locked_until - int(time.time() if now is None else now)), item is not None


def record_failed_login(email: str, max_failures: int, lock_seconds: int) -> None:
    """Counts a failure; at `max_failures` in a row the email is locked for `lock_seconds`."""
    now = int(time.time())
    key = {"pk": {"S": f"LOGIN#{email}"}}
    with busy_on_throttle():
        counted = clients.dynamodb().update_item(
            TableName=_table(),
            Key=key,
            UpdateExpression="ADD failures :one SET expires_at = :expires",
            ExpressionAttributeValues={":one": {"N": "1"}, ":expires": {"N": str(now + 86400)}},
            ReturnValues="UPDATED_NEW",
        )
        if int(counted["Attributes"]["failures"]["N"]) >= max_failures:
            clients.dynamodb().update_item(
                TableName=_table(),
                Key=key,
                UpdateExpression="SET failures = :zero, locked_until = :until",
                ExpressionAttributeValues={":zero": {"N": "0"}, ":until": {"N": str(now + lock_seconds)}},
            )


def clear_failed_logins(email: str) -> None:
    with busy_on_throttle():
        clients.dynamodb().delete_item(TableName=_table(), Key={"pk": {"S": f"LOGIN#{email}"}})
