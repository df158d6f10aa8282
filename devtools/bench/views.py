"""Per-view figures for the scale plan, counted (never timed) on an in-process moto stack built from template.yaml:
DynamoDB writes and bytes per recorded view, and the calls one analytics request makes for a month of rolled-up
days, at two view volumes (reads must not grow with views)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.bench.environment import emulated_stack

VIEWS = 50
MONTH = 30
MAX_WRITES_PER_VIEW = 2  # the record and the dedupe marker


def per_view_sentence(figures: dict[str, Any]) -> str:
    calls = figures["analytics_calls_for_30_rolled_days"]
    volumes = " and ".join(f"{n} at {int(v):,} views a day" for v, n in calls.items())
    return (
        f"Views: {figures['writes_per_view']:.1f} DynamoDB writes per view (target <= {MAX_WRITES_PER_VIEW}): a "
        f"{figures['record_bytes']} B record and a {figures['marker_bytes']} B marker, one write unit each; analytics "
        f"of 30 rolled-up days: {volumes} DynamoDB calls (flat: {'met' if figures['met'] else 'NOT MET'})"
    )


class _Counting:
    """A DynamoDB client that counts calls by operation (a paginated query counts once per page)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            return method(**kwargs)

        return call


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (strings and binary by length, numbers about 1 byte per
    two digits plus one, booleans one byte)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        ((kind, inner),) = value.items()
        if kind == "S":
            size += len(inner.encode())
        elif kind == "B":
            size += len(inner)
        elif kind == "N":
            size += (len(inner.replace(".", "").lstrip("-")) + 1) // 2 + 1
        elif kind == "BOOL":
            size += 1
    return size


def measure_views() -> dict[str, Any]:
    """The figures, each from the real code paths: `view_log.record_view` and `analytics.media_analytics`."""
    with emulated_stack():
        return _measure()


def _measure() -> dict[str, Any]:
    import boto3

    from media_platform import analytics, clients, view_log
    from media_platform.dal import daily_stats
    from media_platform.dal import media as media_table
    from media_platform.models import Media, MediaStatus, Role
    from media_platform.settings import get_settings
    from media_platform.sketches import sketch_of
    from media_platform.tokens import Claims, TokenKind

    created = datetime.now(UTC) - timedelta(days=2 * MONTH)
    media_id, owner = str(uuid.uuid4()), str(uuid.uuid4())
    media_table.put_new(
        Media(
            id=media_id,
            title="Bench",
            filename="bench.mp4",
            content_type="video/mp4",
            size_bytes=1,
            owner_id=owner,
            object_key=f"uploads/{media_id}",
            status=MediaStatus.READY,
            created_at=created,
            updated_at=created,
            upload_expires_at=0,
        )
    )
    counting = _Counting(clients.dynamodb())
    clients.override("dynamodb", counting)
    now = datetime.now(UTC)
    for n in range(VIEWS):
        view_log.record_view(
            view_log.View(media_id, owner, now, f"198.51.{n // 250}.{n % 250}", "Bench/1.0", "u", TokenKind.STREAM)
        )
    writes = counting.calls.count("put_item") / VIEWS
    table = get_settings().resource("views_table")
    items = boto3.client("dynamodb", region_name=get_settings().region).scan(TableName=table)["Items"]
    records = [item_bytes(i) for i in items if i["pk"]["S"].startswith("VIEWS#")]
    markers = [item_bytes(i) for i in items if i["pk"]["S"].startswith("SEEN#")]

    caller = Claims(subject=owner, role=Role.EDITOR, expires_at=int(time.time()) + 600, issued_at=time.time())
    first = (created + timedelta(days=1)).date()
    calls_by_volume = {}
    for per_day in (10, 10_000):
        for day in range(MONTH):
            date = (first + timedelta(days=day)).isoformat()
            viewers = [f"{day}-{v}" for v in range(min(per_day, 2_000))]
            stats = daily_stats.DayStats(media_id, owner, date, per_day, len(viewers), sketch_of(viewers))
            daily_stats.put_day(stats)
            daily_stats.mark_rolled(date, now.isoformat())
        counting.calls.clear()
        analytics.media_analytics(caller, media_id, first, first + timedelta(days=MONTH - 1))
        calls_by_volume[str(per_day)] = len(counting.calls)
    calls = list(calls_by_volume.values())
    return {
        "writes_per_view": writes,
        "record_bytes": round(sum(records) / len(records)),
        "marker_bytes": round(sum(markers) / len(markers)),
        "analytics_calls_for_30_rolled_days": calls_by_volume,
        "target_writes_per_view": MAX_WRITES_PER_VIEW,
        "met": writes <= MAX_WRITES_PER_VIEW and len(set(calls)) == 1,
    }
