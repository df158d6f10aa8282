"""The rollup's read cost, in this process on moto: the items the rollup reads from the view log, divided by the
views of the day it rolls, once with only that day in the log (1x) and once with HISTORY times as many views of other
days around it (16x). The real handlers run: the scheduled function's work items are taken off the queue and fed to
the worker. Reads of the daily statistics table (the partials, O(media x shards)) are reported apart."""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.bench.environment import emulated_stack

DAY = datetime(2026, 11, 24, tzinfo=UTC)
DAY_VIEWS = 160
HISTORY = 16
MEDIA = 12
VIEWERS = 120
TARGET = 1.05  # items read per view of the day, at 1x and at 16x


class CountingDynamoDB:
    """A DynamoDB client that adds up, per table, the items every Query read (ScannedCount), pages included."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.items_read: dict[str, int] = {}
        self.queries = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def query(self, **kwargs: Any) -> Any:
        page = self.client.query(**kwargs)
        self.queries += 1
        table = kwargs["TableName"]
        self.items_read[table] = self.items_read.get(table, 0) + int(page.get("ScannedCount", page.get("Count", 0)))
        return page


@contextmanager
def rollup_stack() -> Iterator[Any]:
    """The emulated stack, with the rollup's clock just after the measured day."""
    from media_platform import rollup_plan

    clock = rollup_plan.clock
    try:
        with emulated_stack() as template:
            rollup_plan.clock = lambda: DAY + timedelta(days=1, minutes=15)
            yield template
    finally:
        rollup_plan.clock = clock


def seed(template: Any, days: list[datetime], views_per_day: int, salt: int) -> None:
    """`views_per_day` views of each day, of random media items and viewers, written in batches."""
    import boto3

    from media_platform.dal.views import ViewRecord, _to_item
    from media_platform.settings import get_settings

    shards = get_settings().view_shards
    picker = random.Random(salt)
    items = []
    for n in range(views_per_day * len(days)):
        at = days[n % len(days)] + timedelta(seconds=picker.randrange(86400))
        record = ViewRecord(
            media_id=f"media-{picker.randrange(MEDIA):03d}",
            owner_id="owner",
            view_id=f"view-{salt}-{n}",
            viewed_at=at,
            viewer=f"{picker.randrange(VIEWERS) * 2654435761 % 2**32:08x}" + "0" * 56,
            counted=picker.random() < 0.8,
            token_kind="stream",
            client_ip=None,
            user_agent=None,
            user_id=None,
            expires_at=int(at.timestamp()) + 90 * 86400,
        )
        items.append({"PutRequest": {"Item": _to_item(record, shards)}})
    client: Any = boto3.client("dynamodb", region_name="us-east-1")
    table = template.physical_name("ViewsTable")
    for start in range(0, len(items), 25):
        client.batch_write_item(RequestItems={table: items[start : start + 25]})


def roll_day(template: Any, day_views: int, other_views: int) -> dict[str, Any]:
    """One rollup of DAY through the real handlers, its reads counted."""
    import boto3

    from devtools.local_stack.gateway import LambdaContext
    from devtools.local_stack.triggers import sqs_event
    from media_platform import clients

    counting = CountingDynamoDB(boto3.client("dynamodb", region_name="us-east-1"))
    clients.override("dynamodb", counting)
    scheduler = importlib.import_module("functions.stats_rollup.app").lambda_handler
    worker = importlib.import_module("functions.stats_rollup_worker.app").lambda_handler
    day = DAY.date().isoformat()
    planned = scheduler({"from": day, "to": day}, LambdaContext("bench-rollup", 512, "bench"))
    sqs: Any = boto3.client("sqs", region_name="us-east-1")
    url, arn = template.queue_url("RollupQueue"), template.arn("RollupQueue")
    failed = 0
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            result = worker(sqs_event([message], arn), LambdaContext("bench-worker", 1024, "bench"))
            failed += len(result["batchItemFailures"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    view_items = counting.items_read.get(template.physical_name("ViewsTable"), 0)
    return {
        "day_views": day_views,
        "other_days_views": other_views,
        "work_items": planned["work_items"],
        "failed_work_items": failed,
        "view_items_read": view_items,
        "stats_items_read": counting.items_read.get(template.physical_name("DailyStatsTable"), 0),
        "queries": counting.queries,
        "items_read_per_view": round(view_items / day_views, 3),
    }


def run_rollup_bench() -> dict[str, Any]:
    """DAY rolled with only its own views in the log (1x), then again once HISTORY times as many views of the days
    around it are there; whether both meet TARGET, and how much the ratio grew."""
    with rollup_stack() as template:
        seed(template, [DAY], DAY_VIEWS, salt=1)
        alone = roll_day(template, DAY_VIEWS, 0)
        around = [DAY + timedelta(days=n) for n in range(-HISTORY // 2, HISTORY // 2 + 1) if n]
        seed(template, around, DAY_VIEWS * HISTORY // len(around), salt=2)
        amid = roll_day(template, DAY_VIEWS, DAY_VIEWS * HISTORY)
    ratios = (alone["items_read_per_view"], amid["items_read_per_view"])
    return {
        "target": TARGET,
        "history_factor": HISTORY,
        "1x": alone,
        f"{HISTORY}x": amid,
        "growth": round(ratios[1] / ratios[0], 3) if ratios[0] else None,
        "met": all(r <= TARGET for r in ratios)
        and ratios[1] <= ratios[0] * TARGET
        and not alone["failed_work_items"]
        and not amid["failed_work_items"],
    }


def rollup_sentence(figures: dict[str, Any]) -> str:
    history = figures["history_factor"]
    alone, amid = figures["1x"], figures[f"{history}x"]
    return (
        f"Rollup: items read from the view log / the day's views = {alone['items_read_per_view']:.2f} with that day "
        f"alone, {amid['items_read_per_view']:.2f} with {history}x as many views of other days "
        f"({amid['view_items_read']:,} items for {amid['day_views']:,} views, {amid['queries']} queries, "
        f"{amid['work_items']} work items; {amid['stats_items_read']:,} daily-stats items read to merge the shards); "
        f"target <= {figures['target']} and flat: {'met' if figures['met'] else 'NOT MET'}"
    )
