"""`make rollup [FROM=YYYY-MM-DD TO=YYYY-MM-DD]`: runs the real stats_rollup handler once against the running
`make dev` stack (its emulator, on --aws-port 5000 unless told otherwise). The handler sends the work items to the
rollup queue as on AWS; the dev stack's queue poller runs the worker on them. Without FROM and TO it rolls what the
schedule rolls (yesterday and the day before). Then waits until every day is marked rolled by this run."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from devtools.local_stack.stack import LOCAL_ENV
from devtools.local_stack.template import Function, Template

CODE_URI = "functions/stats_rollup"


def rollup_function(template: Template) -> Function:
    (function,) = [f for f in template.functions() if f.code_uri == CODE_URI]
    return function


def emulator_answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 (a local http URL we build)
    except urllib.error.HTTPError:
        return True  # moto answered, if only with an error
    except OSError:
        return False
    return True


def rolled_since(template: Template, days: list[str], started: str) -> set[str]:
    """The days whose rollup marker was written at or after `started` (ISO seconds, UTC)."""
    import boto3

    client: Any = boto3.client("dynamodb", region_name=LOCAL_ENV["AWS_REGION"])
    table = template.physical_name("DailyStatsTable")
    found = set()
    for day in days:
        item = client.get_item(TableName=table, Key={"pk": {"S": "ROLLUP"}, "sk": {"S": f"DAY#{day}"}}).get("Item")
        if item and item["rolled_at"]["S"] >= started:
            found.add(day)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make rollup", description=__doc__)
    parser.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="first day to roll (with --to)")
    parser.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="last day to roll (with --from)")
    parser.add_argument("--aws-port", type=int, default=5000, help="the dev stack's emulator port (make dev: 5000)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--wait", type=float, default=120, help="seconds to wait for the worker (0: do not wait)")
    args = parser.parse_args(argv)
    event = {k: v for k, v in (("from", args.first), ("to", args.last)) if v}

    aws_url = f"http://{args.host}:{args.aws_port}"
    if not emulator_answers(aws_url):
        print(f"No AWS emulator at {aws_url}: start `make dev` first (or pass AWS_PORT=...).", file=sys.stderr)
        return 2
    template = Template.load()
    function = rollup_function(template)
    os.environ.update({**LOCAL_ENV, **function.environment, "AWS_ENDPOINT_URL": aws_url})

    from devtools.local_stack.gateway import LoadedFunction
    from media_platform.errors import DomainError

    started = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        result = LoadedFunction.load(function).invoke(event)
    except DomainError as error:
        print(f"Refused: {error.detail}", file=sys.stderr)
        return 2
    print(json.dumps(result), flush=True)
    days: list[str] = result["days"]
    deadline = time.monotonic() + args.wait
    while args.wait and time.monotonic() < deadline:
        if rolled_since(template, days, started) == set(days):
            print(f"Rolled up: {', '.join(days)}", flush=True)
            return 0
        time.sleep(0.5)
    if args.wait:
        waiting = sorted(set(days) - rolled_since(template, days, started))
        print(f"Still not rolled up after {args.wait:.0f} s: {', '.join(waiting)} (is `make dev` running?)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
