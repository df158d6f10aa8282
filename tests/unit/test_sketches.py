"""Unique viewers over a range come from merged sketches: a viewer seen on several days counts once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from media_platform.sketches import merged, sketch_of, unique_count

LAYER = Path(__file__).resolve().parents[2] / "layers" / "shared"


def test_merging_counts_a_viewer_seen_on_two_days_once() -> None:
    monday = sketch_of(f"viewer-{i}" for i in range(100))
    tuesday = sketch_of(f"viewer-{i}" for i in range(50, 150))

    assert unique_count([monday, tuesday]) == 150  # exact at this size; adding the days would give 200
    assert unique_count([monday], viewers=[f"viewer-{i}" for i in range(90, 200)]) == 200
    assert unique_count([]) == 0


@pytest.mark.parametrize("run", range(5))
def test_large_merged_counts_stay_within_two_percent(run: int) -> None:
    days = [sketch_of(f"{run}-viewer-{day * 7_000 + i}" for i in range(20_000)) for day in range(3)]

    assert unique_count(days) == pytest.approx(34_000, rel=0.02)  # viewers 0 to 33,999
    assert max(len(day) for day in days) < 8_300  # HLL_4 at lg_k 14: about 8 KB however many viewers


def test_a_merged_sketch_counts_what_its_parts_count() -> None:
    parts = [sketch_of(f"viewer-{i}" for i in range(start, start + 60)) for start in (0, 40, 80)]

    assert unique_count([merged(parts)]) == unique_count(parts) == 140


THREADS_AFTER_IMPORT = """
import os, sys
sys.path.insert(0, sys.argv[1])
import {module}
print(len(os.listdir("/proc/self/task")))
"""


def threads_after_importing(module: str) -> int:
    """The threads of a clean interpreter (no OPENBLAS_NUM_THREADS) once it has imported `module`."""
    env = {name: value for name, value in os.environ.items() if name != "OPENBLAS_NUM_THREADS"}
    result = subprocess.run(  # noqa: S603 (our own interpreter and probe)
        [sys.executable, "-I", "-c", THREADS_AFTER_IMPORT.format(module=module), str(LAYER)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(result.stdout)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenBLAS starts no thread of its own on one core")
def test_loading_the_sketches_starts_no_blas_threads() -> None:
    assert threads_after_importing("datasketches") > 1  # numpy's OpenBLAS, as it starts by default
    assert threads_after_importing("media_platform.sketches") == 1
