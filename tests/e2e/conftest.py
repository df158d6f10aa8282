from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from devtools.local_stack import LocalStack

PASSWORD = "member password 1"

CHROMIUM = shutil.which("chromium")
# shared/NOTES.md: without the background-networking flags Chromium keeps dialling out and stalls offline.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed and `make players` could not install it (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright, with a fresh profile for each test module."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield context
        context.close()


@dataclass(frozen=True)
class Member:
    id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _member(api: httpx.Client, admin_token: str, email: str, role: str) -> Member:
    created = api.post("/auth/signup", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    if role != "viewer":
        changed = api.patch(
            f"/users/{user_id}", json={"role": role}, headers={"Authorization": f"Bearer {admin_token}"}
        )
        assert changed.status_code == 200, changed.text
    token = api.post("/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    return Member(user_id, token)


@pytest.fixture(scope="session")
def editor(api: httpx.Client, admin_token: str) -> Member:
    return _member(api, admin_token, "editor.one@example.com", "editor")


@pytest.fixture(scope="session")
def other_editor(api: httpx.Client, admin_token: str) -> Member:
    return _member(api, admin_token, "editor.two@example.com", "editor")


@pytest.fixture(scope="session")
def viewer(api: httpx.Client, admin_token: str) -> Member:
    return _member(api, admin_token, "viewer.one@example.com", "viewer")


@contextmanager
def s3_clock_ahead(stack: LocalStack, seconds: float) -> Iterator[None]:
    """The emulator's S3 front reads the time `seconds` later than now: how an expired URL or policy is tested."""
    front = stack.s3_front
    assert front is not None
    real = front.clock
    front.clock = lambda: real() + timedelta(seconds=seconds)
    try:
        yield
    finally:
        front.clock = real
