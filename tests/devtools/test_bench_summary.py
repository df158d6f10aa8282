"""The benchmark's summary: the one JSON line of figures and ratios, the targets judged on it, the README table."""

from __future__ import annotations

import json

from devtools.bench.cold import ColdRun
from devtools.bench.summary import TARGETS, TIMES, last_json_line, markdown_table, summarise
from devtools.bench.warm import WarmResult, percentile

TRACED = "MediaGetFunction +X-Ray SDK"


def cold(total_ms: float, bcrypt_ms: float = 0.0, status: int = 200) -> list[ColdRun]:
    """Three cold starts of `total_ms` CPU time, each taking 10% longer on the wall clock."""
    return [ColdRun((total_ms - 1) * 1.1, 1.1, bcrypt_ms * 1.1, status, total_ms - 1, 1.0, bcrypt_ms)] * 3


def run() -> dict[str, object]:
    names = ["floor", "feature_floor", "MediaGetFunction", "AuthLoginFunction", "AuthMeFunction", TRACED]
    colds = {
        "floor": cold(300),
        "feature_floor": cold(330),
        "MediaGetFunction": cold(330),
        "AuthLoginFunction": cold(600, bcrypt_ms=250),
        "AuthMeFunction": cold(330, status=401),
        TRACED: cold(420),
    }
    warms = {
        "floor": WarmResult(50, 80, 200),
        "feature_floor": WarmResult(100, 150, 200),
        "MediaGetFunction": WarmResult(125, 320, 200),
        "AuthLoginFunction": WarmResult(140, 250, 200, bcrypt_bound=True, real_bcrypt_ms=210),
        "AuthMeFunction": WarmResult(110, 160, 401),
        TRACED: WarmResult(150, 400, 200),
    }
    return summarise(names, colds, warms, traced=("MediaGetFunction", TRACED), python="3.13.0", elapsed_s=12.5)


def test_the_summary_holds_every_figure_and_ratio_and_survives_json() -> None:
    # Given a run's measurements, when summarised
    summary = json.loads(json.dumps(run()))

    # Then the run's description, the targets and both floors are there
    assert summary["python"] == "3.13.0" and summary["elapsed_s"] == 12.5
    assert summary["targets"] == TARGETS
    assert set(summary["floors"]) == {"floor", "feature_floor"}
    assert summary["floors"]["feature_floor"]["warm"]["median_ratio"] == 2.0  # against the floor
    assert summary["floors"]["feature_floor"]["cold"]["ratio"] == 1.1
    # and each function with cold ratios against the floor and warm ratios against the feature floor
    media = summary["functions"]["MediaGetFunction"]
    assert media["cold"]["ratio"] == 1.1 and media["cold"]["wall_ratio"] == 1.1
    assert media["cold"]["total_ms"] == 330.0 and media["cold"]["wall_total_ms"] == 363.0
    assert media["warm"]["median_ratio"] == 1.25 and media["warm"]["p99_ratio"] == 2.133
    assert media["met"] == {"cold": True, "warm_median": True, "warm_p99": False}
    # and the traced run is no function of its own, only what the SDK costs
    assert TRACED not in summary["functions"]
    assert summary["xray_sdk"]["function"] == "MediaGetFunction"
    assert summary["xray_sdk"]["cold_cost_ms"] == 90.0
    assert summary["xray_sdk"]["warm_cost_median_us"] == 25.0


def test_bcrypt_is_judged_out_and_error_paths_are_not_judged() -> None:
    summary = run()

    login = summary["functions"]["AuthLoginFunction"]  # type: ignore[index]
    assert login["cold"]["excl_bcrypt_ms"] == 350.0 and login["cold"]["excl_bcrypt_ratio"] == 1.167
    assert login["met"] == {"cold": True, "warm_median": False, "warm_p99": True}
    assert summary["functions"]["AuthMeFunction"]["met"] == {  # type: ignore[index]
        "cold": None,
        "warm_median": None,
        "warm_p99": None,
    }
    assert summary["missed"] == {"MediaGetFunction": ["warm_p99"], "AuthLoginFunction": ["warm_median"]}


def test_the_readme_table_is_rendered_from_the_last_json_line() -> None:
    # Given a run's output whose last line is the summary
    output = "table...\n(12 s)\n" + json.dumps(run()) + "\n"

    # When the table is rendered from it
    table = markdown_table(last_json_line(output)).splitlines()

    # Then there is a header, a row per floor and function, and the X-Ray line
    assert table[0].startswith("| function | cold ms |")
    assert table[2].startswith("| *floor* | 300 | - |")
    assert table[4] == "| MediaGet | 330 | 1.10x | 363 | 125 | 1.25x | 320 | 2.13x | yes / yes / **no** |".replace(
        "x", TIMES
    )
    assert "(350 excl. bcrypt)" in table[5] and "(bcrypt stubbed)" in table[5]
    assert table[6].endswith("| n/a / n/a / n/a |")
    assert table[-1].startswith("X-Ray SDK on (`TracerDisabled=false`), MediaGet: cold 330 → 420 ms (+90 ms")


def test_percentile_is_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 201)]

    assert percentile(samples, 0.99) == 198.0
    assert percentile(samples, 0.5) == 100.0
    assert percentile([7.0], 0.99) == 7.0
