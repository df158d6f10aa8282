"""`make dev`: the whole API on http://127.0.0.1:3000 over an embedded AWS emulator; Ctrl-C stops it."""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path

from devtools.local_stack.stack import LocalStack
from devtools.local_stack.template import ROOT


def write_sam_env(stack: LocalStack) -> Path:
    """An env-vars file for `sam local start-api` / `invoke` that points every function at this emulator."""
    variables = {"AWS_ENDPOINT_URL": stack.aws_url, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    document = {f.logical_id: {**f.environment, **variables} for f in stack.template.functions()}
    path = ROOT / ".aws-sam" / "local-env.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--aws-port", type=int, default=5000)
    parser.add_argument(
        "--schedule-every",
        type=float,
        default=60,
        help="seconds between runs of rate() schedules (0: no schedule runs); daily cron() ones run at their UTC time",
    )
    parser.add_argument("--verbose", action="store_true", help="also log every emulator request (make dev VERBOSE=1)")
    args = parser.parse_args()
    stack = LocalStack(
        args.host,
        args.port,
        args.aws_port,
        schedule_every=args.schedule_every,
        access_log=lambda line: print(line, flush=True),
        verbose=args.verbose,
    ).start()
    assert stack.gateway is not None
    routes = sorted(f"{r.key:<34} -> {f.spec.logical_id}" for r, f in stack.gateway.routes)
    print(f"Media Platform API  {stack.api_url}", flush=True)
    print(f"Swagger UI          {stack.api_url}/docs", flush=True)
    print(f"OpenAPI             {stack.api_url}/openapi.json", flush=True)
    print(f"AWS emulator (moto) {stack.aws_url}  (AWS_ENDPOINT_URL for the AWS CLI or boto3)", flush=True)
    if stack.gateway.cors:
        print(f"CORS origins        {', '.join(stack.gateway.cors.allow_origins)}  (API and bucket)", flush=True)
    print("Routes from template.yaml:\n  " + "\n  ".join(routes), flush=True)
    print("Event sources:\n  " + "\n  ".join(stack.triggers()), flush=True)
    env_file = write_sam_env(stack)
    print(f"sam local env-vars  {env_file}  (sam local start-api --env-vars ... --docker-network host)", flush=True)
    print("Ctrl-C stops.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
