"""The bench's per-view figures, which the README's scale plan is computed from, come from the real code paths."""

from __future__ import annotations

from devtools.bench.views import item_bytes, measure_views


def test_a_view_is_two_small_writes_and_analytics_reads_do_not_grow_with_views() -> None:
    figures = measure_views()

    assert figures["writes_per_view"] == 2.0
    assert 100 < figures["record_bytes"] < 1024 and figures["marker_bytes"] < 1024  # one write unit each
    by_volume = figures["analytics_calls_for_30_rolled_days"]
    assert by_volume["10"] == by_volume["10000"] <= 4
    assert figures["met"]


def test_item_bytes_follows_dynamodbs_sizing() -> None:
    assert item_bytes({"pk": {"S": "abc"}, "n": {"N": "12345"}, "b": {"BOOL": True}, "x": {"B": b"\x00\x01"}}) == (
        2 + 3 + 1 + 4 + 1 + 1 + 1 + 2
    )
