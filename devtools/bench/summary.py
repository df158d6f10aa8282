"""Every figure and ratio of one `make bench` run as one JSON-ready dict (the run's last line), the targets judged on
it, and the README's table rendered from it: `tail -1 bench.out | python -m devtools.bench.summary`.

Pure: it takes the measured runs and does no measuring.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devtools.bench.cold import ColdRun
    from devtools.bench.warm import WarmResult

FLOOR = "floor"
FEATURE_FLOOR = "feature_floor"
# Cold: init + first request against the floor. Warm: per-request time against the feature floor. Both judged on CPU
# time (wall time is reported alongside).
TARGETS = {"cold_ratio": 1.2, "warm_median_ratio": 1.3, "warm_p99_ratio": 2.0}
BCRYPT_MS = 1.0  # a first request spending more than this in bcrypt is judged without it
TIMES = "\u00d7"  # the multiplication sign the README writes ratios with


def _ms(value: float) -> float:
    return round(value, 1)


def _ratio(value: float, floor: float) -> float:
    return round(value / floor, 3)


def _ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 400  # a 302 (the stream redirect) is an answer too


def cold_figures(runs: list[ColdRun], floor: tuple[float, float] | None) -> dict[str, Any]:
    """Medians of one target's cold starts: the child's CPU time (judged) and wall time; with bcrypt in the first
    request, also the total without it. `floor`: the floor's median CPU and wall totals."""
    total, wall = statistics.median(run.total_cpu_ms for run in runs), statistics.median(run.total_ms for run in runs)
    figures: dict[str, Any] = {
        "init_ms": _ms(statistics.median(run.init_cpu_ms for run in runs)),
        "request_ms": _ms(statistics.median(run.request_cpu_ms for run in runs)),
        "total_ms": _ms(total),
        "wall_init_ms": _ms(statistics.median(run.init_ms for run in runs)),
        "wall_request_ms": _ms(statistics.median(run.request_ms for run in runs)),
        "wall_total_ms": _ms(wall),
        "statuses": sorted({run.status for run in runs}, key=lambda status: status or 0),
    }
    if floor:
        figures.update(ratio=_ratio(total, floor[0]), wall_ratio=_ratio(wall, floor[1]))
    bcrypt_ms = statistics.median(run.bcrypt_cpu_ms for run in runs)
    if bcrypt_ms > BCRYPT_MS:
        excl = statistics.median(run.total_cpu_ms - run.bcrypt_cpu_ms for run in runs)
        figures.update(bcrypt_ms=_ms(bcrypt_ms), excl_bcrypt_ms=_ms(excl))
        if floor:
            figures["excl_bcrypt_ratio"] = _ratio(excl, floor[0])
    return figures


def warm_figures(result: WarmResult, floor: WarmResult | None) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "median_us": round(result.median_us, 1),
        "p99_us": round(result.p99_us, 1),
        "wall_median_us": round(result.wall_median_us, 1),
        "wall_p99_us": round(result.wall_p99_us, 1),
        "status": result.status,
    }
    if floor:
        figures.update(
            median_ratio=_ratio(result.median_us, floor.median_us), p99_ratio=_ratio(result.p99_us, floor.p99_us)
        )
    if result.bcrypt_bound:
        figures.update(bcrypt_stubbed=True, real_bcrypt_ms=_ms(result.real_bcrypt_ms))
    return figures


def judged(cold: dict[str, Any] | None, warm: dict[str, Any] | None) -> dict[str, bool | None]:
    """Each target met or not; None where not measured, or measured on an error status (no valid path)."""
    cold_ratio = None
    if cold and all(_ok(status) for status in cold["statuses"]):
        cold_ratio = cold.get("excl_bcrypt_ratio", cold.get("ratio"))
    warm_ok = bool(warm) and _ok(warm["status"] if warm else None)
    return {
        "cold": None if cold_ratio is None else cold_ratio <= TARGETS["cold_ratio"],
        "warm_median": warm["median_ratio"] <= TARGETS["warm_median_ratio"] if warm and warm_ok else None,
        "warm_p99": warm["p99_ratio"] <= TARGETS["warm_p99_ratio"] if warm and warm_ok else None,
    }


def xray_cost(off: dict[str, Any], on: dict[str, Any]) -> dict[str, Any]:
    """What the tracer costs one function: the same function measured with it off and on."""
    found: dict[str, Any] = {}
    if off.get("cold") and on.get("cold"):
        found.update(
            cold_off_ms=off["cold"]["total_ms"],
            cold_on_ms=on["cold"]["total_ms"],
            cold_cost_ms=_ms(on["cold"]["total_ms"] - off["cold"]["total_ms"]),
            init_cost_ms=_ms(on["cold"]["init_ms"] - off["cold"]["init_ms"]),
            cold_wall_cost_ms=_ms(on["cold"]["wall_total_ms"] - off["cold"]["wall_total_ms"]),
        )
    if off.get("warm") and on.get("warm"):
        found.update(
            warm_off_median_us=off["warm"]["median_us"],
            warm_on_median_us=on["warm"]["median_us"],
            warm_cost_median_us=round(on["warm"]["median_us"] - off["warm"]["median_us"], 1),
            warm_off_p99_us=off["warm"]["p99_us"],
            warm_on_p99_us=on["warm"]["p99_us"],
        )
    return found


def summarise(
    names: Iterable[str],
    cold: dict[str, list[ColdRun]],
    warm: dict[str, WarmResult],
    traced: tuple[str, str] | None = None,
    rollup: dict[str, Any] | None = None,
    per_view: dict[str, Any] | None = None,
    **run: Any,
) -> dict[str, Any]:
    """`names`: the floors and the functions, in report order; `traced`: (function, its traced target's name);
    `rollup`: the rollup's items-read figures (`devtools.bench.rollup`); `per_view`: writes and bytes per view and
    analytics calls (`devtools.bench.views`); `run`: what describes the run (python,
    machine, cpus, cold_runs, warm_iterations, elapsed_s, ...)."""
    floor_runs = cold.get(FLOOR)
    floor_ms = (
        (statistics.median(r.total_cpu_ms for r in floor_runs), statistics.median(r.total_ms for r in floor_runs))
        if floor_runs
        else None
    )
    floors: dict[str, Any] = {}
    functions: dict[str, Any] = {}
    measured: dict[str, dict[str, Any]] = {}
    for name in names:
        is_floor = name in (FLOOR, FEATURE_FLOOR)
        # Warm ratios: a function against the feature floor, the feature floor against the floor.
        warm_floor = warm.get(FLOOR if name == FEATURE_FLOOR else FEATURE_FLOOR) if name != FLOOR else None
        entry: dict[str, Any] = {
            "cold": cold_figures(cold[name], None if name == FLOOR else floor_ms) if cold.get(name) else None,
            "warm": warm_figures(warm[name], warm_floor) if name in warm else None,
        }
        measured[name] = entry
        if is_floor:
            floors[name] = entry
        elif not traced or name != traced[1]:
            functions[name] = {**entry, "met": judged(entry["cold"], entry["warm"])}
    missed = {name: [t for t, ok in f["met"].items() if ok is False] for name, f in functions.items()}
    summary: dict[str, Any] = {
        **run,
        "targets": TARGETS,
        "floors": floors,
        "functions": functions,
        "missed": {name: targets for name, targets in missed.items() if targets},
    }
    if rollup is not None:
        summary["rollup"] = rollup
        if not rollup["met"]:
            summary["missed"]["rollup"] = ["items_read_per_view"]
    if per_view is not None:
        summary["per_view"] = per_view
        if not per_view["met"]:
            summary["missed"]["per_view"] = ["writes_per_view_or_flat_analytics_reads"]
    if traced and traced[1] in measured:
        summary["xray_sdk"] = {"function": traced[0], **xray_cost(measured[traced[0]], measured[traced[1]])}
    return summary


# --- the README's table ----------------------------------------------------------------------------------------


def _n(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:,.0f}{unit}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}{TIMES}"


def _verdicts(met: dict[str, bool | None]) -> str:
    return " / ".join("n/a" if ok is None else ("yes" if ok else "**no**") for ok in met.values())


def markdown_table(summary: dict[str, Any]) -> str:
    """One row per floor and function (cold and warm figures are CPU time, cold wall time alongside), and one line on
    what the X-Ray SDK costs."""
    lines = [
        "| function | cold ms | cold ratio | cold wall ms | warm p50 µs | p50 ratio | warm p99 µs | p99 ratio "
        "| met (cold / p50 / p99) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    rows = [*summary["floors"].items(), *summary["functions"].items()]
    for name, entry in rows:
        cold, warm = entry["cold"] or {}, entry["warm"] or {}
        cold_ms, cold_ratio = _n(cold.get("total_ms")), _x(cold.get("ratio"))
        if "excl_bcrypt_ms" in cold:
            cold_ms += f" ({_n(cold['excl_bcrypt_ms'])} excl. bcrypt)"
            cold_ratio = f"{_x(cold.get('excl_bcrypt_ratio'))} excl. bcrypt"
        p50 = _n(warm.get("median_us")) + (" (bcrypt stubbed)" if warm.get("bcrypt_stubbed") else "")
        verdict = _verdicts(entry["met"]) if "met" in entry else "floor"
        label = name.replace("Function", "") if name not in summary["floors"] else f"*{name.replace('_', ' ')}*"
        lines.append(
            f"| {label} | {cold_ms} | {cold_ratio} | {_n(cold.get('wall_total_ms'))} | {p50} | "
            f"{_x(warm.get('median_ratio'))} | "
            f"{_n(warm.get('p99_us'))} | {_x(warm.get('p99_ratio'))} | {verdict} |"
        )
    xray = summary.get("xray_sdk")
    if xray:
        lines += ["", xray_sentence(xray)]
    if summary.get("rollup"):
        from devtools.bench.rollup import rollup_sentence

        lines += ["", rollup_sentence(summary["rollup"])]
    if summary.get("per_view"):
        from devtools.bench.views import per_view_sentence

        lines += ["", per_view_sentence(summary["per_view"])]
    return "\n".join(lines)


def xray_sentence(xray: dict[str, Any]) -> str:
    parts = []
    if "cold_cost_ms" in xray:
        parts.append(
            f"cold {_n(xray['cold_off_ms'])} → {_n(xray['cold_on_ms'])} ms ({xray['cold_cost_ms']:+,.0f} ms, "
            f"init {xray['init_cost_ms']:+,.0f} ms)"
        )
    if "warm_cost_median_us" in xray:
        parts.append(
            f"warm p50 {_n(xray['warm_off_median_us'])} → {_n(xray['warm_on_median_us'])} µs "
            f"({xray['warm_cost_median_us']:+,.0f} µs), p99 {_n(xray['warm_off_p99_us'])} → "
            f"{_n(xray['warm_on_p99_us'])} µs"
        )
    return f"X-Ray SDK on (`TracerDisabled=false`), {xray['function'].removesuffix('Function')}: " + (
        "; ".join(parts) or "not measured"
    )


def last_json_line(text: str) -> dict[str, Any]:
    """The summary: the last line of `make bench`'s output that is a JSON object."""
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            found: dict[str, Any] = json.loads(line)
            return found
    raise ValueError("no JSON summary line in the input")


if __name__ == "__main__":
    print(markdown_table(last_json_line(sys.stdin.read())))
