"""The views table: the raw view log and the dedupe markers (template.yaml describes the keys).

A view record lives under `VIEWS#<day>#<shard>`, the shard chosen by the viewer, so a day's views spread over
`view_shards` partitions whatever media item is viral, every view of one viewer lands in one shard (per-shard unique
counts add up), and the rollup reads a day back one shard at a time. Within a shard the sort key starts with the
media id, so one media item's views of a day are a `begins_with` query per shard."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from media_platform import clients
from media_platform.dal.aws_errors import busy_on_throttle, error_code
from media_platform.dal.pages import query_items
from media_platform.settings import get_settings

MARKER_SORT_KEY = "SEEN"


@dataclass(frozen=True)
class ViewRecord:
    media_id: str
    owner_id: str
    view_id: str
    viewed_at: datetime  # UTC
    viewer: str  # the keyed hash of the viewer identity
    counted: bool
    token_kind: str
    client_ip: str | None  # as ViewIpMode keeps it
    user_agent: str | None
    user_id: str | None
    expires_at: int  # epoch seconds: DynamoDB TTL removes the record after the retention period

    @property
    def day(self) -> str:
        return day_of(self.viewed_at)


def day_of(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def shard_of(viewer: str, shards: int) -> int:
    return int(viewer[:8], 16) % shards


def partition(day: str, shard: int) -> str:
    return f"VIEWS#{day}#{shard:03d}"


def _table() -> str:
    return get_settings().resource("views_table")


def _to_item(record: ViewRecord, shards: int) -> dict[str, Any]:
    viewed_at = record.viewed_at.astimezone(UTC).isoformat(timespec="milliseconds")
    item: dict[str, Any] = {
        "pk": {"S": partition(record.day, shard_of(record.viewer, shards))},
        "sk": {"S": f"{record.media_id}#{viewed_at}#{record.view_id}"},
        "media_id": {"S": record.media_id},
        "owner_id": {"S": record.owner_id},
        "viewed_at": {"S": viewed_at},
        "viewer": {"S": record.viewer},
        "counted": {"BOOL": record.counted},
        "token_kind": {"S": record.token_kind},
        "expires_at": {"N": str(record.expires_at)},
    }
    for name in ("client_ip", "user_agent", "user_id"):
        if (value := getattr(record, name)) is not None:
            item[name] = {"S": value}
    return item


def _from_item(item: dict[str, Any]) -> ViewRecord:
    def optional(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    return ViewRecord(
        media_id=item["media_id"]["S"],
        owner_id=item["owner_id"]["S"],
        view_id=item["sk"]["S"].rsplit("#", 1)[1],
        viewed_at=datetime.fromisoformat(item["viewed_at"]["S"]),
        viewer=item["viewer"]["S"],
        counted=item["counted"]["BOOL"],
        token_kind=item["token_kind"]["S"],
        client_ip=optional("client_ip"),
        user_agent=optional("user_agent"),
        user_id=optional("user_id"),
        expires_at=int(item["expires_at"]["N"]),
    )


def claim_window(media_id: str, viewer: str, now_ms: int, window_seconds: int) -> bool:
    """Whether this view opens a new counting window for the viewer: one conditional write decides, so concurrent
    views from one viewer count once. The marker outlives its window by a day at most (TTL cleans it up)."""
    window_ends = now_ms + window_seconds * 1000
    try:
        with busy_on_throttle():
            clients.dynamodb().put_item(
                TableName=_table(),
                Item={
                    "pk": {"S": f"SEEN#{media_id}#{viewer}"},
                    "sk": {"S": MARKER_SORT_KEY},
                    "window_ends": {"N": str(window_ends)},
                    "expires_at": {"N": str(window_ends // 1000 + 86400)},
                },
                ConditionExpression="attribute_not_exists(pk) OR window_ends <= :now",
                ExpressionAttributeValues={":now": {"N": str(now_ms)}},
            )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def put_view(record: ViewRecord) -> None:
    with busy_on_throttle():
        clients.dynamodb().put_item(TableName=_table(), Item=_to_item(record, get_settings().view_shards))


def views_in_shard(day: str, shard: int, media_id: str | None = None) -> Iterator[ViewRecord]:
    """Every view record of one day and shard (of one media item if given), in media-id then time order."""
    condition = "pk = :pk"
    values: dict[str, Any] = {":pk": {"S": partition(day, shard)}}
    if media_id is not None:
        condition += " AND begins_with(sk, :media)"
        values[":media"] = {"S": f"{media_id}#"}
    with busy_on_throttle():
        for item in query_items(_table(), KeyConditionExpression=condition, ExpressionAttributeValues=values):
            yield _from_item(item)


def views_of(media_id: str, day: str) -> Iterator[ViewRecord]:
    """One media item's views of one day, every shard."""
    for shard in range(get_settings().view_shards):
        yield from views_in_shard(day, shard, media_id)
