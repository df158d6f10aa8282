"""The daily rollup's work (the worker function): one work item is one day's view shard of one rollup run.

1. Read the shard: that day's records only (one Query on its partition), in media-id order, so one media item is in
   memory at a time.
2. Per media item: counted views, distinct viewers (any view of the day, counted or not) and their sketch, written as
   the item's partial for this shard.
3. Mark the shard done in the run; the work item that completes the run's set merges the day's partials into one
   daily item per media item (views and unique viewers summed over shards, which holds because every viewer lands in
   one shard; sketches merged) and marks the day rolled.

Every write is a put of a whole item computed from the raw records, so a re-run, a duplicate or reordered delivery, or
another split of the work writes the same numbers. Imports the sketches: only the worker function may import this."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from media_platform import sketches
from media_platform.dal import daily_stats, views
from media_platform.dal.daily_stats import DayStats
from media_platform.dal.views import ViewRecord
from media_platform.observability import logger
from media_platform.rollup_plan import WorkItem


class UnorderedShard(RuntimeError):
    """A shard's records came back not grouped by media item (they are sorted by it): a media item's partial would be
    written twice, the second overwriting the first."""


def shard_stats(day: str, records: Iterable[ViewRecord]) -> Iterator[DayStats]:
    """Each media item's numbers in one shard's records of `day`, the records grouped by media item."""
    seen: set[str] = set()
    for media_id, group in itertools.groupby(records, key=lambda record: record.media_id):
        if media_id in seen:
            raise UnorderedShard(media_id)
        seen.add(media_id)
        owner_id, counted, viewers = "", 0, set()
        for record in group:
            owner_id = record.owner_id
            counted += record.counted
            viewers.add(record.viewer)
        yield DayStats(media_id, owner_id, day, counted, len(viewers), sketches.sketch_of(sorted(viewers)))


def day_stats(partials: Iterable[DayStats]) -> list[DayStats]:
    """A day's partials (each media item's shards) folded into one DayStats per media item."""
    by_media: dict[str, list[DayStats]] = {}
    for partial in partials:
        by_media.setdefault(partial.media_id, []).append(partial)
    return [
        DayStats(
            media_id=media_id,
            owner_id=parts[0].owner_id,
            day=parts[0].day,
            views=sum(part.views for part in parts),
            unique_viewers=sum(part.unique_viewers for part in parts),
            sketch=sketches.merged(part.sketch for part in parts if part.sketch is not None),
        )
        for media_id, parts in sorted(by_media.items())
    ]


def roll(item: WorkItem) -> bool:
    """Rolls one work item; True when it completed its run and wrote the day."""
    partials = 0
    for stats in shard_stats(item.day, views.views_in_shard(item.day, item.shard)):
        daily_stats.put_partial(stats, item.shard)
        partials += 1
    done = daily_stats.shards_done(item.day, item.run_id, item.shard)
    logger.info(
        "Rollup shard done",
        extra={"day": item.day, "shard": item.shard, "run_id": item.run_id, "media": partials, "shards_done": done},
    )
    if done < item.shards:
        return False
    finish_day(item.day)
    return True


def finish_day(day: str) -> int:
    """Writes the day's daily items from its partials and marks it rolled; answers how many media items it has."""
    days = day_stats(daily_stats.partials_of(day))
    for stats in days:
        daily_stats.put_day(stats)
    daily_stats.mark_rolled(day, datetime.now(UTC).isoformat(timespec="seconds"))
    logger.info("Rollup day written", extra={"day": day, "media": len(days)})
    return len(days)


def roll_message(body: str) -> bool:
    """One SQS message body: a work item as the scheduled function sent it."""
    return roll(WorkItem.model_validate_json(body))
