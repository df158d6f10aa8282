"""The rollup's work queue: the scheduled function sends one message per work item, the worker reads them through
its SQS event source (so it never calls SQS itself)."""

from __future__ import annotations

from collections.abc import Sequence

from media_platform import clients
from media_platform.dal.aws_errors import busy_on_throttle
from media_platform.settings import get_settings

BATCH = 10  # SendMessageBatch takes at most ten entries
ATTEMPTS = 3  # entries SQS reports as failed (throttled, say) are sent again, then the run fails


class NotQueued(RuntimeError):
    """SQS kept refusing some work items: the run fails, so the schedule's retry or the person re-runs it."""


def send(bodies: Sequence[str]) -> int:
    """Sends every body, ten to a call; answers how many calls it took."""
    url = get_settings().resource("rollup_queue_url")
    calls = 0
    for start in range(0, len(bodies), BATCH):
        pending = {str(n): body for n, body in enumerate(bodies[start : start + BATCH])}
        for _ in range(ATTEMPTS):
            entries = [{"Id": entry_id, "MessageBody": body} for entry_id, body in pending.items()]
            with busy_on_throttle():
                answer = clients.sqs().send_message_batch(QueueUrl=url, Entries=entries)
            calls += 1
            pending = {failed["Id"]: pending[failed["Id"]] for failed in answer.get("Failed", [])}
            if not pending:
                break
        if pending:
            raise NotQueued(f"{len(pending)} work items were not queued")
    return calls
