"""python -m devtools.bench: cold init and warm per-request overhead of every function, against the floor."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_RATIO = 1.2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.bench",
        description=(
            "Cold init (a fresh `python -I` importing the built handler from .aws-sam/build and serving one request "
            "against a local moto server) and warm per-request overhead (in-process, AWS stubbed) of every function "
            "in template.yaml, each as a ratio against a floor measured in the same run: FastAPI + Mangum "
            "(lifespan off) with one async route and a DynamoDB and an S3 client. Run `make build-host` first "
            "(`make bench` does). Reports only: exits 0 unless it cannot run."
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
    parser.add_argument("--only", nargs="+", metavar="LOGICAL_ID", help="only these functions (and the floor)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold starts")
    parser.add_argument("--no-warm", action="store_true", help="skip the warm requests")
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
    from devtools.bench.targets import ADMIN_PASSWORD, LAYER_DIR, load_targets
    from devtools.bench.warm import WarmResult, access_token, run_warm, stubbed_aws

    if not args.no_cold and not LAYER_DIR.is_dir():
        print(f"No build at {LAYER_DIR.parent}: run `make build-host` first.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    targets, skipped = load_targets(args.only)
    environment = {**BASE_ENV}
    for target in targets:
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
            token = access_token()
            for target in targets:
                log(f"warm {target.name}")
                try:
                    warm[target.name] = run_warm(target, token, args.warm_iterations)
                except Exception as exc:
                    if target.is_floor:
                        raise
                    skipped.append(f"{target.name}: warm run failed: {type(exc).__name__}: {str(exc)[:200]}")

    print_report(args, targets, skipped, cold, warm, profiles, time.perf_counter() - started)
    return 0


def print_report(args, targets, skipped, cold, warm, profiles, elapsed) -> None:  # type: ignore[no-untyped-def]
    def median(name: str, field: str) -> float:
        return float(statistics.median(getattr(run, field) for run in cold[name]))

    def ratio(value: float, floor: float) -> str:
        return f"{value / floor:.2f}x"

    def verdict(value: float | None, statuses: set[int | None]) -> str:
        wrong = sorted(str(s) for s in statuses if not 200 <= (s or 0) < 400)
        if wrong:
            return f"n/a ({'/'.join(wrong)})"
        return "-" if value is None else ("yes" if value <= TARGET_RATIO else "NO")

    cold_part = (
        "skipped" if args.no_cold else f"median of {args.runs} fresh `python -I` (init + first request, moto server)"
    )
    warm_part = "skipped" if args.no_warm else f"{args.warm_iterations} requests in-process, AWS stubbed"
    print(
        f"\nMedia Platform benchmark: {len(targets) - 1} functions vs floor | cold: {cold_part} | warm: {warm_part} | "
        f"target <= {TARGET_RATIO}x | Python {platform.python_version()} {platform.machine()}, {os.cpu_count()} CPUs\n"
    )
    header = (
        f"{'function':<22} {'init ms':>8} {'req ms':>8} {'cold ms':>8} {'floor ms':>9} {'ratio':>6}   "
        f"{'warm µs':>8} {'floor µs':>9} {'ratio':>6}   target met (cold / warm)"
    )
    print(header)
    print("-" * len(header))
    floor = targets[0].name
    notes: list[str] = []
    for target in targets:
        name, row = target.name, f"{target.name:<22}"
        cold_ratio = warm_ratio = None
        cold_statuses: set[int | None] = set()
        warm_statuses: set[int | None] = set()
        bcrypt_bound = False
        if cold.get(name):
            total, floor_total = median(name, "total_ms"), median(floor, "total_ms")
            row += f" {median(name, 'init_ms'):>8.1f} {median(name, 'request_ms'):>8.1f} {total:>8.1f}"
            row += f" {floor_total:>9.1f} {ratio(total, floor_total):>6}   "
            cold_ratio = total / floor_total
            bcrypt_ms = median(name, "bcrypt_ms")
            if bcrypt_ms > 1:
                bcrypt_bound = True
                excl = statistics.median(run.total_ms - run.bcrypt_ms for run in cold[name])
                cold_ratio = excl / floor_total
                notes.append(
                    f"{name}: cold excl. bcrypt {excl:.1f} ms = {ratio(excl, floor_total)} "
                    f"(bcrypt {bcrypt_ms:.0f} ms of the first request)"
                )
            cold_statuses = {run.status for run in cold[name]}
        else:
            row += f" {'-':>8} {'-':>8} {'-':>8} {'-':>9} {'-':>6}   "
            if cold and not target.built:
                notes.append(f"{name}: not in .aws-sam/build (added since the last `make build-host`): no cold start")
        if name in warm:
            result, floor_us = warm[name], warm[floor].per_request_us
            row += f"{result.per_request_us:>8.0f} {floor_us:>9.0f} {ratio(result.per_request_us, floor_us):>6}   "
            warm_ratio = result.per_request_us / floor_us
            if result.bcrypt_bound:
                bcrypt_bound = True
                notes.append(
                    f"{name}: warm with real bcrypt {result.real_bcrypt_ms:.0f} ms/request; the warm µs column has "
                    "media_platform.passwords.hash_password/verify_password stubbed out"
                )
            warm_statuses = {result.status}
        else:
            row += f"{'-':>8} {'-':>9} {'-':>6}   "
        if target.name != floor:
            row += f"{verdict(cold_ratio, cold_statuses)} / {verdict(warm_ratio, warm_statuses)}"
            row += "  (bcrypt-bound: judged excl. bcrypt)" if bcrypt_bound else ""
            if any(not 200 <= (s or 0) < 400 for s in cold_statuses | warm_statuses):
                measured = ", ".join(
                    f"{side} {'/'.join(sorted(str(s) for s in statuses))}"
                    for side, statuses in (("cold", cold_statuses), ("warm", warm_statuses))
                    if statuses
                )
                notes.append(
                    f"{name}: status {measured}: its ratio measures an error path (no valid request in events/, "
                    "or data the seed and fakes lack)"
                )
        print(row)
    media_rows = [t.name for t in targets if t.media_id and (cold.get(t.name) or t.name in warm)]
    if media_rows:
        notes.append(
            f"{', '.join(media_rows)}: on the admin's seeded media (ready, or pending with a multipart upload for "
            "UploadComplete/UploadAbort), put back before every cold start and never changed by the warm fakes, so "
            "each request takes the first-time path (a DELETE deletes, an abort aborts, a complete completes)"
        )
    for line in [*notes, *skipped]:
        print(f"  * {line}")
    for name, profile in profiles.items():
        top = list(profile.items())[: args.importtime]
        print(f"\nimport time of {name} (self ms by top-level package, total {sum(profile.values()):.0f} ms):")
        print("  " + ", ".join(f"{package} {ms:.1f}" for package, ms in top))
    print(f"\n({elapsed:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())
