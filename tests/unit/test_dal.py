"""The data layer raises its own exceptions: what the client reads is the use case's choice, never dal/'s."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from media_platform import clients
from media_platform.dal.pages import query_items

DAL = Path(__file__).resolve().parents[2] / "layers" / "shared" / "media_platform" / "dal"
# The one AWS error translator may answer throttling and outages with the 503 itself (habit 5).
ALLOWED = {"aws_errors.py": {"ServiceBusy"}}


def domain_errors_used(source: str) -> set[str]:
    """Every name a module takes from media_platform.errors, and the module itself if imported whole."""
    used: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "media_platform.errors":
            used |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "media_platform":
            used |= {"errors"} & {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            used |= {"errors"} & {alias.name.removeprefix("media_platform.") for alias in node.names}
    return used


@pytest.mark.parametrize("module", sorted(p.name for p in DAL.glob("*.py")))
def test_the_data_layer_raises_no_client_facing_errors(module: str) -> None:
    used = domain_errors_used((DAL / module).read_text())

    assert used <= ALLOWED.get(module, set()), f"dal/{module} raises client-facing errors: {sorted(used)}"


class PagedQueries:
    """A DynamoDB client with only `query`, answering three pages (no paginator: the data layer must not need one)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        page = len(self.calls)
        answer: dict[str, Any] = {"Items": [{"n": {"N": str(page * 10 + i)}} for i in range(2)]}
        if page < 3:
            answer["LastEvaluatedKey"] = {"pk": {"S": f"after-{page}"}}
        return answer


def test_a_query_reads_every_page_from_the_last_ones_key() -> None:
    client = PagedQueries()
    clients.override("dynamodb", client)
    try:
        items = list(query_items("t", KeyConditionExpression="pk = :pk", Limit=2))
    finally:
        clients.reset()

    assert [item["n"]["N"] for item in items] == ["10", "11", "20", "21", "30", "31"]
    assert [call.get("ExclusiveStartKey") for call in client.calls] == [
        None,
        {"pk": {"S": "after-1"}},
        {"pk": {"S": "after-2"}},
    ]
    assert all(call["TableName"] == "t" and call["Limit"] == 2 for call in client.calls)
