"""Streaming end to end: a real MP4 uploaded with its presigned POST, its stream URL asked for over HTTP, and the
redirect followed to the emulator's S3 the way a player does: a Range request first, then the whole file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devtools.local_stack import LocalStack
from tests.e2e.conftest import Member
from tests.e2e.test_uploads_over_http import upload_ready
from tests.support import debug_logging

MP4 = (Path(__file__).resolve().parents[1] / "fixtures" / "media" / "sample.mp4").read_bytes()


@pytest.fixture(scope="module")
def media_id(api: httpx.Client, editor: Member) -> str:
    return upload_ready(api, editor, MP4, "video/mp4")


def stream_url(api: httpx.Client, who: Member, media_id: str) -> str:
    response = api.get(f"/media/{media_id}/stream-url", headers=who.auth)
    assert response.status_code == 200, response.text
    return str(response.json()["url"])


def test_a_player_seeks_and_plays_the_uploaded_bytes(
    api: httpx.Client, viewer: Member, media_id: str, local_stack: LocalStack
) -> None:
    # Given a stream URL on the local API
    url = stream_url(api, viewer, media_id)
    assert url.startswith(f"{local_stack.api_url}/media/stream/{media_id}?token=")

    with httpx.Client(timeout=30) as player:  # no Authorization header: the URL is all it has
        # When the player asks for the first 100 bytes, following the redirect to S3
        redirect = player.get(url, headers={"Range": "bytes=0-99"})
        first = player.get(url, headers={"Range": "bytes=0-99"}, follow_redirects=True)
        # and comes back to the same URL for the rest, as Firefox does after a redirect
        later = player.get(url, headers={"Range": "bytes=100-199"}, follow_redirects=True)
        whole = player.get(url, follow_redirects=True)

    # Then it is sent to the emulator's S3, which serves the range and then the very bytes uploaded
    assert redirect.status_code == 302
    assert redirect.headers["location"].startswith(local_stack.aws_url)
    assert redirect.headers["cache-control"] == "no-store" and redirect.headers["referrer-policy"] == "no-referrer"
    assert (first.status_code, first.content) == (206, MP4[:100])
    assert first.headers["content-range"] == f"bytes 0-99/{len(MP4)}"
    assert (later.status_code, later.content) == (206, MP4[100:200])
    assert (whole.status_code, whole.content) == (200, MP4)
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["content-disposition"].startswith('inline; filename="clip.bin"')


def test_head_on_the_stream_url_answers_the_redirect(api: httpx.Client, viewer: Member, media_id: str) -> None:
    url = stream_url(api, viewer, media_id)

    head = httpx.head(url)

    assert head.status_code == 302 and head.headers["referrer-policy"] == "no-referrer"


def test_a_revoked_stream_url_stops_working_and_a_new_one_works(
    api: httpx.Client, editor: Member, viewer: Member, media_id: str
) -> None:
    old = stream_url(api, viewer, media_id)

    revoked = api.post(f"/media/{media_id}/revoke-streams", headers=editor.auth)
    new = stream_url(api, viewer, media_id)

    assert revoked.status_code == 204
    refused = httpx.get(old)
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert httpx.get(new).status_code == 302


def test_the_stream_token_never_reaches_the_logs(
    api: httpx.Client,
    viewer: Member,
    media_id: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = stream_url(api, viewer, media_id)
    token = parse_qs(urlsplit(url).query)["token"][0]

    with debug_logging():  # the view's own line too
        httpx.get(url, headers={"Range": "bytes=0-1"})
        httpx.get(url + "x")

    # The stack's log records (every field of each), and whatever reached the process's output
    logged = "".join(capfd.readouterr()) + "\n".join(json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "View recorded" in logged
    assert token.rsplit(".", 1)[1] not in logged


FFPROBE = shutil.which("ffprobe")


@pytest.mark.skipif(
    FFPROBE is None,
    reason="ffprobe is not installed and `make players` could not install it (apt-get install ffmpeg)",
)
def test_ffprobe_reads_the_duration_through_the_stream_url(api: httpx.Client, viewer: Member, media_id: str) -> None:
    # Given a stream URL, as a player is handed it; when ffprobe opens it (following the redirect, reading ranges)
    assert FFPROBE
    probed = subprocess.run(  # noqa: S603 (our own arguments; the URL is the stack's)
        [
            FFPROBE,
            "-v",
            "error",
            "-show_entries",
            "format=duration,format_name",
            "-of",
            "json",
            stream_url(api, viewer, media_id),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # Then it reads the MP4's container and duration (sample.mp4 is 0.2 s of video)
    assert probed.returncode == 0, probed.stderr
    found = json.loads(probed.stdout)["format"]
    assert "mp4" in found["format_name"]
    assert float(found["duration"]) == pytest.approx(0.2, abs=0.05)
