from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

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
