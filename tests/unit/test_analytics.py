"""The analytics' cheaper per-day paths give what the plain ones give: the days of a range, and a report whose rows
are validated in one call serialises as one built a DailyViews at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from media_platform import analytics, sketches
from media_platform.dal import daily_stats
from media_platform.dal.daily_stats import DayStats
from media_platform.dal.views import ViewRecord
from media_platform.models import DailyViews, MediaAnalytics


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 1, 5), date(2026, 1, 5)),
        (date(2025, 12, 20), date(2026, 1, 18)),  # across a year
        (date(2024, 2, 1), date(2024, 3, 31)),  # a leap day
        (date(2025, 1, 1), date(2026, 1, 1)),  # the longest range
    ],
)
def test_the_days_of_a_range_are_every_day_from_first_to_last(first: date, last: date) -> None:
    assert analytics._days(first, last) == [first + timedelta(days=n) for n in range((last - first).days + 1)]


def record(viewer: str, counted: bool) -> ViewRecord:
    at = datetime(2026, 1, 5, 12, tzinfo=UTC)
    return ViewRecord("m", "o", f"view-{viewer}", at, viewer, counted, "stream", None, None, None, 0)


def test_a_report_serialises_as_one_built_a_row_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    first, last = date(2026, 1, 1), date(2026, 1, 6)
    sketch = sketches.sketch_of(["a", "b", "c"])
    stored = [
        DayStats("m", "o", "2026-01-02", 7, 3, sketch),
        DayStats("m", "o", "2026-01-03", 2, 1, None),  # a sketch the index left out
    ]
    live = [record("a", counted=True), record("d", counted=False)]
    monkeypatch.setattr(analytics, "today", lambda: date(2026, 1, 6))
    monkeypatch.setattr(daily_stats, "rolled_days", lambda first, last: {"2026-01-01", "2026-01-02", "2026-01-03"})
    monkeypatch.setattr(daily_stats, "days_of", lambda media_id, first, last: iter(stored))
    monkeypatch.setattr(
        analytics, "_read_live", lambda media_id, days: {day: live if day == "2026-01-05" else [] for day in days}
    )

    report = analytics.report("m", date(2025, 12, 1), first, last)

    rows = [(1, 0, 0), (2, 7, 3), (3, 2, 1), (4, 0, 0), (5, 1, 2), (6, 0, 0)]
    expected = MediaAnalytics(
        media_id="m",
        first=first,
        last=last,
        total_views=10,
        unique_viewers=4,  # a, b, c from the sketch; a and d live
        daily=[DailyViews(date=date(2026, 1, day), views=views, unique_viewers=unique) for day, views, unique in rows],
    )
    assert report == expected
    assert report.model_dump_json(by_alias=True) == expected.model_dump_json(by_alias=True)
    assert all(type(row) is DailyViews for row in report.daily)
