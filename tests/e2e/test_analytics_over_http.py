"""Views end to end over real HTTP: players on several client addresses (any 127.x.y.z is loopback; the client
binds its source address) and user agents play through stream URLs and the manual endpoint, and the analytics
report them, live, for today."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.e2e.conftest import Member
from tests.e2e.test_streaming_over_http import MP4, stream_url
from tests.e2e.test_uploads_over_http import upload_ready


def player(address: str) -> httpx.Client:
    """A client whose requests come from `address`, as a device on another machine would."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


@pytest.fixture(scope="module")
def watched(api: httpx.Client, editor: Member) -> str:
    return upload_ready(api, editor, MP4, "video/mp4")


def test_views_from_several_devices_reach_the_analytics(
    api: httpx.Client, editor: Member, viewer: Member, watched: str
) -> None:
    url = stream_url(api, viewer, watched)
    devices = [("127.0.0.2", "VLC/3.0.20"), ("127.0.0.3", "VLC/3.0.20"), ("127.0.0.3", "Mozilla/5.0 (SMART-TV)")]

    for address, agent in devices:
        with player(address) as device:
            assert device.get(url, headers={"user-agent": agent, "range": "bytes=0-99"}).status_code == 302
            # the same device seeks, then comes back for the start: a seek and a repeat, neither counted
            assert device.get(url, headers={"user-agent": agent, "range": "bytes=100-199"}).status_code == 302
            again = device.post(
                url.replace("/media/stream/", "/media/").replace("?token=", "/view?token="),
                headers={"user-agent": agent},
            )
            assert again.json() == {"counted": False, "reason": "repeat_within_window"}
    signed_in = api.post(f"/media/{watched}/view", headers=viewer.auth)  # the viewer as a user: another viewer
    assert signed_in.json() == {"counted": True, "reason": None}

    reply = api.get(f"/media/{watched}/analytics", headers=editor.auth)

    assert reply.status_code == 200, reply.text
    today = datetime.now(UTC).date().isoformat()
    assert reply.json()["daily"][-1] == {"date": today, "views": 4, "unique_viewers": 4}
    assert (reply.json()["total_views"], reply.json()["unique_viewers"]) == (4, 4)
    assert api.get(f"/media/{watched}/analytics", headers=viewer.auth).status_code == 403
