"""The local stack's schedules: a daily cron() schedule runs at its UTC time, rate() ones after their rate, and a
ScheduleV2 delivers its Input, as EventBridge Scheduler does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devtools.local_stack.gateway import LoadedFunction
from devtools.local_stack.template import Template
from devtools.local_stack.triggers import Scheduler, scheduled_event, seconds_until

FUNCTIONS = {f.logical_id: f for f in Template.load().functions()}


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 24, 0, 0, tzinfo=UTC), 15 * 60),
        (datetime(2026, 11, 24, 0, 15, tzinfo=UTC), 86400),  # just ran: tomorrow
        (datetime(2026, 11, 24, 23, 45, tzinfo=UTC), 30 * 60),
    ],
)
def test_a_daily_cron_schedule_runs_at_its_utc_time(now: datetime, expected: float) -> None:
    assert seconds_until("cron(15 0 * * ? *)", now) == expected


def test_rate_schedules_run_after_their_rate_and_other_crons_hourly() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    assert seconds_until("rate(15 minutes)", now) == 900
    assert seconds_until("cron(0 12 ? * MON-FRI *)", now) == 3600


def test_the_rollup_schedule_delivers_its_input_and_the_expiry_sweep_a_scheduled_event() -> None:
    rollup = FUNCTIONS["StatsRollupFunction"]
    (schedule,) = rollup.events.values()
    sweep = FUNCTIONS["UploadExpiryFunction"]

    function = LoadedFunction(spec=rollup, app=None, handler=None)
    assert scheduled_event(function, schedule["Properties"]) == {}
    assert scheduled_event(LoadedFunction(spec=sweep, app=None, handler=None))["detail-type"] == "Scheduled Event"
    assert Scheduler(function, None, schedule["Properties"]).delay() <= 86400
    assert Scheduler(function, 5.0, schedule["Properties"]).delay() == 5.0
