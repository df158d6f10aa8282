"""Rollup work items, through SQS: roll one day's view shard each; the item that completes a run writes the day.
Failed records are reported as partial batch failures, so only they are retried (then dead-lettered)."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from media_platform import rollup
from media_platform.observability import instrumented
from media_platform.settings import require

# The cold start fails, with one log line, if the template left any of these out.
require("views_table", "daily_stats_table")

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    rollup.roll_message(record.body)


def handle(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


lambda_handler = instrumented(handle)
