"""python -m devtools.bench: cold init and warm per-request overhead of every function, against two floors; the last
line of its output is one JSON object with every figure and ratio (see `devtools.bench.summary`)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from contextlib import redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.bench",
        description=(
            "Cold init (a fresh `python -I` importing the built handler from .aws-sam/build and serving one request "
            "against a local moto server) and warm per-request overhead (in-process, AWS stubbed) of every function "
            "in template.yaml, each as a ratio against floors measured in the same run. Cold against the floor: "
            "FastAPI + Mangum (lifespan off) with one async route and a DynamoDB and an S3 client. Warm (median and "
            "p99) against the feature floor: the floor plus an HS256 JWT verified with PyJWT, a pydantic response "
            "model and the Powertools Logger and Metrics decorators. One function is measured again with the X-Ray "
            "SDK on. Run `make build-host` first (`make bench` does). Reports only: exits 0 unless it cannot run; "
            "the last line is one JSON object with every figure and ratio."
        ),
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=int(os.environ.get("BENCH_RUNS", "7")),
        help="cold starts per function; the median is reported (env BENCH_RUNS, default 7)",
    )
    parser.add_argument(
        "--warm-iterations",
        type=int,
        default=int(os.environ.get("BENCH_WARM_ITERS", "2000")),
        help="warm requests per function (env BENCH_WARM_ITERS, default 2000)",
    )
    parser.add_argument("--only", nargs="+", metavar="LOGICAL_ID", help="only these functions (and the floors)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold starts")
    parser.add_argument("--no-warm", action="store_true", help="skip the warm requests")
    parser.add_argument(
        "--no-rollup",
        action="store_true",
        help="skip the rollup and per-view counts (moto, in-process)",
    )
    parser.add_argument(
        "--importtime",
        type=int,
        default=0,
        metavar="N",
        help="also print the N packages with the most import time (-X importtime, self ms) per cold start",
    )
    parser.add_argument(
        "--full-site-packages",
        action="store_true",
        help=(
            "give the cold child this venv's whole site-packages as the runtime (default: only boto3 and the "
            "packages the Lambda runtime ships, so that dev-only awscrt/pyOpenSSL/certifi are not imported)"
        ),
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warm_iterations < 1:
        parser.error("--runs and --warm-iterations must be at least 1")
    return args


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for path in (ROOT / "layers" / "shared", ROOT):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    from devtools.bench.cold import BASE_ENV, ColdFailure, ColdRun, run_cold
    from devtools.bench.targets import ADMIN_PASSWORD, LAYER_DIR, TRACED_SUFFIX, Tokens, load_targets
    from devtools.bench.warm import WarmCase, WarmResult, prepare_warm, run_warm, silenced_log_lines, stubbed_aws

    if not args.no_cold and not LAYER_DIR.is_dir():
        print(f"No build at {LAYER_DIR.parent}: run `make build-host` first.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    targets, skipped = load_targets(args.only)
    environment = {**BASE_ENV}
    for target in targets:
        if not target.traced:  # the traced target sets its own on top, in its run only
            environment.update(target.environment)

    cold: dict[str, list[ColdRun]] = {}
    profiles: dict[str, dict[str, float]] = {}
    admin_hash = ""
    if not args.no_cold:
        try:
            results = run_cold(targets, args.runs, args.full_site_packages, args.importtime, log)
        except ColdFailure as failure:
            print(failure, file=sys.stderr)
            return 1
        cold, profiles, admin_hash = results.runs, results.profiles, results.admin_hash
        skipped += results.warnings

    warm: dict[str, WarmResult] = {}
    if not args.no_warm:
        if not admin_hash:
            from media_platform import passwords

            admin_hash = passwords.hash_password(ADMIN_PASSWORD)
        # stdout to /dev/null meanwhile: Powertools prints the cold-start metric there.
        with stubbed_aws(environment, admin_hash), open(os.devnull, "w") as devnull, redirect_stdout(devnull):
            tokens = Tokens.issue()
            cases: list[WarmCase] = []
            for target in targets:  # the traced target last: its Tracer patches botocore and http.client
                log(f"warm {target.name}: first requests")
                try:
                    cases.append(prepare_warm(target, tokens))
                except Exception as exc:
                    if target.is_floor:
                        raise
                    skipped.append(f"{target.name}: warm run failed: {type(exc).__name__}: {str(exc)[:200]}")
            warm, failed = run_warm(cases, args.warm_iterations, log)
            skipped += failed

    rollup = None
    if not args.no_rollup:
        from devtools.bench.rollup import run_rollup_bench

        log("rollup: items read per view of the day, at 1x and 16x history")
        with silenced_log_lines(), open(os.devnull, "w") as devnull, redirect_stdout(devnull):
            rollup = run_rollup_bench()

    per_view = None
    if not args.no_rollup:
        from devtools.bench.views import measure_views

        log("views: writes and bytes per view, analytics calls at two volumes")
        with silenced_log_lines(), open(os.devnull, "w") as devnull, redirect_stdout(devnull):
            per_view = measure_views()

    from devtools.bench.summary import summarise

    traced = next((t for t in targets if t.traced), None)
    summary = summarise(
        [t.name for t in targets],
        cold,
        warm,
        traced=(traced.name.removesuffix(TRACED_SUFFIX), traced.name) if traced else None,
        rollup=rollup,
        per_view=per_view,
        bench="make bench",
        date=datetime.now(UTC).date().isoformat(),
        python=platform.python_version(),
        machine=platform.machine(),
        cpus=os.cpu_count(),
        cold_runs=0 if args.no_cold else args.runs,
        warm_iterations=0 if args.no_warm else args.warm_iterations,
        elapsed_s=round(time.perf_counter() - started, 1),
    )
    print_report(args, summary, targets, skipped, profiles)
    print(json.dumps(summary, ensure_ascii=False), flush=True)  # the last line: every figure and ratio
    return 0


def print_report(args, summary, targets, skipped, profiles) -> None:  # type: ignore[no-untyped-def]
    """The table and its notes, from the summary that the JSON line carries too."""
    from devtools.bench.summary import TARGETS, xray_sentence

    def number(value: float | None, width: int, decimals: int = 0) -> str:
        return f"{'-':>{width}}" if value is None else f"{value:>{width}.{decimals}f}"

    def ratio(value: float | None) -> str:
        return f"{'-':>6}" if value is None else f"{value:>5.2f}x"

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("yes" if ok else "NO")

    cold_part = (
        "skipped"
        if args.no_cold
        else f"median of {args.runs} fresh `python -I` (init + first request, moto server), CPU ms (wall alongside)"
    )
    warm_part = (
        "skipped"
        if args.no_warm
        else (
            f"{args.warm_iterations} requests each, round-robin, in-process, AWS stubbed, CPU µs per request (wall µs "
            "alongside)"
        )
    )
    print(
        f"\nMedia Platform benchmark: {len(summary['functions'])} functions vs 2 floors | cold: {cold_part} | "
        f"warm: {warm_part} | targets: cold <= {TARGETS['cold_ratio']}x the floor, warm <= "
        f"{TARGETS['warm_median_ratio']}x (p50) and <= {TARGETS['warm_p99_ratio']}x (p99) the feature floor | "
        f"Python {summary['python']} {summary['machine']}, {summary['cpus']} CPUs\n"
    )
    header = (
        f"{'function':<24} {'init ms':>8} {'req ms':>8} {'cold ms':>8} {'ratio':>6} {'wall ms':>8}   "
        f"{'p50 µs':>7} {'ratio':>6} "
        f"{'p99 µs':>7} {'ratio':>6}   {'wall p50/p99':>13}   target met (cold / p50 / p99)"
    )
    print(header)
    print("-" * len(header))
    notes: list[str] = []
    rows = [*summary["floors"].items(), *summary["functions"].items()]
    for name, entry in rows:
        cold, warm = entry["cold"] or {}, entry["warm"] or {}
        row = f"{name:<24} {number(cold.get('init_ms'), 8, 1)} {number(cold.get('request_ms'), 8, 1)}"
        row += f" {number(cold.get('total_ms'), 8, 1)} {ratio(cold.get('ratio', 1.0 if cold else None))}"
        row += f" {number(cold.get('wall_total_ms'), 8, 1)}   "
        row += f"{number(warm.get('median_us'), 7)} {ratio(warm.get('median_ratio'))} "
        row += f"{number(warm.get('p99_us'), 7)} {ratio(warm.get('p99_ratio'))}   "
        wall = f"{warm['wall_median_us']:.0f}/{warm['wall_p99_us']:.0f}" if warm else "-"
        row += f"{wall:>13}   "
        if "met" in entry:
            row += " / ".join(verdict(ok) for ok in entry["met"].values())
            if "excl_bcrypt_ms" in cold or warm.get("bcrypt_stubbed"):
                row += "  (bcrypt-bound: judged excl. bcrypt)"
        elif name == "floor":
            row += "(floor)"
        else:
            row += "(feature floor: ratios against the floor)"
        print(row)
        if "excl_bcrypt_ms" in cold:
            notes.append(
                f"{name}: cold excl. bcrypt {cold['excl_bcrypt_ms']:.1f} ms = {cold['excl_bcrypt_ratio']:.2f}x "
                f"(bcrypt {cold['bcrypt_ms']:.0f} ms of the first request)"
            )
        if warm.get("bcrypt_stubbed"):
            notes.append(
                f"{name}: warm with real bcrypt {warm['real_bcrypt_ms']:.0f} ms/request; the warm columns have "
                "media_platform.passwords.hash_password/verify_password stubbed out"
            )
        statuses = {"cold": cold.get("statuses", []), "warm": [warm["status"]] if warm else []}
        wrong = {side: found for side, found in statuses.items() if any(not 200 <= (s or 0) < 400 for s in found)}
        if wrong:
            measured = ", ".join(f"{side} {'/'.join(str(s) for s in found)}" for side, found in statuses.items())
            notes.append(
                f"{name}: status {measured}: its ratio measures an error path (no valid request in events/, "
                "or data the seed and fakes lack)"
            )
    for target in targets:
        if not args.no_cold and not target.built:
            notes.append(
                f"{target.name}: not in .aws-sam/build (added since the last `make build-host`): no cold start"
            )
    media_rows = [t.name for t in targets if t.media_id and not t.traced and t.name in summary["functions"]]
    if media_rows:
        notes.append(
            f"{', '.join(media_rows)}: on the admin's seeded media (ready, or pending with a multipart upload for "
            "the upload functions), put back before every cold start and never changed by the warm fakes, so "
            "each request takes the first-time path (a DELETE deletes, an abort aborts, a complete completes)"
        )
    if "xray_sdk" in summary:
        notes.append(
            xray_sentence(summary["xray_sdk"]) + " (warm: the handler's subsegment only, as the fakes bypass "
            "botocore; cold: every AWS call a subsegment, sent to a daemon address nothing listens on)"
        )
    if summary.get("rollup"):
        from devtools.bench.rollup import rollup_sentence

        notes.append(rollup_sentence(summary["rollup"]))
    if summary.get("per_view"):
        from devtools.bench.views import per_view_sentence

        notes.append(per_view_sentence(summary["per_view"]))
    for line in [*notes, *skipped]:
        print(f"  * {line}")
    for name, profile in profiles.items():
        top = list(profile.items())[: args.importtime]
        print(f"\nimport time of {name} (self ms by top-level package, total {sum(profile.values()):.0f} ms):")
        print("  " + ", ".join(f"{package} {ms:.1f}" for package, ms in top))
    print(f"\n({summary['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())
