"""Unique viewers over a range come from merged sketches: a viewer seen on several days counts once."""

from __future__ import annotations

import pytest

from media_platform.sketches import merged, sketch_of, unique_count


def test_merging_counts_a_viewer_seen_on_two_days_once() -> None:
    monday = sketch_of(f"viewer-{i}" for i in range(100))
    tuesday = sketch_of(f"viewer-{i}" for i in range(50, 150))

    assert unique_count([monday, tuesday]) == 150  # exact at this size; adding the days would give 200
    assert unique_count([monday], viewers=[f"viewer-{i}" for i in range(90, 200)]) == 200
    assert unique_count([]) == 0


@pytest.mark.parametrize("run", range(5))
def test_large_merged_counts_stay_within_two_percent(run: int) -> None:
    days = [sketch_of(f"{run}-viewer-{day * 7_000 + i}" for i in range(20_000)) for day in range(3)]

    assert unique_count(days) == pytest.approx(34_000, rel=0.02)  # viewers 0 to 33,999
    assert max(len(day) for day in days) < 8_300  # HLL_4 at lg_k 14: about 8 KB however many viewers


def test_a_merged_sketch_counts_what_its_parts_count() -> None:
    parts = [sketch_of(f"viewer-{i}" for i in range(start, start + 60)) for start in (0, 40, 80)]

    assert unique_count([merged(parts)]) == unique_count(parts) == 140
