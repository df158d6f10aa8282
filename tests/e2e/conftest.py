from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from devtools.local_stack import LocalStack

PASSWORD = "member password 1"


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
