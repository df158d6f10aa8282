"""A real browser uploads with the presigned POST: headless Chromium (Debian's, driven by Playwright) on a page of an
origin the bucket's CORS rules allow sends a real MP4 with fetch + FormData and reads S3's answer, and S3's
refusals; a page on another origin cannot read the answer.

The allowed origin is the template's CorsAllowedOrigins (http://localhost:3000 locally), while the test stack
listens on a free port: Chromium's `--host-resolver-rules` sends that origin's host and port to the stack's API,
so the page is the API's own `/openapi.json` at the allowed origin, a real loopback address (a page Playwright
fulfils itself has none, and Chromium's local-network-access check would refuse its request to the emulator)."""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from devtools.local_stack import LocalStack
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Member, s3_clock_ahead
from tests.e2e.test_upload_refusals_over_http import EXPIRY
from tests.e2e.test_uploads_over_http import create, object_exists, wait_until_settled

MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"
MP4 = (MEDIA / "sample.mp4").read_bytes()
HTML = (MEDIA / "not-video.html").read_bytes()

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed and `make players` could not install it (apt-get install chromium)",
)

# What a web app does with the answer of POST /media: every field, then the file last; S3's answer as the page sees it.
UPLOAD = """async ([url, fields, data, type]) => {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  form.append("file", new Blob([bytes], { type }), "clip");
  try {
    const response = await fetch(url, { method: "POST", body: form });
    const text = await response.text();
    const code = new DOMParser().parseFromString(text, "application/xml").querySelector("Code")?.textContent ?? null;
    return { status: response.status, code, error: null };
  } catch (error) {
    return { status: null, code: null, error: `${error.name}: ${error.message}` };
  }
}"""


# A loopback page (Chromium's local-network check stays out of the way) on an origin no CORS rule names.
OTHER_ORIGIN = "http://other.localhost:8000"


def allowed_origin(stack: LocalStack) -> str:
    origins = stack.template.resolve_list({"Ref": "CorsAllowedOrigins"})
    return next(o for o in origins if o.startswith("http://"))


@pytest.fixture(scope="module")
def browser(local_stack: LocalStack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    origin, other = urlsplit(allowed_origin(local_stack)), urlsplit(OTHER_ORIGIN)
    api = f"127.0.0.1:{local_stack.api_port}"
    rules = [f"MAP {origin.hostname}:{origin.port or 80} {api}", f"MAP {other.hostname}:{other.port} {api}"]
    to_api = f"--host-resolver-rules={', '.join(rules)}"
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, to_api], headless=True
        )
        yield context
        context.close()


def upload_in_page(
    browser: Any, origin: str, upload: dict[str, Any], fields: dict[str, str], data: bytes, content_type: str
) -> dict[str, Any]:
    """Opens a page on `origin` and sends `fields` and `data` to the upload's URL with fetch + FormData."""
    page = browser.new_page()
    try:
        page.goto(f"{origin}/openapi.json")
        assert page.evaluate("location.origin") == origin
        result: dict[str, Any] = page.evaluate(
            UPLOAD, [upload["url"], fields, base64.b64encode(data).decode(), content_type]
        )
        return result
    finally:
        page.close()


def test_a_page_on_the_allowed_origin_uploads_a_real_mp4_and_reads_the_answer(
    api: httpx.Client, editor: Member, local_stack: LocalStack, browser: Any
) -> None:
    # Given the presigned POST the API answers for an MP4
    created = create(api, editor, "video/mp4", len(MP4))

    # When a page on the allowed origin sends it with fetch + FormData
    seen = upload_in_page(
        browser, allowed_origin(local_stack), created["upload"], created["upload"]["fields"], MP4, "video/mp4"
    )

    # Then the page reads S3's 204 (moto's answer has no ETag, which S3's has), and the asset becomes ready
    assert seen["error"] is None and seen["status"] == 204, seen
    assert wait_until_settled(api, editor, created["media"]["id"])["status"] == "ready"


def test_a_page_on_another_origin_cannot_read_the_answer(
    api: httpx.Client, editor: Member, local_stack: LocalStack, browser: Any
) -> None:
    # Given a page on an origin the bucket's CORS rules do not name (the stack allows its own under both names)
    other = OTHER_ORIGIN
    assert other not in local_stack.template.resolve_list({"Ref": "CorsAllowedOrigins"})
    created = create(api, editor, "video/mp4", len(MP4))

    seen = upload_in_page(browser, other, created["upload"], created["upload"]["fields"], MP4, "video/mp4")

    # Then fetch fails in the page (CORS is about reading: S3 stores a valid upload whatever the origin)
    assert seen["status"] is None and seen["error"].startswith("TypeError"), seen


def test_s3_refuses_what_the_policy_does_not_allow_and_the_page_reads_why(
    api: httpx.Client, editor: Member, local_stack: LocalStack, browser: Any
) -> None:
    origin = allowed_origin(local_stack)
    created = create(api, editor, "video/mp4", len(MP4))
    victim = create(api, editor, "video/mp4", len(MP4))["media"]["id"]
    upload, fields, media_id = created["upload"], created["upload"]["fields"], created["media"]["id"]

    too_big = upload_in_page(browser, origin, upload, fields, MP4 + b"\0", "video/mp4")
    wrong_type = upload_in_page(browser, origin, upload, {**fields, "Content-Type": "text/html"}, HTML, "text/html")
    foreign_key = upload_in_page(browser, origin, upload, {**fields, "key": f"uploads/{victim}"}, MP4, "video/mp4")
    with s3_clock_ahead(local_stack, EXPIRY + 5):
        expired = upload_in_page(browser, origin, upload, fields, MP4, "video/mp4")

    assert (too_big["status"], too_big["code"]) == (400, "EntityTooLarge"), too_big
    assert (wrong_type["status"], wrong_type["code"]) == (403, "AccessDenied"), wrong_type
    assert (foreign_key["status"], foreign_key["code"]) == (403, "AccessDenied"), foreign_key
    assert (expired["status"], expired["code"]) == (403, "AccessDenied"), expired
    assert not object_exists(local_stack, media_id) and not object_exists(local_stack, victim)
