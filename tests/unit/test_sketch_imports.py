"""DataSketches (and numpy) ship only with the functions that build or merge sketches: a function whose code reaches
`media_platform.sketches` ships datasketches in its own requirements.txt, no other function does, nor the layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "layers" / "shared"
FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))
SKETCHES = "media_platform.sketches"


def imported(path: Path) -> set[str]:
    """The media_platform modules a file imports (`from media_platform import x` names the module x)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("media_platform")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("media_platform"):
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if module_file(name)}


def module_file(name: str) -> Path | None:
    path = SHARED / Path(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def reaches(start: Path) -> set[str]:
    seen: set[str] = set()
    pending = imported(start)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending |= imported(module_file(name))  # type: ignore[arg-type]
    return seen


def ships_sketches(requirements: Path) -> bool:
    return requirements.is_file() and "datasketches==" in requirements.read_text()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_ships_datasketches_exactly_when_its_code_reaches_the_sketches(function: str) -> None:
    folder = ROOT / "functions" / function
    uses = SKETCHES in reaches(folder / "app.py")

    assert ships_sketches(folder / "requirements.txt") == uses, f"{function} imports sketches: {uses}"


def test_the_rollup_worker_reaches_the_sketches_and_the_scheduled_rollup_does_not() -> None:
    assert SKETCHES in reaches(ROOT / "functions" / "stats_rollup_worker" / "app.py")
    assert SKETCHES not in reaches(ROOT / "functions" / "stats_rollup" / "app.py")


def test_the_shared_layer_does_not_ship_datasketches() -> None:
    assert not ships_sketches(SHARED / "requirements.txt")
