"""Scheduled daily (EventBridge Scheduler), or invoked with {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"} to backfill:
sends one work item per day and view shard to the rollup queue, which the worker drains. Reads no view records."""

from typing import Any

from media_platform import rollup_plan
from media_platform.observability import instrumented
from media_platform.settings import require

# The cold start fails, with one log line, if the template left any of these out.
require("rollup_queue_url")


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return rollup_plan.plan(event)


lambda_handler = instrumented(handle)
