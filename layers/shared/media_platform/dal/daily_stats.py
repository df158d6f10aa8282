"""The daily statistics table (kept forever), written by the rollup and read by the analytics.

- `MEDIA#<media_id>` / `DAY#<day>`: one media item's day: counted views, unique viewers, the unique-viewer sketch,
  its owner (editors see their own media in the top list). `day` feeds the StatsByDay index.
- `PARTIAL#<day>` / `<media_id>#<shard>`: what one rollup work item (a day's shard) found for one media item. Every
  viewer lands in one shard, so a day's unique viewers are the sum of its shards'.
- `RUN#<day>#<run_id>`: the shards of one rollup run of a day that are done; the work item that completes the set
  merges the day's partials into its daily items.
- `ROLLUP` / `DAY#<day>`: the day has been rolled up (later views of it are still read live until the next run).

Writes are puts of whole items, so re-running a day writes the same numbers however the work was split."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from media_platform import clients
from media_platform.dal.aws_errors import busy_on_throttle
from media_platform.dal.pages import query_items
from media_platform.settings import get_settings

BY_DAY_INDEX = "StatsByDay"
ROLLUP_PK = "ROLLUP"


@dataclass(frozen=True)
class DayStats:
    """One media item's day, or one shard of it (a partial)."""

    media_id: str
    owner_id: str
    day: str
    views: int
    unique_viewers: int
    sketch: bytes | None = None  # absent in what the StatsByDay index projects


def _table() -> str:
    return get_settings().resource("daily_stats_table")


def _numbers(stats: DayStats) -> dict[str, Any]:
    item: dict[str, Any] = {
        "media_id": {"S": stats.media_id},
        "owner_id": {"S": stats.owner_id},
        "views": {"N": str(stats.views)},
        "unique_viewers": {"N": str(stats.unique_viewers)},
    }
    if stats.sketch is not None:
        item["sketch"] = {"B": stats.sketch}
    return item


def _from_item(item: dict[str, Any], day: str) -> DayStats:
    return DayStats(
        media_id=item["media_id"]["S"],
        owner_id=item["owner_id"]["S"],
        day=day,
        views=int(item["views"]["N"]),
        unique_viewers=int(item["unique_viewers"]["N"]),
        sketch=bytes(item["sketch"]["B"]) if "sketch" in item else None,
    )


def _query(**kwargs: Any) -> Iterator[dict[str, Any]]:
    return _queries([kwargs])


def _queries(queries: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The items of each query in turn."""
    table = _table()
    with busy_on_throttle():
        for kwargs in queries:
            yield from query_items(table, **kwargs)


def _put(item: dict[str, Any]) -> None:
    with busy_on_throttle():
        clients.dynamodb().put_item(TableName=_table(), Item=item)


# The rollup's writes


def put_partial(stats: DayStats, shard: int) -> None:
    _put({"pk": {"S": f"PARTIAL#{stats.day}"}, "sk": {"S": f"{stats.media_id}#{shard:03d}"}, **_numbers(stats)})


def partials_of(day: str) -> Iterator[DayStats]:
    """Every partial of the day, read strongly consistent: the work item that completes a run reads partials that
    other workers put moments before, and an eventually consistent read may miss one."""
    items = _query(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"PARTIAL#{day}"}},
        ConsistentRead=True,
    )
    for item in items:
        yield _from_item(item, day)


def shards_done(day: str, run_id: str, shard: int) -> int:
    """Marks one shard of a run done and answers how many of the run's shards are (a redelivered work item adds
    nothing: the set holds each shard once)."""
    with busy_on_throttle():
        updated = clients.dynamodb().update_item(
            TableName=_table(),
            Key={"pk": {"S": f"RUN#{day}#{run_id}"}, "sk": {"S": "RUN"}},
            UpdateExpression="ADD done_shards :shard",
            ExpressionAttributeValues={":shard": {"SS": [f"{shard:03d}"]}},
            ReturnValues="ALL_NEW",  # UPDATED_NEW leaves out a set a redelivery did not change (moto)
        )
    return len(updated["Attributes"]["done_shards"]["SS"])


def put_day(stats: DayStats) -> None:
    _put(
        {
            "pk": {"S": f"MEDIA#{stats.media_id}"},
            "sk": {"S": f"DAY#{stats.day}"},
            "day": {"S": stats.day},
            **_numbers(stats),
        }
    )


def mark_rolled(day: str, rolled_at: str) -> None:
    _put({"pk": {"S": ROLLUP_PK}, "sk": {"S": f"DAY#{day}"}, "rolled_at": {"S": rolled_at}})


# The analytics' reads: each O(days in the range)


def days_of(media_id: str, first: str, last: str) -> Iterator[DayStats]:
    """The media item's rolled-up days from `first` to `last` (ISO dates, inclusive); days without views are absent."""
    items = _query(
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues={
            ":pk": {"S": f"MEDIA#{media_id}"},
            ":first": {"S": f"DAY#{first}"},
            ":last": {"S": f"DAY#{last}"},
        },
    )
    for item in items:
        yield _from_item(item, item["day"]["S"])


def rolled_days(first: str, last: str) -> set[str]:
    items = _query(
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues={
            ":pk": {"S": ROLLUP_PK},
            ":first": {"S": f"DAY#{first}"},
            ":last": {"S": f"DAY#{last}"},
        },
        ProjectionExpression="sk",
    )
    return {item["sk"]["S"].removeprefix("DAY#") for item in items}


def _by_day(day: str) -> dict[str, Any]:
    return {
        "IndexName": BY_DAY_INDEX,
        "KeyConditionExpression": "#day = :day",
        "ExpressionAttributeNames": {"#day": "day"},
        "ExpressionAttributeValues": {":day": {"S": day}},
    }


def media_of_day(day: str) -> Iterator[DayStats]:
    """Every media item's numbers of one rolled-up day (the StatsByDay index: no sketch)."""
    for item in _query(**_by_day(day)):
        yield _from_item(item, day)


def views_of_days(days: Iterable[str]) -> Iterator[tuple[str, str, int]]:
    """`(media_id, owner_id, views)` of every media item on each rolled-up day, one StatsByDay query a day in
    turn: all the top list adds up, without a DayStats for each."""
    for item in _queries(_by_day(day) for day in days):
        yield item["media_id"]["S"], item["owner_id"]["S"], int(item["views"]["N"])
