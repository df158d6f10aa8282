from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from devtools.local_stack import LocalStack

ADMIN_PASSWORD = "admin password 1"

# Tests never reach real AWS: dummy credentials and a fixed region, set before any client exists.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "media-platform",
        "POWERTOOLS_METRICS_NAMESPACE": "MediaPlatform",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture(autouse=True)
def fresh_clients() -> Iterator[None]:
    """Each test starts with no cached settings or clients, and leaves none behind."""
    from media_platform import clients
    from media_platform.settings import get_settings

    get_settings.cache_clear()
    clients.reset()
    yield
    get_settings.cache_clear()
    clients.reset()


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """The whole local stack on free ports, as `make dev` runs it."""
    from devtools.local_stack import LocalStack

    stack = LocalStack(api_port=0, aws_port=0).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def api(local_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local_stack.api_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def admin_token(api: httpx.Client) -> str:
    """The stack's first account, hence its admin."""
    created = api.post("/auth/signup", json={"email": "admin@example.com", "password": ADMIN_PASSWORD})
    assert created.status_code == 201 and created.json()["role"] == "admin", created.text
    login = api.post("/auth/login", json={"email": "admin@example.com", "password": ADMIN_PASSWORD})
    return str(login.json()["access_token"])
