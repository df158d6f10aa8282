"""The benchmark's rollup line: reads are counted item by item across pages, and the figures land in the summary's
JSON line (judged against the target) and in the README's table."""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto import mock_aws

from devtools.bench.rollup import TARGET, CountingDynamoDB, rollup_sentence
from devtools.bench.summary import markdown_table, summarise
from media_platform import clients
from media_platform.dal.pages import query_items


def figures(per_view_16x: float) -> dict[str, Any]:
    def side(other: int, per_view: float) -> dict[str, Any]:
        return {
            "day_views": 160,
            "other_days_views": other,
            "work_items": 16,
            "failed_work_items": 0,
            "view_items_read": round(160 * per_view),
            "stats_items_read": 100,
            "queries": 17,
            "items_read_per_view": per_view,
        }

    return {
        "target": TARGET,
        "history_factor": 16,
        "1x": side(0, 1.0),
        "16x": side(2560, per_view_16x),
        "growth": per_view_16x,
        "met": per_view_16x <= TARGET,
    }


def test_every_item_a_query_reads_is_counted_across_pages() -> None:
    with mock_aws():
        client: Any = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
            BillingMode="PAY_PER_REQUEST",
        )
        for n in range(30):
            client.put_item(TableName="t", Item={"pk": {"S": "a" if n < 23 else "b"}, "sk": {"S": f"{n:02d}"}})
        counting = CountingDynamoDB(client)
        clients.override("dynamodb", counting)
        try:
            query = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "a"}}}
            items = list(query_items("t", **query, Limit=7))
        finally:
            clients.reset()

    assert len(items) == 23 and counting.items_read == {"t": 23} and counting.queries == 4


def test_the_rollup_figures_are_in_the_summary_and_the_table_and_a_miss_is_named() -> None:
    met = json.loads(json.dumps(summarise(["floor"], {}, {}, rollup=figures(1.0))))
    missed = summarise(["floor"], {}, {}, rollup=figures(1.6))

    assert met["rollup"]["16x"]["items_read_per_view"] == 1.0 and "rollup" not in met["missed"]
    assert missed["missed"]["rollup"] == ["items_read_per_view"]
    assert markdown_table(met).splitlines()[-1] == rollup_sentence(met["rollup"])
    assert "= 1.00 with that day alone, 1.00 with 16x" in rollup_sentence(met["rollup"])
    assert "NOT MET" in rollup_sentence(missed["rollup"])
