"""Scheduled: uploads whose URL expired with no object verified end `expired`, so no asset stays pending forever."""

from typing import Any

from media_platform import uploads
from media_platform.observability import instrumented
from media_platform.settings import require

# The cold start fails, with one log line, if the template left any of these out.
require("media_table", "media_bucket")


def handle(event: dict[str, Any], context: Any) -> dict[str, int]:
    return {"expired": uploads.expire_stale_uploads()}


lambda_handler = instrumented(handle)
