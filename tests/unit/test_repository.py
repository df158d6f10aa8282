"""What the repository tracks: sources only, never build output, environments or caches."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Made by `make build`, `make install` and the tools: never source, and .gitignore lists each.
GENERATED = (".aws-sam/", ".venv/", "__pycache__/", ".pytest_cache/", ".mypy_cache/", ".ruff_cache/", ".hypothesis/")


def tracked_files() -> list[str]:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(  # noqa: S603 (fixed arguments)
        [git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [path for path in listed.split("\0") if path]


def test_no_build_output_environment_or_cache_is_tracked() -> None:
    tracked = tracked_files()

    offending = [path for path in tracked if any(f"/{part}" in f"/{path}" for part in GENERATED)]

    assert tracked and offending == [], f"generated files are tracked: {offending[:5]}"
    assert not [path for path in tracked if path.endswith(".pyc")]


def test_gitignore_lists_every_generated_folder() -> None:
    ignored = set((ROOT / ".gitignore").read_text().split())

    assert set(GENERATED) <= ignored
