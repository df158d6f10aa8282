"""The data layer raises its own exceptions: what the client reads is the use case's choice, never dal/'s."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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
