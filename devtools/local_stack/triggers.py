"""The event sources besides HTTP: SQS queues polled into their function (as Lambda's event source mapping does,
with partial batch failures), and schedules run on a timer or on demand."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from devtools.local_stack.gateway import LoadedFunction
from devtools.local_stack.template import Template

RETRY_DELAY_SECONDS = 2  # a failed record comes back this soon locally (AWS: the queue's visibility timeout)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


class QueuePoller(threading.Thread):
    def __init__(self, function: LoadedFunction, template: Template, queue_logical_id: str, batch_size: int) -> None:
        super().__init__(daemon=True, name=f"poll-{function.spec.logical_id}")
        self.function, self.batch_size = function, batch_size
        self.queue_arn = template.arn(queue_logical_id)
        self.queue_name = template.physical_name(queue_logical_id)
        self.stopping = threading.Event()
        self.idle = threading.Event()

    def run(self) -> None:
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        while not self.stopping.is_set():
            try:
                self.poll_once(sqs, url)
            except Exception:
                time.sleep(RETRY_DELAY_SECONDS)

    def poll_once(self, sqs: Any, url: str) -> None:
        received = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(self.batch_size, 10), WaitTimeSeconds=1, AttributeNames=["All"]
        )
        messages = received.get("Messages", [])
        self.idle.set() if not messages else self.idle.clear()
        if not messages:
            return
        result = self.function.invoke(sqs_event(messages, self.queue_arn)) or {}
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=RETRY_DELAY_SECONDS
                )
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def schedule_seconds(expression: str) -> int:
    """`rate(15 minutes)` -> 900. Cron expressions run hourly locally, unless `seconds_until` can place them."""
    found = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not found:
        return 3600
    unit = {"minute": 60, "hour": 3600, "day": 86400}[found.group(2).rstrip("s")]
    return int(found.group(1)) * unit


_DAILY_CRON = re.compile(r"cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)")


def seconds_until(expression: str, now: datetime) -> float:
    """Seconds from `now` to the next run: a daily `cron(M H * * ? *)` at H:M UTC, a `rate(...)` after its rate, any
    other cron expression in an hour."""
    found = _DAILY_CRON.fullmatch(expression.strip())
    if not found:
        return schedule_seconds(expression)
    now = now.astimezone(UTC)
    next_run = now.replace(hour=int(found.group(2)), minute=int(found.group(1)), second=0, microsecond=0)
    if next_run <= now:
        next_run += timedelta(days=1)
    return (next_run - now).total_seconds()


def scheduled_event(function: LoadedFunction, properties: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the schedule delivers: a ScheduleV2's `Input` (EventBridge Scheduler sends exactly that), else the
    EventBridge rule's "Scheduled Event"."""
    if properties and "Input" in properties:
        payload: dict[str, Any] = json.loads(properties["Input"])
        return payload
    return {
        "version": "0",
        "id": "local-schedule",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{function.spec.logical_id}"],
        "detail": {},
    }


class Scheduler(threading.Thread):
    """Runs a function on its schedule: every `every_seconds` if given, else at the times its expression names."""

    def __init__(
        self,
        function: LoadedFunction,
        every_seconds: float | None = None,
        properties: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(daemon=True, name=f"schedule-{function.spec.logical_id}")
        self.function, self.every_seconds, self.properties = function, every_seconds, properties or {}
        self.stopping = threading.Event()

    def delay(self) -> float:
        if self.every_seconds is not None:
            return self.every_seconds
        expression = self.properties.get("Schedule") or self.properties.get("ScheduleExpression") or "rate(1 hour)"
        return seconds_until(expression, datetime.now(UTC))

    def run(self) -> None:
        while not self.stopping.wait(self.delay()):
            try:
                self.function.invoke(scheduled_event(self.function, self.properties))
            except Exception:  # noqa: S112 (the next tick tries again, as EventBridge would retry)
                continue
