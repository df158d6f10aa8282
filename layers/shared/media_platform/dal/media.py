"""The media table: one item per asset, keyed by `media_id`. Two sparse-free GSIs list assets newest first:
`MediaByStatus` (status, created_at) and `MediaByCreation` (kind, created_at). Every state change is conditional
on the state the caller saw, so concurrent or repeated deliveries cannot move an asset backwards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from media_platform import clients
from media_platform.dal.aws_errors import busy_on_throttle, error_code, refusing_bad_start_keys
from media_platform.models import Media, MediaStatus, Visibility
from media_platform.settings import get_settings

BY_STATUS_INDEX = "MediaByStatus"
BY_CREATION_INDEX = "MediaByCreation"
CURSOR_KEYS = {"by_status": {"media_id", "status", "created_at"}, "by_creation": {"media_id", "kind", "created_at"}}


class StaleState(Exception):
    """The asset is no longer in the state the caller expected (another delivery or request got there first)."""


def _table() -> str:
    return get_settings().resource("media_table")


def _key(media_id: str) -> dict[str, Any]:
    return {"media_id": {"S": media_id}}


_OPTIONAL = ("description", "upload_id", "failure_reason", "detected_type", "etag", "version_id")


def _to_item(media: Media) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_key(media.id),
        "kind": {"S": "media"},
        "title": {"S": media.title},
        "filename": {"S": media.filename},
        "content_type": {"S": media.content_type},
        "size_bytes": {"N": str(media.size_bytes)},
        "status": {"S": media.status.value},
        "owner_id": {"S": media.owner_id},
        "object_key": {"S": media.object_key},
        "created_at": {"S": media.created_at.isoformat()},
        "updated_at": {"S": media.updated_at.isoformat()},
        "upload_expires_at": {"N": str(media.upload_expires_at)},
    }
    for name in _OPTIONAL:
        if (value := getattr(media, name)) is not None:
            item[name] = {"S": value}
    if media.streams_valid_after is not None:
        item["streams_valid_after"] = {"N": f"{media.streams_valid_after:.3f}"}
    if media.part_size is not None:
        item["part_size"] = {"N": str(media.part_size)}
    return item


def _from_item(item: dict[str, Any]) -> Media:
    return Media(
        id=item["media_id"]["S"],
        title=item["title"]["S"],
        filename=item["filename"]["S"],
        content_type=item["content_type"]["S"],
        size_bytes=int(item["size_bytes"]["N"]),
        status=MediaStatus(item["status"]["S"]),
        owner_id=item["owner_id"]["S"],
        object_key=item["object_key"]["S"],
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        updated_at=datetime.fromisoformat(item["updated_at"]["S"]),
        upload_expires_at=int(item["upload_expires_at"]["N"]),
        streams_valid_after=float(item["streams_valid_after"]["N"]) if "streams_valid_after" in item else None,
        part_size=int(item["part_size"]["N"]) if "part_size" in item else None,
        **{name: item[name]["S"] for name in _OPTIONAL if name in item},
    )


def put_new(media: Media) -> None:
    with busy_on_throttle():
        clients.dynamodb().put_item(
            TableName=_table(), Item=_to_item(media), ConditionExpression="attribute_not_exists(media_id)"
        )


def get(media_id: str) -> Media | None:
    with busy_on_throttle():
        item = clients.dynamodb().get_item(TableName=_table(), Key=_key(media_id), ConsistentRead=True).get("Item")
    return _from_item(item) if item else None


def transition(
    media: Media, expected: set[MediaStatus], *, deadline_before: int | None = None, **changes: Any
) -> Media:
    """Applies `changes` (status and details) only if the asset is still in one of the `expected` states, and, given
    `deadline_before`, only if its upload deadline is still earlier than that (no re-signing moved it on since)."""
    updated = media.model_copy(update=changes)
    stored = _to_item(updated)
    # Every attribute goes through a name placeholder: `status` and others are DynamoDB reserved words.
    names = {"#status": "status", **{f"#{field}": field for field in changes}}
    sets = [f"#{field} = :{field}" for field, value in changes.items() if value is not None]
    removes = [f"#{field}" for field, value in changes.items() if value is None]
    values = {f":{field}": stored[field] for field, value in changes.items() if value is not None}
    states = {f":expected{i}": {"S": s.value} for i, s in enumerate(sorted(expected))}
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    condition = f"#status IN ({', '.join(states)})"
    if deadline_before is not None:
        condition += " AND upload_expires_at < :deadline"
        values[":deadline"] = {"N": str(deadline_before)}
    try:
        with busy_on_throttle():
            clients.dynamodb().update_item(
                TableName=_table(),
                Key=_key(media.id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**values, **states},
            )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            raise StaleState(media.id) from exc
        raise
    return updated


def extend_upload(media: Media, until: int) -> None:
    """Moves the upload deadline of a pending multipart upload on to `until`, never back. StaleState when the asset
    is no longer pending with this upload, or its deadline is already as late (the caller reads it again to tell)."""
    try:
        with busy_on_throttle():
            clients.dynamodb().update_item(
                TableName=_table(),
                Key=_key(media.id),
                UpdateExpression="SET upload_expires_at = :until",
                ConditionExpression="#status = :pending AND upload_id = :upload_id AND upload_expires_at < :until",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":until": {"N": str(until)},
                    ":pending": {"S": MediaStatus.PENDING_UPLOAD.value},
                    ":upload_id": {"S": str(media.upload_id)},
                },
            )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            raise StaleState(media.id) from exc
        raise


def revoke_streams(media_id: str, valid_after: float) -> None:
    """Stream tokens of the asset issued before `valid_after` are refused from now on: the stream endpoint reads it
    with the media item it reads anyway. Never moves backwards; StaleState when the asset is gone."""
    try:
        with busy_on_throttle():
            clients.dynamodb().update_item(
                TableName=_table(),
                Key=_key(media_id),
                UpdateExpression="SET streams_valid_after = :at",
                ConditionExpression="attribute_exists(media_id) AND "
                "(attribute_not_exists(streams_valid_after) OR streams_valid_after < :at)",
                ExpressionAttributeValues={":at": {"N": f"{valid_after:.3f}"}},
            )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            raise StaleState(media_id) from exc
        raise


def list_visible(
    visible: Visibility, *, status: MediaStatus | None, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[Media], dict[str, Any] | None]:
    """One page newest first of the media `visible` admits: of `status` when given, else of any status."""
    queried = frozenset({status}) if status else frozenset(MediaStatus)
    if not visible.statuses & queried:
        return [], None
    expression, values = _visibility_filter(visible, queried)
    return _query_page(
        status=status, filter_expression=expression, filter_values=values, limit=limit, start_key=start_key
    )


def _visibility_filter(visible: Visibility, queried: frozenset[MediaStatus]) -> tuple[str | None, dict[str, Any]]:
    """The FilterExpression (None: keep every item) that keeps exactly what `visible.admits` of a query returning
    `queried` statuses, something of which it admits: any owner's media of its `anyones` statuses, and the caller's
    own of its `own` statuses."""
    anyones = visible.anyones & queried
    own = (visible.own & queried) - anyones
    if anyones == queried:
        return None, {}  # the key condition returns nothing else
    values: dict[str, Any] = {}
    clauses = [_status_in("anyone", anyones, values)] if anyones else []
    if own:
        values[":me"] = {"S": visible.caller_id}
        clauses.append("owner_id = :me" if own == queried else f"owner_id = :me AND {_status_in('own', own, values)}")
    return (clauses[0] if len(clauses) == 1 else " OR ".join(f"({clause})" for clause in clauses)), values


def _status_in(prefix: str, statuses: frozenset[MediaStatus], values: dict[str, Any]) -> str:
    """`#status IN (...)` over these statuses, their placeholders added to `values`."""
    placeholders = {f":{prefix}{i}": {"S": status.value} for i, status in enumerate(sorted(statuses))}
    values.update(placeholders)
    return f"#status IN ({', '.join(placeholders)})"


def _query_page(
    *,
    status: MediaStatus | None,
    filter_expression: str | None,
    filter_values: dict[str, Any],
    limit: int,
    start_key: dict[str, Any] | None,
) -> tuple[list[Media], dict[str, Any] | None]:
    """One page newest first, from the status index when a status is given, else from the creation index."""
    names = {"#status": "status"}
    if status is not None:
        query: dict[str, Any] = {
            "IndexName": BY_STATUS_INDEX,
            "KeyConditionExpression": "#status = :status",
            "ExpressionAttributeValues": {":status": {"S": status.value}, **filter_values},
        }
    else:
        query = {
            "IndexName": BY_CREATION_INDEX,
            "KeyConditionExpression": "kind = :kind",
            "ExpressionAttributeValues": {":kind": {"S": "media"}, **filter_values},
        }
    if filter_expression:
        query["FilterExpression"] = filter_expression
    if "#status" in (query["KeyConditionExpression"] + (filter_expression or "")):
        query["ExpressionAttributeNames"] = names
    if start_key:
        query["ExclusiveStartKey"] = start_key
    with busy_on_throttle(), refusing_bad_start_keys(start_key):
        page = clients.dynamodb().query(TableName=_table(), ScanIndexForward=False, Limit=limit, **query)
    return [_from_item(item) for item in page.get("Items", [])], page.get("LastEvaluatedKey")


def pending_expired_before(epoch: int) -> list[Media]:
    """Every asset still waiting for its upload after its upload window closed."""
    found: list[Media] = []
    start_key: dict[str, Any] | None = None
    while True:
        page, start_key = _query_page(
            status=MediaStatus.PENDING_UPLOAD,
            filter_expression="upload_expires_at < :now",
            filter_values={":now": {"N": str(epoch)}},
            limit=100,
            start_key=start_key,
        )
        found += page
        if not start_key:
            return found
