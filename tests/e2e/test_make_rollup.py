"""`make rollup` against a running `make dev`: the real scheduled handler sends the work items to the dev stack's
queue, the dev stack's poller runs the worker, and the day's statistics are the recount, the same on a second run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from devtools.local_stack.template import ROOT, Template
from media_platform import clients
from media_platform.dal import daily_stats, views
from media_platform.dal.views import ViewRecord
from media_platform.settings import get_settings

ENV = {**os.environ, "PYTHONPATH": "layers/shared:.", "PYTHONUNBUFFERED": "1"}
ENV.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture
def dev_stack() -> Iterator[str]:
    """`make dev` (no schedules), answering on the emulator URL it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_stack", "--port", "0", "--aws-port", "0", "--schedule-every", "0"],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Ctrl-C stops." not in banner:
            line = process.stdout.readline()
            if not line:
                break
            banner += line
        found = re.search(r"AWS emulator \(moto\)\s+(http://\S+)", banner)
        assert found and "poll-StatsRollupWorkerFunction" in banner, banner
        yield found.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def make_rollup(aws_url: str, day: str) -> subprocess.CompletedProcess[str]:
    port = aws_url.rsplit(":", 1)[1]
    return subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "devtools.local_stack.rollup", "--aws-port", port, "--from", day, "--to", day],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_make_rollup_rolls_a_day_through_the_dev_stack_and_a_second_run_changes_nothing(dev_stack, monkeypatch):
    # Given a dev stack whose view log holds yesterday's views of two media items
    template = Template.load()
    for name, resource in (("VIEWS_TABLE", "ViewsTable"), ("DAILY_STATS_TABLE", "DailyStatsTable")):
        monkeypatch.setenv(name, template.physical_name(resource))
    monkeypatch.setenv("AWS_ENDPOINT_URL", dev_stack)
    monkeypatch.setenv("VIEW_SHARDS", str(template.parameters["ViewShards"]))
    get_settings.cache_clear()
    clients.reset()
    yesterday = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    day = yesterday.date().isoformat()
    seen = [("m-1", f"{n:064x}", True) for n in range(7)] + [("m-1", f"{1:064x}", False), ("m-2", f"{9:064x}", True)]
    for n, (media_id, viewer, counted) in enumerate(seen):
        at = yesterday + timedelta(minutes=n)
        views.put_view(
            ViewRecord(media_id, "owner", f"view-{n}", at, viewer, counted, "stream", None, None, None, 4102444800)
        )

    # When `make rollup` runs for that day, twice
    runs = []
    for _ in range(2):
        result = make_rollup(dev_stack, day)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"Rolled up: {day}" in result.stdout
        runs.append(
            {s.media_id: (s.views, s.unique_viewers) for m in ("m-1", "m-2") for s in daily_stats.days_of(m, day, day)}
        )

    # Then the day holds the recount, both times, and is marked rolled
    assert runs[0] == runs[1] == {"m-1": (7, 7), "m-2": (1, 1)}
    assert daily_stats.rolled_days(day, day) == {day}


def test_make_rollup_says_so_when_no_dev_stack_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devtools.local_stack.rollup", "--aws-port", "9"],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2 and "start `make dev` first" in result.stderr
