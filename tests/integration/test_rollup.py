"""The daily rollup through its real handlers on moto: views written with `put_view`, the scheduled handler's work
items taken off the real queue and fed to the worker's handler as SQS batches, the numbers read back with the daily
statistics' read side and compared with a brute-force recount of the same views."""

from __future__ import annotations

import json
import random
import threading
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.local_stack.resources import create_tables
from devtools.local_stack.template import Template
from devtools.local_stack.triggers import sqs_event
from media_platform import analytics, clients, rollup, rollup_plan
from media_platform.dal import daily_stats, views
from media_platform.dal.views import ViewRecord
from media_platform.errors import InvalidInput
from media_platform.rollup_plan import WorkItem
from media_platform.settings import get_settings
from media_platform.sketches import unique_count
from tests.support import AtomicDynamoDB, FakeContext, handler_of

SHARDS = 4  # few shards keep each example cheap; the split logic is the same at 16 or 256
NOW = datetime(2026, 11, 25, 0, 15, tzinfo=UTC)  # the schedule's time: rolls the 23rd and the 24th
TODAY = NOW.date()
MEDIA = [f"media-{n}" for n in range(4)]
OWNERS = {media_id: f"owner-{n % 2}" for n, media_id in enumerate(MEDIA)}

Numbers = dict[tuple[str, str], tuple[int, int]]  # (day, media id) -> (views, unique viewers)
TEMPLATE = Template.load()  # once: parsing it takes a while
QUEUE_URL, QUEUE_ARN = TEMPLATE.queue_url("RollupQueue"), TEMPLATE.arn("RollupQueue")


@pytest.fixture
def stack(aws: Template, monkeypatch: pytest.MonkeyPatch) -> Template:
    monkeypatch.setenv("VIEW_SHARDS", str(SHARDS))
    monkeypatch.setattr(rollup_plan, "clock", lambda: NOW)
    get_settings.cache_clear()
    return aws


def viewer_hash(n: int) -> str:
    return f"{(n * 2654435761) % 2**32:08x}" + "0" * 56  # spread over the shards, as keyed hashes are


def view(media_id: str, viewer: int, at: datetime, counted: bool = True, n: int = 0) -> ViewRecord:
    return ViewRecord(
        media_id=media_id,
        owner_id=OWNERS[media_id],
        view_id=f"view-{n}-{viewer}-{int(at.timestamp())}",
        viewed_at=at,
        viewer=viewer_hash(viewer),
        counted=counted,
        token_kind="stream",
        client_ip="203.0.113.10",
        user_agent="test",
        user_id=None,
        expires_at=int(at.timestamp()) + 90 * 86400,
    )


def recount(records: Iterable[ViewRecord], days: Iterable[str]) -> Numbers:
    """The brute-force answer: per day and media item, counted views and distinct viewers of any view."""
    wanted = set(days)
    counted: dict[tuple[str, str], int] = defaultdict(int)
    viewers: dict[tuple[str, str], set[str]] = defaultdict(set)
    for record in records:
        if record.day in wanted:
            counted[(record.day, record.media_id)] += record.counted
            viewers[(record.day, record.media_id)].add(record.viewer)
    return {key: (counted[key], len(viewers[key])) for key in viewers}


def range_recount(records: Iterable[ViewRecord]) -> dict[str, tuple[int, int]]:
    """Per media item over DAYS: counted views and distinct viewers across the whole range (not summed by day)."""
    return {
        media: (
            sum(r.counted for r in records if r.media_id == media),
            len({r.viewer for r in records if r.media_id == media}),
        )
        for media in MEDIA
    }


def range_answers() -> dict[str, tuple[int, int]]:
    """What GET /media/{id}/analytics answers for DAYS (its use case, without the access check of a real id)."""
    answers = {media: analytics.report(media, DAYS[0], DAYS[0], DAYS[-1]) for media in MEDIA}
    return {media: (answer.total_views, answer.unique_viewers) for media, answer in answers.items()}


def schedule(event: dict[str, Any]) -> dict[str, Any]:
    handler = handler_of("stats_rollup")
    result: dict[str, Any] = handler(event, FakeContext())
    return result


def take_queued() -> list[dict[str, Any]]:
    """Every message on the rollup queue, deleted from it, as SQS hands them to the event source."""
    sqs: Any = boto3.client("sqs", region_name="us-east-1")
    taken: list[dict[str, Any]] = []
    while found := sqs.receive_message(QueueUrl=QUEUE_URL, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
        "Messages"
    ):
        taken += found
        entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(found)]
        sqs.delete_message_batch(QueueUrl=QUEUE_URL, Entries=entries)
    return taken


def work(messages: list[dict[str, Any]], batch_size: int = 1) -> list[str]:
    """Runs the worker's handler over the messages in batches; answers the ids it reported failed."""
    handler = handler_of("stats_rollup_worker")
    failed: list[str] = []
    for start in range(0, len(messages), batch_size):
        result = handler(sqs_event(messages[start : start + batch_size], QUEUE_ARN), FakeContext())
        failed += [f["itemIdentifier"] for f in result["batchItemFailures"]]
    return failed


def roll(event: dict[str, Any], batch_size: int = 1) -> dict[str, Any]:
    planned = schedule(event)
    assert work(take_queued(), batch_size) == []
    return planned


def rolled(days: Iterable[str]) -> Numbers:
    """What the daily statistics say, per day and media item (sketches checked against the counts)."""
    found: Numbers = {}
    for day in days:
        for stats in daily_stats.media_of_day(day):
            (full,) = daily_stats.days_of(stats.media_id, day, day)
            assert full.sketch is not None and unique_count([full.sketch]) == full.unique_viewers
            assert full.owner_id == OWNERS[full.media_id]
            found[(day, stats.media_id)] = (full.views, full.unique_viewers)
    return found


def iso(day: date) -> str:
    return day.isoformat()


def fresh_tables(template: Template) -> None:
    """Drops and recreates the view log and the daily statistics (each hypothesis example starts empty)."""
    client: Any = boto3.client("dynamodb", region_name="us-east-1")
    for logical_id in ("ViewsTable", "DailyStatsTable"):
        client.delete_table(TableName=template.physical_name(logical_id))
    subset = Template(template.document)
    subset.resources = {k: v for k, v in template.resources.items() if k in {"ViewsTable", "DailyStatsTable"}}
    create_tables(subset)
    take_queued()


# --- the property: the rollup is the recount, whatever the split -------------------------------------------------

DAYS = [TODAY - timedelta(days=n) for n in (3, 2, 1)]  # a backfill of three days
views_strategy = st.lists(
    st.tuples(
        st.sampled_from(DAYS),
        st.sampled_from(MEDIA),
        st.integers(0, 11),  # viewer
        st.integers(0, 86399),  # second of the day
        st.booleans(),  # counted
    ),
    max_size=30,
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=views_strategy, batch_size=st.integers(1, 10), seed=st.integers(0, 2**16), duplicates=st.integers(0, 5))
def test_the_rollup_is_the_recount_and_a_rerun_or_another_split_changes_nothing(
    stack: Template, raw: list[tuple[date, str, int, int, bool]], batch_size: int, seed: int, duplicates: int
) -> None:
    fresh_tables(stack)
    # Given random views over three days, media items and viewers
    records = [
        view(media, viewer, datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=second), counted, n)
        for n, (day, media, viewer, second, counted) in enumerate(raw)
    ]
    for record in records:
        views.put_view(record)
    days = [iso(d) for d in DAYS]
    backfill = {"from": days[0], "to": days[-1]}
    expected = recount(records, days)
    # the analytics' range answer, live from the raw log before the rollup: exact
    assert range_answers() == range_recount(records)

    # When the days are rolled up, one work item per invocation
    roll(backfill)

    # Then every media item's day is the recount, and every day is marked rolled, views or not
    assert rolled(days) == expected
    assert daily_stats.rolled_days(days[0], days[-1]) == set(days)
    # and the range answer, now from the daily statistics and their merged sketches, is the same
    assert range_answers() == range_recount(records)

    # And a re-run (a new run id) writes the same numbers
    roll(backfill, batch_size=batch_size)
    assert rolled(days) == expected

    # And so does another split from scratch: shuffled, in batches, some items delivered twice
    fresh_stats(stack)
    schedule(backfill)
    messages = take_queued()
    shuffler = random.Random(seed)
    messages += [
        dict(m, MessageId=f"dup-{n}-{m['MessageId']}") for n, m in enumerate(shuffler.sample(messages, duplicates))
    ]
    shuffler.shuffle(messages)
    assert work(messages, batch_size) == []
    assert rolled(days) == expected


def fresh_stats(template: Template) -> None:
    client: Any = boto3.client("dynamodb", region_name="us-east-1")
    client.delete_table(TableName=template.physical_name("DailyStatsTable"))
    subset = Template(template.document)
    subset.resources = {"DailyStatsTable": template.resources["DailyStatsTable"]}
    create_tables(subset)


# --- the schedule, late records, backfills ---------------------------------------------------------------------


def test_the_schedule_rolls_yesterday_and_the_day_before_again_so_late_records_count(stack, monkeypatch) -> None:
    # Given views of the 24th, rolled by the 25th's scheduled run
    yesterday = datetime(2026, 11, 24, 23, 50, tzinfo=UTC)
    for viewer in range(3):
        views.put_view(view(MEDIA[0], viewer, yesterday))
    planned = roll({})
    assert planned["days"] == ["2026-11-23", "2026-11-24"] and planned["work_items"] == 2 * SHARDS
    assert rolled(["2026-11-24"]) == {("2026-11-24", MEDIA[0]): (3, 3)}

    # When a view of the 24th is written late (after that run), and the 26th's scheduled run rolls the 24th again
    views.put_view(view(MEDIA[0], 7, yesterday + timedelta(minutes=9)))
    monkeypatch.setattr(rollup_plan, "clock", lambda: NOW + timedelta(days=1))
    planned = roll({})

    # Then the late view counts
    assert planned["days"] == ["2026-11-24", "2026-11-25"]
    assert rolled(["2026-11-24"]) == {("2026-11-24", MEDIA[0]): (4, 4)}


def test_a_backfill_rolls_each_day_from_to_and_no_other(stack) -> None:
    records = [view(MEDIA[n % 3], n, datetime(2026, 11, 10 + n % 5, 12, tzinfo=UTC)) for n in range(20)]
    for record in records:
        views.put_view(record)
    days = ["2026-11-11", "2026-11-12", "2026-11-13"]

    planned = roll({"from": days[0], "to": days[-1]})

    assert planned["days"] == days and planned["work_items"] == 3 * SHARDS
    assert rolled(["2026-11-10", *days, "2026-11-14"]) == recount(records, days)
    assert daily_stats.rolled_days("2026-11-01", "2026-11-30") == set(days)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"from": "2026-11-02", "to": "2026-11-01"}, "to must not be before from"),
        ({"from": "2026-11-31", "to": "2026-12-01"}, "from is not a calendar date"),
        ({"from": "yesterday", "to": "2026-11-01"}, "from must be a date written YYYY-MM-DD"),
        ({"from": "2025-01-01", "to": "2026-11-01"}, "At most 366 days"),
        ({"from": "2026-11-24", "to": "2026-11-25"}, "Only days before today"),
    ],
)
def test_the_handler_refuses_a_bad_backfill_and_queues_nothing(stack, event, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        schedule(event)

    assert take_queued() == []


# --- the worker ------------------------------------------------------------------------------------------------


def test_a_bad_work_item_is_a_partial_batch_failure_and_the_others_are_rolled(stack) -> None:
    views.put_view(view(MEDIA[1], 1, datetime(2026, 11, 24, 8, tzinfo=UTC)))
    schedule({"from": "2026-11-24", "to": "2026-11-24"})
    messages = take_queued()
    bad = dict(messages[0], MessageId="bad-one", Body=json.dumps({"day": "2026-11-24", "shard": 99}))

    failed = work([bad, *messages], batch_size=len(messages) + 1)

    assert failed == ["bad-one"]
    assert rolled(["2026-11-24"]) == {("2026-11-24", MEDIA[1]): (1, 1)}


def test_the_day_is_written_only_when_every_shard_of_the_run_is_done(stack) -> None:
    views.put_view(view(MEDIA[2], 1, datetime(2026, 11, 24, 8, tzinfo=UTC)))
    schedule({"from": "2026-11-24", "to": "2026-11-24"})
    messages = take_queued()

    assert work(messages[:-1]) == []
    assert rolled(["2026-11-24"]) == {} and daily_stats.rolled_days("2026-11-24", "2026-11-24") == set()
    assert work(messages[-1:]) == []
    assert rolled(["2026-11-24"]) == {("2026-11-24", MEDIA[2]): (1, 1)}


def test_concurrent_workers_complete_a_run_once_with_the_recount(stack) -> None:
    # Given DynamoDB's atomic writes (moto interleaves threads), and two days of views
    clients.override("dynamodb", atomic := AtomicDynamoDB(boto3.client("dynamodb", region_name="us-east-1")))
    records = [
        view(MEDIA[n % 4], n % 9, datetime(2026, 11, 23 + n % 2, n % 24, tzinfo=UTC), n % 3 > 0, n) for n in range(60)
    ]
    for record in records:
        views.put_view(record)
    schedule({})
    items = [WorkItem.model_validate_json(m["Body"]) for m in take_queued()]

    # When every work item, and each once more, is rolled by its own worker at the same time
    finished: list[bool] = []
    barrier = threading.Barrier(len(items) * 2)

    def worker(item: WorkItem) -> None:
        barrier.wait()
        finished.append(rollup.roll(item))

    threads = [threading.Thread(target=worker, args=(item,)) for item in items * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then each day is the recount, and at least one worker per day wrote it
    days = ["2026-11-23", "2026-11-24"]
    assert rolled(days) == recount(records, days)
    assert sum(finished) >= 2 and atomic.calls.count("update_item") == len(items) * 2
