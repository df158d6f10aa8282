"""The rollup's plan: which days a run rolls, how backfills are refused, and one work item per day and shard sent
ten to a SendMessageBatch call."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from media_platform import clients, rollup_plan
from media_platform.dal.rollup_queue import NotQueued
from media_platform.errors import InvalidInput
from media_platform.rollup_plan import MAX_DAYS, WorkItem, days_to_roll

TODAY = date(2026, 11, 25)
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/rollup"


class FakeQueue:
    """SQS's SendMessageBatch, failing the entries whose ids are listed (once each) when asked."""

    def __init__(self, fail_once: set[str] | None = None, always_fail: bool = False) -> None:
        self.calls: list[list[dict[str, str]]] = []
        self.fail_once = set(fail_once or ())
        self.always_fail = always_fail

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        assert QueueUrl == QUEUE_URL and 1 <= len(Entries) <= 10
        self.calls.append(Entries)
        failed = [e for e in Entries if self.always_fail or e["Id"] in self.fail_once]
        self.fail_once -= {e["Id"] for e in failed}
        return {
            "Successful": [],
            "Failed": [{"Id": e["Id"], "Code": "Throttled", "SenderFault": False} for e in failed],
        }

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(entry["MessageBody"]) for call in self.calls for entry in call]


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> FakeQueue:
    monkeypatch.setenv("ROLLUP_QUEUE_URL", QUEUE_URL)
    monkeypatch.setenv("VIEW_SHARDS", "16")
    monkeypatch.setattr(rollup_plan, "clock", lambda: datetime(2026, 11, 25, 0, 15, tzinfo=UTC))
    fake = FakeQueue()
    clients.override("sqs", fake)
    return fake


def test_the_schedule_rolls_yesterday_and_the_day_before_again() -> None:
    assert days_to_roll({}, TODAY) == [date(2026, 11, 23), date(2026, 11, 24)]


def test_a_backfill_rolls_every_day_from_to_inclusive() -> None:
    days = days_to_roll({"from": "2026-10-30", "to": "2026-11-02"}, TODAY)

    assert [d.isoformat() for d in days] == ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02"]
    assert days_to_roll({"from": "2026-11-24", "to": "2026-11-24"}, TODAY) == [date(2026, 11, 24)]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"from": "2026-11-1", "to": "2026-11-02"}, "from must be a date written YYYY-MM-DD"),
        ({"from": "20261101", "to": "2026-11-02"}, "from must be a date written YYYY-MM-DD"),
        ({"from": 20261101, "to": "2026-11-02"}, "from must be a date written YYYY-MM-DD"),
        ({"from": "2026-11-01", "to": "2026-02-30"}, "to is not a calendar date: 2026-02-30"),
        ({"from": "2026-11-10", "to": "2026-11-09"}, "to must not be before from"),
        ({"from": "2026-11-01"}, "needs both from and to"),
        ({"to": "2026-11-01"}, "needs both from and to"),
        ({"from": "2026-11-01", "to": "2026-11-02", "dry_run": True}, "Unknown fields: dry_run"),
        ({"from": "2026-11-20", "to": "2026-11-25"}, "Only days before today"),
        ({"from": "2026-11-26", "to": "2026-11-27"}, "Only days before today"),
        ({"from": "2026-08-27", "to": "2026-08-28"}, "past the view log's retention"),
    ],
)
def test_a_bad_backfill_is_refused_saying_why(event: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        days_to_roll(event, TODAY)


def test_a_backfill_is_bounded_in_length(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIEW_RETENTION_DAYS", "3650")

    assert len(days_to_roll({"from": "2025-11-24", "to": "2026-11-24"}, TODAY)) == MAX_DAYS
    with pytest.raises(InvalidInput, match=f"At most {MAX_DAYS} days at a time \\(367 asked\\)"):
        days_to_roll({"from": "2025-11-23", "to": "2026-11-24"}, TODAY)


def test_the_oldest_day_a_backfill_takes_is_the_oldest_whose_records_are_all_kept() -> None:
    # Retention 90 days: a record of 2026-08-28 00:00 expires 2026-11-26 00:00, one of 2026-08-27 already has.
    assert days_to_roll({"from": "2026-08-28", "to": "2026-08-28"}, TODAY) == [date(2026, 8, 28)]


def test_one_work_item_per_day_and_shard_each_day_its_own_run_sent_ten_per_call(queue: FakeQueue) -> None:
    answer = rollup_plan.plan({})

    items = [WorkItem.model_validate(body) for body in queue.bodies()]
    assert answer["days"] == ["2026-11-23", "2026-11-24"] and answer["work_items"] == 32
    assert {(i.day, i.shard) for i in items} == {(d, s) for d in answer["days"] for s in range(16)}
    assert all(i.shards == 16 and i.run_id == answer["runs"][i.day] for i in items)
    assert answer["runs"]["2026-11-23"] != answer["runs"]["2026-11-24"]
    assert [len(call) for call in queue.calls] == [10, 10, 10, 2]


def test_each_run_of_a_day_gets_a_fresh_run_id(queue: FakeQueue) -> None:
    first = rollup_plan.plan({"from": "2026-11-24", "to": "2026-11-24"})
    second = rollup_plan.plan({"from": "2026-11-24", "to": "2026-11-24"})

    assert first["runs"]["2026-11-24"] != second["runs"]["2026-11-24"]


def test_entries_sqs_fails_are_sent_again_and_a_run_that_cannot_queue_fails(queue: FakeQueue) -> None:
    queue.fail_once = {"3", "7"}

    rollup_plan.plan({"from": "2026-11-24", "to": "2026-11-24"})

    assert [len(call) for call in queue.calls] == [10, 2, 6]  # the two failed entries again, alone
    assert sorted((b["shard"] for b in queue.bodies()[:10] + queue.bodies()[12:]), key=int) == list(range(16))

    clients.override("sqs", FakeQueue(always_fail=True))
    with pytest.raises(NotQueued):
        rollup_plan.plan({"from": "2026-11-24", "to": "2026-11-24"})


def test_nothing_is_sent_when_the_backfill_is_refused(queue: FakeQueue) -> None:
    with pytest.raises(InvalidInput):
        rollup_plan.plan({"from": "2026-11-24", "to": "2026-11-23"})

    assert queue.calls == []


@pytest.mark.parametrize(
    "body",
    [
        {"day": "2026-11-24", "shard": 16, "shards": 16, "run_id": "r1"},
        {"day": "2026-11-24", "shard": -1, "shards": 16, "run_id": "r1"},
        {"day": "2026-02-30", "shard": 0, "shards": 16, "run_id": "r1"},
        {"day": "2026-11-24", "shard": 0, "shards": 16, "run_id": ""},
        {"day": "2026-11-24", "shard": 0, "shards": 16, "run_id": "r1", "extra": 1},
        {"day": "2026-11-24", "shard": 0, "run_id": "r1"},
    ],
)
def test_a_malformed_work_item_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        WorkItem.model_validate_json(json.dumps(body))
