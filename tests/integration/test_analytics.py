"""Analytics through the real handlers on moto: live days from the raw log, rolled-up days from the daily
statistics, unique viewers merged across a range, the date rules, who may ask, and the top list."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from media_platform import clients, tokens
from media_platform.dal import daily_stats
from media_platform.models import Role
from media_platform.sketches import sketch_of
from tests.integration.conftest import Invoke, Reply, Team, restored_seeded_stack
from tests.integration.test_streaming import ready, stream_url, token_of
from tests.integration.test_views import view
from tests.support import AtomicDynamoDB, Clock, FakeContext, handler_of, load_event

aws, team = restored_seeded_stack()

DAY = 86400


def today(clock: Clock, plus_days: int = 0) -> str:
    return (datetime.fromtimestamp(clock.now, UTC).date() + timedelta(days=plus_days)).isoformat()


def analytics(media_id: str, token: str | None, query: str = "") -> Reply:
    return _call(
        "media_analytics",
        token=token,
        path=f"/media/{media_id}/analytics",
        path_params={"media_id": media_id},
        query=query,
    )


def top(token: str | None, query: str = "") -> Reply:
    return _call("analytics_top", token=token, query=query)


def _call(function: str, **changes: Any) -> Reply:
    event = load_event(function, **changes)
    query = changes.get("query") or ""
    event["queryStringParameters"] = dict(part.split("=", 1) for part in query.split("&")) if query else None
    result = handler_of(function)(event, FakeContext())
    return Reply(result["statusCode"], result.get("headers", {}), json.loads(result.get("body") or "null"))


def signed_in_now(user_id: str, role: Role) -> str:
    """An access token issued at the test clock's now (the team's expire once the clock moves a day on)."""
    return tokens.issue(tokens.TokenKind.ACCESS, user_id, role, ttl_seconds=1800)


def rolled_day(media_id: str, owner_id: str, day: str, views: int, viewers: list[str]) -> None:
    """A day as the rollup leaves it: the media item's numbers and sketch, and the day marked rolled up."""
    stats = daily_stats.DayStats(media_id, owner_id, day, views, len(set(viewers)), sketch_of(viewers))
    daily_stats.put_day(stats)
    daily_stats.mark_rolled(day, "2026-01-01T00:15:00+00:00")


@pytest.fixture
def media(invoke: Invoke, team: Team) -> str:
    return ready(invoke, team.editor.token)


def test_today_is_computed_live_and_every_day_of_the_range_has_a_row(
    invoke: Invoke, team: Team, media: str, clock: Clock
) -> None:
    token = token_of(stream_url(invoke, team.viewer.token, media).body["url"])
    view(media, stream_token=token, ip="203.0.113.1")
    view(media, stream_token=token, ip="203.0.113.1")  # a repeat: logged, not counted, the same viewer
    view(media, stream_token=token, ip="203.0.113.2")
    view(media, bearer=team.viewer.token)

    reply = analytics(media, team.editor.token)

    assert reply.status == 200, reply.body
    body = reply.body
    assert (body["media_id"], body["to"]) == (media, today(clock))
    assert body["from"] == today(clock, -29) and len(body["daily"]) == 30
    assert body["daily"][-1] == {"date": today(clock), "views": 3, "unique_viewers": 3}
    assert all(row["views"] == 0 for row in body["daily"][:-1])
    assert (body["total_views"], body["unique_viewers"]) == (3, 3)


def test_rolled_days_come_from_the_daily_stats_and_the_rest_live_and_viewers_merge_across_days(
    team: Team, media: str, clock: Clock
) -> None:
    # Day 0 (the media's first): rolled up. Day 1: views in the raw log, not rolled up. Day 2 is "today".
    rolled_day(media, team.editor.id, today(clock), views=5, viewers=["a", "b", "c"])
    clock.now += DAY
    view(media, bearer=signed_in_now(team.viewer.id, Role.VIEWER))
    view(media, bearer=signed_in_now(team.admin.id, Role.ADMIN))
    viewer_hashes = {r["viewer"] for r in _records(media)}
    clock.now += DAY
    editor = signed_in_now(team.editor.id, Role.EDITOR)

    reply = analytics(media, editor, f"from={today(clock, -2)}&to={today(clock)}")

    assert reply.status == 200, reply.body
    assert [(r["views"], r["unique_viewers"]) for r in reply.body["daily"]] == [(5, 3), (2, 2), (0, 0)]
    assert reply.body["total_views"] == 7
    assert reply.body["unique_viewers"] == 5
    # a viewer of the rolled-up day who comes back live counts once over the range
    rolled_day(media, team.editor.id, today(clock, -3), views=1, viewers=[next(iter(viewer_hashes))])
    wider = analytics(media, editor, f"from={today(clock, -3)}&to={today(clock)}")
    assert (wider.body["total_views"], wider.body["unique_viewers"]) == (8, 5)


def _records(media_id: str) -> list[dict[str, Any]]:
    from tests.integration.test_views import records

    return records(media_id)


def test_a_rolled_up_range_reads_the_same_whatever_the_views(team: Team, media: str, clock: Clock) -> None:
    spy = AtomicDynamoDB(clients.dynamodb())
    clients.override("dynamodb", spy)
    query = f"from={today(clock)}&to={today(clock, 29)}"
    for n in range(30):
        rolled_day(media, team.editor.id, today(clock, n), views=1, viewers=["a"])
    clock.now += 30 * DAY
    editor = signed_in_now(team.editor.id, Role.EDITOR)
    spy.calls.clear()
    few = analytics(media, editor, query)
    reads_few = list(spy.calls)
    for n in range(30):
        rolled_day(media, team.editor.id, today(clock, n - 30), views=10_000, viewers=[f"v{i}" for i in range(2_000)])
    spy.calls.clear()
    many = analytics(media, editor, query)

    assert few.status == 200, few.body
    assert many.status == 200, many.body
    assert few.body["total_views"] == 30 and many.body["total_views"] == 300_000
    assert many.body["unique_viewers"] == pytest.approx(2_000, rel=0.02)
    # O(days in the range), not O(views): the same calls (user, media, rolled days, daily stats), no raw-log query
    assert spy.calls == reads_few == ["get_item", "get_item", "query", "query"]


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01",
        "from=2026-02-30",
        "to=yesterday",
        "from=2026-03-02&to=2026-03-01",
        "from=2025-01-01&to=2026-01-02",
    ],
)
def test_a_malformed_impossible_reversed_or_too_long_range_is_422(team: Team, media: str, query: str) -> None:
    reply = analytics(media, team.editor.token, query)

    assert reply.status == 422, reply.body
    assert reply.headers["content-type"] == "application/problem+json"


def test_a_range_of_366_days_is_allowed(team: Team, media: str) -> None:
    reply = analytics(media, team.admin.token, "from=2024-01-01&to=2024-12-31")

    assert reply.status == 200 and len(reply.body["daily"]) == 366


def test_only_the_owner_or_an_admin_reads_a_media_items_analytics(team: Team, media: str) -> None:
    assert analytics(media, None).status == 401
    assert analytics(media, team.viewer.token).status == 403
    assert analytics(media, team.other_editor.token).status == 403
    assert analytics(media, team.editor.token).status == 200
    assert analytics(media, team.admin.token).status == 200
    assert analytics("00000000-0000-4000-8000-000000000000", team.admin.token).status == 404
    assert analytics("not-an-id", team.admin.token).status == 404


def test_top_ranks_rolled_up_media_by_views_for_admins_and_each_editor_their_own(
    invoke: Invoke, team: Team, clock: Clock
) -> None:
    mine, popular = ready(invoke, team.editor.token), ready(invoke, team.other_editor.token)
    quiet = ready(invoke, team.editor.token)
    day0, day1 = today(clock), today(clock, 1)
    rolled_day(mine, team.editor.id, day0, views=4, viewers=["a", "b"])
    rolled_day(mine, team.editor.id, day1, views=3, viewers=["b", "c"])
    rolled_day(popular, team.other_editor.id, day0, views=50, viewers=["a"])
    rolled_day(quiet, team.editor.id, day1, views=1, viewers=["z"])
    query = f"from={day0}&to={day1}"

    everyone = top(team.admin.token, query).body
    own = top(team.editor.token, query + "&limit=1").body

    assert [(i["media_id"], i["views"], i["unique_viewers"]) for i in everyone["items"]] == [
        (popular, 50, 1),
        (mine, 7, 3),
        (quiet, 1, 1),
    ]
    assert everyone["rolled_up_days"] == 2 and (everyone["from"], everyone["to"]) == (day0, day1)
    assert [i["media_id"] for i in own["items"]] == [mine]
    assert top(team.viewer.token, query).status == 403
    assert top(None, query).status == 401
    assert top(team.admin.token, "limit=0").status == 422
    assert top(team.admin.token, f"from={day1}&to={day0}").status == 422


def test_the_days_views_read_in_turn_are_each_days_media_numbers(invoke: Invoke, team: Team, clock: Clock) -> None:
    mine, theirs = ready(invoke, team.editor.token), ready(invoke, team.other_editor.token)
    days = [today(clock), today(clock, 1), today(clock, 2)]  # the last has no media item
    rolled_day(mine, team.editor.id, days[0], views=4, viewers=["a", "b"])
    rolled_day(theirs, team.other_editor.id, days[0], views=9, viewers=["a"])
    rolled_day(mine, team.editor.id, days[1], views=3, viewers=["c"])

    expected = [(s.media_id, s.owner_id, s.views) for day in days for s in daily_stats.media_of_day(day)]

    assert list(daily_stats.views_of_days(days)) == expected and len(expected) == 3


def test_top_reads_only_the_daily_statistics(invoke: Invoke, team: Team, clock: Clock) -> None:
    media_id = ready(invoke, team.editor.token)
    rolled_day(media_id, team.editor.id, today(clock), views=2, viewers=["a"])
    spy = AtomicDynamoDB(clients.dynamodb())
    clients.override("dynamodb", spy)
    assert top(team.admin.token, f"from={today(clock)}&to={today(clock)}").status == 200

    assert set(spy.tables) == {"media-platform-local-UsersTable", "media-platform-local-DailyStatsTable"}


def test_the_default_range_is_the_last_30_days(team: Team, media: str, clock: Clock) -> None:
    body = analytics(media, team.editor.token).body

    assert date.fromisoformat(body["to"]) - date.fromisoformat(body["from"]) == timedelta(days=29)
