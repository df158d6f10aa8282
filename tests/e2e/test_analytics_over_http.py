"""Views end to end over real HTTP: players on several client addresses (any 127.x.y.z is loopback; the client
binds its source address) and user agents play through stream URLs and the manual endpoint; the analytics report
them live, and again, the same, once `make rollup` has rolled their day up (twice)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from devtools.local_stack import LocalStack
from devtools.local_stack.template import ROOT
from media_platform import tokens, uploads
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import PASSWORD, Member
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


def make_rollup(stack: LocalStack, day: str) -> str:
    """`make rollup FROM=day TO=day` against this stack's emulator: its output, once the day is rolled."""
    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "devtools.local_stack.rollup",
            "--aws-port",
            stack.aws_url.rsplit(":", 1)[1],
            "--from",
            day,
            "--to",
            day,
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": "layers/shared:."},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_yesterdays_views_read_the_same_live_and_rolled_up_twice(
    api: httpx.Client, admin_token: str, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = {"Authorization": f"Bearer {admin_token}"}
    # Given media uploaded and viewed yesterday: the stack's functions run in this process and read these clocks
    monkeypatch.setattr(tokens, "clock", lambda: time.time() - 86400)
    monkeypatch.setattr(uploads, "clock", lambda: time.time() - 86400)
    # (the admin: promoted users' tokens from before their promotion are refused, and yesterday is before it)
    owner = api.post("/auth/login", json={"email": "admin@example.com", "password": ADMIN_PASSWORD}).json()
    media_id = upload_ready(api, Member("admin", owner["access_token"]), MP4, "video/mp4")
    viewer = api.post("/auth/signup", json={"email": "late.viewer@example.com", "password": PASSWORD})
    assert viewer.status_code == 201, viewer.text
    login = api.post("/auth/login", json={"email": "late.viewer@example.com", "password": PASSWORD})
    who = Member(viewer.json()["id"], login.json()["access_token"])
    url = stream_url(api, who, media_id)
    for address, agent in [("127.0.0.4", "VLC/3.0.20"), ("127.0.0.5", "VLC/3.0.20"), ("127.0.0.5", "VLC/3.0.20")]:
        with player(address) as device:
            assert device.get(url, headers={"user-agent": agent}).status_code == 302
    assert api.post(f"/media/{media_id}/view", headers=who.auth).json()["counted"] is True
    monkeypatch.undo()
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()

    def yesterdays_row() -> tuple[dict[str, object], int, int]:
        body = api.get(f"/media/{media_id}/analytics", headers=admin).json()
        [row] = [r for r in body["daily"] if r["date"] == yesterday]
        return row, body["total_views"], body["unique_viewers"]

    live = yesterdays_row()
    assert live == ({"date": yesterday, "views": 3, "unique_viewers": 3}, 3, 3)

    # When `make rollup` rolls that day up, twice, then the analytics read the daily statistics: the same numbers
    for _ in range(2):
        assert f"Rolled up: {yesterday}" in make_rollup(local_stack, yesterday)
        assert yesterdays_row() == live
    top = api.get(f"/analytics/top?from={yesterday}&to={yesterday}", headers=admin).json()
    assert {"media_id": media_id, "views": 3, "unique_viewers": 3} in top["items"]
