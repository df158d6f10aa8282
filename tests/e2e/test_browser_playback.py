"""A real browser plays from a stream URL: headless Chromium (Debian's, driven by Playwright) loads an uploaded MP4
in a `<video>` and an MP3 in an `<audio>` on a page of the local API's origin, reads their duration and seeks.

The page is the API's own `/openapi.json`, a document the local API itself serves, so the media element meets the
stream URL as a web app on the API's domain would: a same-origin request, then the 302 to the emulator's S3. (A page
Playwright fulfils itself has no address, so Chromium's local-network-access check counts it as public and refuses
the loopback redirect.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.local_stack import LocalStack
from tests.e2e.conftest import Member, needs_chromium
from tests.e2e.test_streaming_over_http import stream_url
from tests.e2e.test_uploads_over_http import upload_ready

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "media"

pytestmark = needs_chromium

# Loads the element, waits for its metadata, seeks, and reports what the page saw; any `error` event ends it.
PLAY_AND_SEEK = """async ([tag, src]) => {
  const element = document.createElement(tag);
  const events = [];
  const settle = (name) => new Promise((resolve, reject) => {
    element.addEventListener(name, () => { events.push(name); resolve(); }, { once: true });
    const failed = () => reject(new Error(`error event: code ${element.error?.code}`));
    element.addEventListener("error", failed, { once: true });
  });
  document.body.append(element);
  const loaded = settle("loadedmetadata");
  element.preload = "auto";
  element.src = src;
  await loaded;
  const duration = element.duration;
  const seeked = settle("seeked");
  element.currentTime = duration / 2;
  await seeked;
  return { duration, currentTime: element.currentTime, events, error: element.error?.code ?? null };
}"""


def uploaded(api: httpx.Client, editor: Member, fixture: str, content_type: str) -> str:
    return upload_ready(api, editor, (FIXTURES / fixture).read_bytes(), content_type)


def play_in_page(browser: Any, origin: str, tag: str, src: str) -> dict[str, Any]:
    page = browser.new_page()
    try:
        page.goto(f"{origin}/openapi.json")
        result: dict[str, Any] = page.evaluate(PLAY_AND_SEEK, [tag, src])
        return result
    finally:
        page.close()


@pytest.mark.parametrize(
    ("tag", "fixture", "content_type", "duration"),
    [("video", "sample.mp4", "video/mp4", 0.2), ("audio", "sample.mp3", "audio/mpeg", 0.2)],
)
def test_chromium_plays_and_seeks_from_a_stream_url(
    api: httpx.Client,
    editor: Member,
    viewer: Member,
    local_stack: LocalStack,
    browser: Any,
    tag: str,
    fixture: str,
    content_type: str,
    duration: float,
) -> None:
    # Given a ready media item and a viewer's stream URL for it
    url = stream_url(api, viewer, uploaded(api, editor, fixture, content_type))

    # When a page on the API's origin plays it in a media element and seeks to the middle
    seen = play_in_page(browser, local_stack.api_url, tag, url)

    # Then the browser read the real duration, the seek completed, and no error event fired
    assert seen["duration"] == pytest.approx(duration, abs=0.06)
    assert seen["events"] == ["loadedmetadata", "seeked"]
    assert seen["currentTime"] == pytest.approx(duration / 2, abs=0.06)
    assert seen["error"] is None


def test_chromium_reports_an_error_for_a_refused_stream_url(
    api: httpx.Client, editor: Member, viewer: Member, local_stack: LocalStack, browser: Any
) -> None:
    # The harness can fail: a tampered token gets a 401 and the element's error event, which the check turns into a
    # failure, so the passing test above is not a page that reports success whatever happens.
    url = stream_url(api, viewer, uploaded(api, editor, "sample.mp4", "video/mp4")) + "x"

    with pytest.raises(Exception, match="error event"):
        play_in_page(browser, local_stack.api_url, "video", url)
