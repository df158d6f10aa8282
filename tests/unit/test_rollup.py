"""The rollup's arithmetic: one shard's records per media item, and a day's shards folded together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from media_platform.dal.daily_stats import DayStats
from media_platform.dal.views import ViewRecord
from media_platform.rollup import UnorderedShard, day_stats, shard_stats
from media_platform.sketches import unique_count

DAY = "2026-11-24"
MIDNIGHT = datetime(2026, 11, 24, tzinfo=UTC)


def view(media_id: str, viewer: str, counted: bool = True, minute: int = 0) -> ViewRecord:
    at = MIDNIGHT + timedelta(minutes=minute)
    return ViewRecord(
        media_id=media_id,
        owner_id=f"owner-of-{media_id}",
        view_id=f"{media_id}-{viewer}-{minute}",
        viewed_at=at,
        viewer=viewer,
        counted=counted,
        token_kind="stream",
        client_ip=None,
        user_agent=None,
        user_id=None,
        expires_at=int(at.timestamp()) + 90 * 86400,
    )


def test_a_shard_gives_each_media_item_its_counted_views_distinct_viewers_and_their_sketch() -> None:
    records = [
        view("a", "v1"),
        view("a", "v1", counted=False, minute=5),  # a repeat inside the window: logged, not counted
        view("a", "v2", minute=40),
        view("b", "v1", counted=False),  # the window began yesterday: a viewer of today, no counted view
    ]

    a, b = shard_stats(DAY, records)

    assert (a.media_id, a.owner_id, a.day, a.views, a.unique_viewers) == ("a", "owner-of-a", DAY, 2, 2)
    assert (b.views, b.unique_viewers) == (0, 1)
    assert a.sketch is not None and unique_count([a.sketch]) == 2


def test_an_empty_shard_gives_nothing() -> None:
    assert list(shard_stats(DAY, [])) == []


def test_a_shard_not_grouped_by_media_is_refused_rather_than_half_counted() -> None:
    with pytest.raises(UnorderedShard):
        list(shard_stats(DAY, [view("a", "v1"), view("b", "v1"), view("a", "v2")]))


def test_a_day_sums_views_and_uniques_over_shards_and_merges_their_sketches() -> None:
    shard_0 = list(shard_stats(DAY, [view("a", "v1"), view("a", "v2"), view("b", "v2")]))
    shard_1 = list(shard_stats(DAY, [view("a", "v3"), view("a", "v3", counted=False, minute=1)]))

    a, b = day_stats([*shard_1, *shard_0])

    assert (a.media_id, a.views, a.unique_viewers) == ("a", 3, 3)
    assert (b.media_id, b.views, b.unique_viewers) == ("b", 1, 1)
    assert a.sketch is not None and unique_count([a.sketch]) == 3


def test_a_day_without_partials_has_no_media() -> None:
    assert day_stats([]) == []
    assert day_stats([DayStats("a", "o", DAY, 0, 0, None)])[0].views == 0
