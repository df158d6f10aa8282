"""DynamoDB queries read page after page without botocore's paginators: a paginator's first use imports jmespath
and loads the service's paginator model (part of the analytics functions' cold start), and every page it reads is
searched with jmespath for what a query's page holds under two known keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from media_platform import clients


def query_items(table: str, **query: Any) -> Iterator[dict[str, Any]]:
    """Every item the query matches, each page read in turn from the last one's LastEvaluatedKey."""
    client = clients.dynamodb()
    while True:
        page = client.query(TableName=table, **query)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        query = {**query, "ExclusiveStartKey": page["LastEvaluatedKey"]}
