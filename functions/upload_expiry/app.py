"""Scheduled: uploads whose URL expired with no object verified end `expired`, so no asset stays pending forever."""

from typing import Any

from media_platform import uploads
from media_platform.observability import instrumented


def handle(event: dict[str, Any], context: Any) -> dict[str, int]:
    return {"expired": uploads.expire_stale_uploads()}


lambda_handler = instrumented(handle)
