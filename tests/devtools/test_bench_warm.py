"""The benchmark's warm runs: every case timed round-robin, each request on its own."""

from __future__ import annotations

from devtools.bench.targets import FLOOR, Target
from devtools.bench.warm import ROUNDS, WarmCase, run_warm


def target(name: str) -> Target:
    return Target(name, [], name, name, "lambda_handler", {}, wants_token=False, environment={})


def test_cases_take_turns_and_a_failing_function_is_dropped_with_a_warning() -> None:
    # Given the floor, a function and a function that fails
    calls: list[str] = []

    def boom() -> None:
        raise RuntimeError("no such table")

    cases = [
        WarmCase(target(FLOOR), lambda: calls.append(FLOOR), 200),
        WarmCase(target("MediaGetFunction"), lambda: calls.append("MediaGetFunction"), 200),
        WarmCase(target("MediaListFunction"), boom, 200),
    ]

    # When 40 requests each are timed
    results, warnings = run_warm(cases, 40, log=lambda _: None)

    # Then each working case got its 40 timed requests (after 2 of warm-up), in turns of 40 / ROUNDS
    assert set(results) == {FLOOR, "MediaGetFunction"}
    assert calls.count(FLOOR) == calls.count("MediaGetFunction") == 42
    turn = 40 // ROUNDS
    assert calls[4 : 4 + 2 * turn] == [FLOOR] * turn + ["MediaGetFunction"] * turn
    assert all(result.median_us <= result.p99_us for result in results.values())
    assert all(result.wall_median_us > 0 and result.status == 200 for result in results.values())
    assert warnings == ["MediaListFunction: warm run failed: RuntimeError: no such table"]
