"""Use cases of analytics: one media item's views over a range of UTC days, and the most viewed media.

Rolled-up days come from the daily statistics (one read per day at most); days the rollup has not reached (today,
and any day it has not run for) are computed live from the raw log. Unique viewers over a range merge the days'
sketches with the live days' viewers: never a sum of daily uniques.

Imports media_platform.sketches (DataSketches): only the analytics functions ship it."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from media_platform import access, sketches, tokens
from media_platform.dal import daily_stats, views
from media_platform.errors import Forbidden, InvalidInput
from media_platform.models import MediaAnalytics, Role, TopMedia, TopMediaItem
from media_platform.settings import get_settings
from media_platform.tokens import Claims

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 366
LIVE_READERS = 8  # a live day is one query per view shard: several run at once


def today() -> date:
    return datetime.fromtimestamp(tokens.clock(), UTC).date()


def date_range(first: date | None, last: date | None) -> tuple[date, date]:
    """The days asked for, inclusive: by default the 30 days up to today; at most 366."""
    last = last or (first + timedelta(days=DEFAULT_RANGE_DAYS - 1) if first else today())
    first = first or last - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if first > last:
        raise InvalidInput("`from` is after `to`.", field="query.from")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(f"A range spans at most {MAX_RANGE_DAYS} days.", field="query.to")
    return first, last


def _days(first: date, last: date) -> list[date]:
    # By ordinal: one timedelta per day costs more than the rest of a day's row.
    return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


def media_analytics(caller: Claims, media_id: str, first: date | None, last: date | None) -> MediaAnalytics:
    """For the media's owner (an editor) or an admin."""
    media = access.find_manageable(caller, media_id)
    first, last = date_range(first, last)
    return report(media.id, media.created_at.astimezone(UTC).date(), first, last)


def report(media_id: str, created: date, first: date, last: date) -> MediaAnalytics:
    """The media item's numbers from `first` to `last`; nothing is read live before `created`."""
    days = [(day, day.isoformat()) for day in _days(first, last)]
    first_day, last_day = days[0][1], days[-1][1]
    rolled = daily_stats.rolled_days(first_day, last_day)
    stored = {stats.day: stats for stats in daily_stats.days_of(media_id, first_day, last_day)}
    # A day before the media existed, or past the raw log's retention, has nothing to read live.
    oldest_raw = (today() - timedelta(days=get_settings().view_retention_days)).isoformat()
    since = max(created.isoformat(), oldest_raw)
    live = _read_live(media_id, [iso for _, iso in days if iso not in rolled and iso >= since])

    # Rows as dicts: MediaAnalytics validates them all in one call, cheaper than a DailyViews each.
    daily: list[dict[str, object]] = []
    total_views = 0
    day_sketches: list[bytes] = []
    live_viewers: set[str] = set()
    for day, iso in days:
        if iso in live:
            records = live[iso]
            viewers = {record.viewer for record in records}
            live_viewers |= viewers
            views, unique = sum(r.counted for r in records), len(viewers)
        elif stats := stored.get(iso):
            if stats.sketch:
                day_sketches.append(stats.sketch)
            views, unique = stats.views, stats.unique_viewers
        else:
            views, unique = 0, 0
        total_views += views
        daily.append({"date": day, "views": views, "unique_viewers": unique})
    return MediaAnalytics.model_validate(
        {
            "media_id": media_id,
            "first": first,
            "last": last,
            "total_views": total_views,
            "unique_viewers": sketches.unique_count(day_sketches, live_viewers),
            "daily": daily,
        }
    )


def _read_live(media_id: str, days: list[str]) -> dict[str, list[views.ViewRecord]]:
    """The raw records of each day, one query per day and view shard, several at once."""
    shards = range(get_settings().view_shards)
    work = [(day, shard) for day in days for shard in shards]
    found: dict[str, list[views.ViewRecord]] = {day: [] for day in days}
    if not work:
        return found
    with ThreadPoolExecutor(max_workers=min(LIVE_READERS, len(work))) as pool:
        shard_records = pool.map(lambda job: list(views.views_in_shard(job[0], job[1], media_id)), work)
        for (day, _), records in zip(work, shard_records, strict=True):
            found[day].extend(records)
    return found


def top_media(caller: Claims, first: date | None, last: date | None, limit: int) -> TopMedia:
    """The most viewed media over the rolled-up days of the range: every media item for an admin, an editor's own
    for an editor. Reads the daily statistics only: one query per day, then one per media item listed."""
    if caller.role not in (Role.ADMIN, Role.EDITOR):
        raise Forbidden("Only admins and editors see the most viewed media.")
    first, last = date_range(first, last)
    first_day, last_day = first.isoformat(), last.isoformat()
    rolled = sorted(daily_stats.rolled_days(first_day, last_day))
    totals: Counter[str] = Counter()
    everyone = caller.role == Role.ADMIN
    for media_id, owner_id, day_views in daily_stats.views_of_days(rolled):
        if everyone or owner_id == caller.subject:
            totals[media_id] += day_views
    ranked = sorted(totals.items(), key=lambda entry: (-entry[1], entry[0]))[:limit]
    items = []
    for media_id, total in ranked:
        day_sketches = [s.sketch for s in daily_stats.days_of(media_id, first_day, last_day) if s.sketch]
        items.append(TopMediaItem(media_id=media_id, views=total, unique_viewers=sketches.unique_count(day_sketches)))
    return TopMedia(first=first, last=last, rolled_up_days=len(rolled), items=items)
