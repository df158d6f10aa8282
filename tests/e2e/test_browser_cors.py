"""In headless Chromium, a page on an allowed origin reads the local API's answers through fetch(), and a page on
another origin cannot: the browser enforces the CORS headers the gateway sends (or does not send).

The allowed page is the API's own /openapi.json opened as http://localhost:<port>, which calls the API as
http://127.0.0.1:<port>: another origin (the host differs) that the local stack allows. The other page comes from a
tiny HTTP server on another loopback port. Both are real loopback addresses, so Chromium's local-network-access check
(which refuses loopback requests from pages it counts as public, such as ones Playwright fulfils itself) stays out of
the way, and only CORS decides."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from devtools.local_stack import LocalStack
from tests.e2e.conftest import Member, needs_chromium

pytestmark = needs_chromium

# fetch() the URL (with the token as Bearer, which makes it a preflighted request) and report what the page may read.
FETCH = """async ([url, token, mode]) => {
  const init = { mode };
  if (token) init.headers = { Authorization: `Bearer ${token}` };
  try {
    const response = await fetch(url, init);
    return { type: response.type, status: response.status, body: await response.text() };
  } catch (error) {
    return { error: String(error) };
  }
}"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>another origin</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def other_origin() -> Iterator[str]:
    """A page server on another loopback port: an origin the stack does not allow."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True, name="other-origin").start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def fetch_from(browser: Any, page_url: str, url: str, token: str | None = None, mode: str = "cors") -> dict[str, Any]:
    page = browser.new_page()
    try:
        page.goto(page_url)
        result: dict[str, Any] = page.evaluate(FETCH, [url, token, mode])
        return result
    finally:
        page.close()


def test_a_page_on_an_allowed_origin_reads_the_apis_answers(
    browser: Any, local_stack: LocalStack, viewer: Member
) -> None:
    # Given a page on http://localhost:<port>, and the API called as http://127.0.0.1:<port> (another origin)
    page_url = f"http://localhost:{local_stack.api_port}/openapi.json"
    api = f"http://127.0.0.1:{local_stack.api_port}"

    # When it fetches a route that needs a preflight (Authorization) and one that does not
    me = fetch_from(browser, page_url, f"{api}/auth/me", viewer.token)
    refused = fetch_from(browser, page_url, f"{api}/auth/me")

    # Then it reads both answers
    assert me.get("status") == 200, me
    assert viewer.id in me["body"]
    assert refused.get("status") == 401, refused
    assert "not-authenticated" in refused["body"]


def test_a_page_on_another_origin_cannot_read_the_apis_answers(
    browser: Any, local_stack: LocalStack, viewer: Member, other_origin: str
) -> None:
    # Given a page on an origin the stack does not allow
    page_url = f"{other_origin}/"

    # When it fetches from the API, with a preflight and without one
    me = fetch_from(browser, page_url, f"{local_stack.api_url}/auth/me", viewer.token)
    simple = fetch_from(browser, page_url, f"{local_stack.api_url}/auth/me")
    opaque = fetch_from(browser, page_url, f"{local_stack.api_url}/auth/me", mode="no-cors")

    # Then the browser refuses both, although the API is reachable from that page (an opaque no-cors answer):
    # it is CORS that hides the answer, not a network failure
    assert "error" in me and "Failed to fetch" in me["error"], me
    assert "error" in simple and "Failed to fetch" in simple["error"], simple
    assert opaque == {"type": "opaque", "status": 0, "body": ""}
