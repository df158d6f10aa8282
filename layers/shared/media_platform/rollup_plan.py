"""The daily rollup's plan (the scheduled function): which UTC days to roll, and one work item per day and view shard
for the worker, sent through SQS. It reads no view records itself, so a day of any size is split the same way.

- On its schedule (shortly after midnight UTC) it rolls the previous day, and the day before again: views recorded
  late (a request that began before midnight, a retried write) are picked up by the second pass.
- `{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}` backfills those days (inclusive). Refused: a malformed, impossible or
  reversed date, more than MAX_DAYS days, today or later (today is not over; the analytics read it live), and days
  older than the raw log's retention (TTL may have removed some of their records: re-rolling them would replace their
  statistics with what is left).

Every run of a day has a run id of its own: the worker that completes a run's set of shards writes the day."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from media_platform.dal import rollup_queue
from media_platform.errors import InvalidInput
from media_platform.observability import logger
from media_platform.settings import get_settings

MAX_DAYS = 366
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The rollup's clock (tests move it).
clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


class WorkItem(BaseModel):
    """One day's shard of one rollup run: what the worker reads, and how many shards complete the run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: str
    shard: int = Field(ge=0)
    shards: int = Field(ge=1, le=256)
    run_id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z-]+$")

    @field_validator("day")
    @classmethod
    def _a_real_day(cls, value: str) -> str:
        try:
            return parse_day(value, "day").isoformat()
        except InvalidInput as refused:
            raise ValueError(refused.detail) from None

    @model_validator(mode="after")
    def _shard_in_range(self) -> WorkItem:
        if self.shard >= self.shards:
            raise ValueError("shard must be below shards")
        return self


def parse_day(value: Any, name: str) -> date:
    if not isinstance(value, str) or not _DAY.match(value):
        raise InvalidInput(f"{name} must be a date written YYYY-MM-DD.", field=name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} is not a calendar date: {value}.", field=name) from None


def days_to_roll(event: dict[str, Any], today: date) -> list[date]:
    """The scheduled run (an event without `from` and `to`): the day before yesterday and yesterday. A backfill: every
    day from `from` to `to`, validated as the module says."""
    if not isinstance(event, dict):
        raise InvalidInput('The event must be an object: {} or {"from": ..., "to": ...}.')
    if not event:
        return [today - timedelta(days=2), today - timedelta(days=1)]
    unknown = sorted(set(event) - {"from", "to"})
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(unknown)}; a backfill takes only from and to.")
    if "from" not in event or "to" not in event:
        raise InvalidInput("A backfill needs both from and to.")
    first, last = parse_day(event["from"], "from"), parse_day(event["to"], "to")
    if last < first:
        raise InvalidInput("to must not be before from.", field="to")
    count = (last - first).days + 1
    if count > MAX_DAYS:
        raise InvalidInput(f"At most {MAX_DAYS} days at a time ({count} asked).", field="to")
    if last >= today:
        raise InvalidInput("Only days before today (UTC) can be rolled up; today is read live.", field="to")
    oldest = today - timedelta(days=get_settings().view_retention_days - 1)
    if first < oldest:
        raise InvalidInput(
            f"Days before {oldest.isoformat()} are past the view log's retention: their raw records may be gone.",
            field="from",
        )
    return [first + timedelta(days=n) for n in range(count)]


def work_items(day: date, shards: int, run_id: str) -> list[WorkItem]:
    return [WorkItem(day=day.isoformat(), shard=shard, shards=shards, run_id=run_id) for shard in range(shards)]


def plan(event: dict[str, Any]) -> dict[str, Any]:
    """Sends the work items of every day to roll; answers what it sent."""
    days = days_to_roll(event, clock().astimezone(UTC).date())
    shards = get_settings().view_shards
    runs = {day.isoformat(): uuid.uuid4().hex for day in days}
    items = [item for day in days for item in work_items(day, shards, runs[day.isoformat()])]
    calls = rollup_queue.send([item.model_dump_json() for item in items])
    logger.info("Rollup planned", extra={"days": list(runs), "work_items": len(items), "send_calls": calls})
    return {"days": list(runs), "runs": runs, "shards": shards, "work_items": len(items)}
