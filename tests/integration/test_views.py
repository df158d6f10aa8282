"""What a view is, through the real handlers on moto: who the viewer is, the dedupe window, the raw record (its IP
mode and TTL), two writes per view, concurrency, seeks, and `POST /media/{id}/view`'s refusals."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from media_platform import clients, view_log
from media_platform.settings import get_settings
from media_platform.tokens import TokenKind
from tests.integration.conftest import Invoke, Reply, Team, restored_seeded_stack
from tests.integration.test_streaming import ready, set_status, stream, stream_url, token_of
from tests.support import AtomicDynamoDB, Clock, FakeContext, handler_of, load_event

aws, team = restored_seeded_stack()

VIEWS_TABLE = "media-platform-local-ViewsTable"
WINDOW = 1800  # ViewWindowSeconds' default
RETENTION_DAYS = 90  # ViewRetentionDays' default
VLC = "VLC/3.0.20 LibVLC/3.0.20"


def view(
    media_id: str,
    *,
    stream_token: str | None = None,
    bearer: str | None = None,
    ip: str = "203.0.113.10",
    agent: str = VLC,
) -> Reply:
    """Calls the view function as API Gateway would for POST /media/{media_id}/view[?token=…]."""
    query = f"token={stream_token}" if stream_token is not None else ""
    event = load_event(
        "media_view",
        token=bearer,
        path=f"/media/{media_id}/view",
        path_params={"media_id": media_id},
        query=query,
        headers={"user-agent": agent},
    )
    event["queryStringParameters"] = {"token": stream_token} if stream_token is not None else None
    event["requestContext"]["http"]["sourceIp"] = ip
    result = handler_of("media_view")(event, FakeContext())
    return Reply(result["statusCode"], result.get("headers", {}), json.loads(result.get("body") or "null"))


def records(media_id: str) -> list[dict[str, Any]]:
    """The view records of a media item (the dedupe markers left out)."""
    items = boto3.resource("dynamodb", region_name="us-east-1").Table(VIEWS_TABLE).scan()["Items"]
    return sorted((i for i in items if i.get("media_id") == media_id), key=lambda i: str(i["viewed_at"]))


def counted(reply: Reply) -> bool:
    assert reply.status == 200, reply.body
    return bool(reply.body["counted"])


@pytest.fixture
def media_and_token(invoke: Invoke, team: Team) -> tuple[str, str]:
    media_id = ready(invoke, team.editor.token)
    return media_id, token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])


def test_with_a_stream_token_the_viewer_is_the_client_address_and_user_agent(
    media_and_token: tuple[str, str], clock: Clock
) -> None:
    media_id, token = media_and_token

    first = view(media_id, stream_token=token)
    again = view(media_id, stream_token=token)
    other_agent = view(media_id, stream_token=token, agent="Mozilla/5.0 (SMART-TV)")
    other_address = view(media_id, stream_token=token, ip="198.51.100.7")

    assert first.body == {"counted": True, "reason": None}
    assert again.body == {"counted": False, "reason": "repeat_within_window"}
    assert counted(other_agent) and counted(other_address)  # a TV and another household: other viewers
    assert sorted(r["counted"] for r in records(media_id)) == [False, True, True, True]  # all four logged


def test_with_an_access_token_the_viewer_is_the_user_wherever_they_are(
    invoke: Invoke, team: Team, clock: Clock
) -> None:
    media_id = ready(invoke, team.editor.token)

    assert counted(view(media_id, bearer=team.viewer.token, ip="203.0.113.10"))
    assert not counted(view(media_id, bearer=team.viewer.token, ip="198.51.100.7", agent="other"))
    assert counted(view(media_id, bearer=team.admin.token, ip="203.0.113.10"))
    assert {r["user_id"] for r in records(media_id)} == {team.viewer.id, team.admin.id}


def test_a_viewer_counts_again_exactly_when_the_window_ends(media_and_token: tuple[str, str], clock: Clock) -> None:
    media_id, token = media_and_token
    assert counted(view(media_id, stream_token=token))

    clock.now += WINDOW - 0.001
    assert not counted(view(media_id, stream_token=token))  # a repeat does not extend the window
    clock.now += 0.001
    assert counted(view(media_id, stream_token=token))
    clock.now += WINDOW - 0.001
    assert not counted(view(media_id, stream_token=token))


def test_a_record_holds_what_the_original_logs_and_expires_after_the_retention(
    media_and_token: tuple[str, str], team: Team, clock: Clock
) -> None:
    media_id, token = media_and_token
    view(media_id, stream_token=token)

    [record] = records(media_id)
    assert record["client_ip"] == "203.0.113.10"  # ViewIpMode full, the default: as the original logs it
    assert (record["user_agent"], record["user_id"], record["token_kind"]) == (VLC, team.viewer.id, "stream")
    assert record["counted"] is True
    assert int(record["expires_at"]) == int(clock.now) + RETENTION_DAYS * 86400
    assert len(record["viewer"]) == 32 and "203.0.113.10" not in record["viewer"]  # a keyed hash, not the identity


@pytest.mark.parametrize(
    ("mode", "ip", "kept"),
    [
        ("full", "2001:db8:1234:5678::1", "2001:db8:1234:5678::1"),
        ("truncated", "203.0.113.77", "203.0.113.0"),
        ("truncated", "2001:db8:1234:5678::1", "2001:db8:1234::"),
    ],
)
def test_the_ip_mode_decides_what_a_record_keeps(
    media_and_token: tuple[str, str], monkeypatch: pytest.MonkeyPatch, mode: str, ip: str, kept: str
) -> None:
    media_id, token = media_and_token
    monkeypatch.setenv("VIEW_IP_MODE", mode)
    get_settings.cache_clear()

    view(media_id, stream_token=token, ip=ip)

    assert records(media_id)[0]["client_ip"] == kept


def test_a_hashed_ip_is_keyed_and_stable(media_and_token: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    media_id, token = media_and_token
    monkeypatch.setenv("VIEW_IP_MODE", "hashed")
    get_settings.cache_clear()

    view(media_id, stream_token=token, ip="203.0.113.77")
    view(media_id, stream_token=token, ip="203.0.113.77", agent="other")
    view(media_id, stream_token=token, ip="203.0.113.78")

    kept = [r["client_ip"] for r in records(media_id)]
    assert kept[0] == kept[1] != kept[2]
    assert all("203.0.113" not in ip and len(ip) == 32 for ip in kept)
    import hashlib

    assert kept[0] != hashlib.sha256(b"ip:203.0.113.77").hexdigest()[:32]  # keyed: not a plain hash to look up


def test_a_view_is_two_writes_counted_or_not(media_and_token: tuple[str, str]) -> None:
    media_id, token = media_and_token
    spy = AtomicDynamoDB(clients.dynamodb())
    clients.override("dynamodb", spy)

    view(media_id, stream_token=token)
    first = list(spy.calls)
    view(media_id, stream_token=token)

    assert first == ["get_item", "put_item", "put_item"]  # the media item; the marker, the record
    assert spy.calls[len(first) :] == ["get_item", "put_item", "put_item"]


def _recorder_view(media_id: str, owner_id: str, source_ip: str) -> view_log.View:
    from datetime import UTC, datetime

    return view_log.View(
        media_id=media_id,
        owner_id=owner_id,
        at=datetime.now(UTC),
        source_ip=source_ip,
        user_agent=VLC,
        user_id="someone",
        token_kind=TokenKind.STREAM,
    )


@pytest.mark.parametrize(("addresses", "expected"), [(1, 1), (50, 50)])
def test_concurrent_views_count_once_per_viewer(invoke: Invoke, team: Team, addresses: int, expected: int) -> None:
    media_id = ready(invoke, team.editor.token)
    clients.override("dynamodb", AtomicDynamoDB(clients.dynamodb()))  # DynamoDB's atomic conditional writes
    views = [_recorder_view(media_id, team.editor.id, f"198.51.100.{n % addresses}") for n in range(50)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(view_log.record_view, views))

    assert sum(o.counted for o in outcomes) == expected
    assert len(records(media_id)) == 50  # every view logged, counted or not


def test_a_seek_redirects_and_records_nothing(media_and_token: tuple[str, str]) -> None:
    media_id, token = media_and_token

    for later in ("bytes=100-", "bytes=100-199", "bytes=-500"):
        assert stream(media_id, stream_token=token, headers={"range": later}).status == 302
    assert records(media_id) == []
    assert stream(media_id, stream_token=token, headers={"range": "bytes=0-"}).status == 302
    assert stream(media_id, stream_token=token, method="HEAD").status == 302
    assert [r["token_kind"] for r in records(media_id)] == ["stream"]


def test_a_stream_redirect_and_a_manual_view_share_the_window(media_and_token: tuple[str, str]) -> None:
    media_id, token = media_and_token

    stream(media_id, stream_token=token, headers={"range": "bytes=0-1", "user-agent": VLC})

    assert view(media_id, stream_token=token).body == {"counted": False, "reason": "repeat_within_window"}


def test_only_ready_media_the_caller_may_see_can_be_viewed(invoke: Invoke, team: Team) -> None:
    media_id = ready(invoke, team.editor.token)
    token = token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])
    other = ready(invoke, team.editor.token)
    pending = invoke(
        "media_create",
        token=team.editor.token,
        body={
            "title": "Pending",
            "filename": "p.mp4",
            "content_type": "video/mp4",
            "size_bytes": 100,
        },
    ).body["media"]["id"]

    assert view(media_id).status == 401
    assert view(media_id, stream_token=token[:-2] + "xx").status == 401
    assert view(media_id, bearer=token).status == 401  # a stream token is no access token
    assert view(other, stream_token=token).status == 403  # for other media
    assert view("00000000-0000-4000-8000-000000000000", bearer=team.viewer.token).status == 404
    assert view("not-an-id", bearer=team.viewer.token).status == 404
    assert view(pending, bearer=team.viewer.token).status == 404
    set_status(media_id, "failed")
    refused = view(media_id, stream_token=token)
    assert refused.status == 410 and refused.headers["content-type"] == "application/problem+json"
    assert records(media_id) == [] and records(other) == []


def test_a_throttled_view_log_still_redirects_the_player_and_says_so(
    media_and_token: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    from botocore.exceptions import ClientError

    media_id, token = media_and_token
    real = clients.dynamodb()

    class ThrottledWrites:
        def __getattr__(self, name: str) -> Any:
            if name == "put_item":

                def refuse(**_: Any) -> Any:
                    error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
                    raise ClientError(error, "PutItem")  # type: ignore[arg-type]

                return refuse
            return getattr(real, name)

    clients.override("dynamodb", ThrottledWrites())

    assert stream(media_id, stream_token=token).status == 302
    assert "View not recorded" in caplog.text
    # the manual endpoint has nothing else to do: it tells the client to come back
    busy = view(media_id, stream_token=token)
    assert busy.status == 503 and busy.headers["retry-after"]
