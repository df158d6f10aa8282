"""What the benchmark measures: every function of template.yaml that serves an HTTP API route, plus the floor,
each with the API Gateway HTTP API (v2) event of its route."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.local_stack.template import Function, Route, Template

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / ".aws-sam" / "build"
LAYER_DIR = BUILD_DIR / "SharedLayer" / "python"
EVENTS_DIR = ROOT / "events"
FLOOR = "floor"
FLOOR_ROUTE = Route("GET", "/floor")

# The data both the emulator (cold) and the in-memory fakes (warm) hold: an admin whose email and password are the
# ones in events/, and a viewer whose id is the one in events/users_update.json (any path parameter gets it).
ADMIN_ID = "5f0c6a52-2a64-4d2e-9a53-0d1f6f2b7a01"
ADMIN_EMAIL = "ada@example.com"
ADMIN_PASSWORD = "correct horse battery"
TARGET_ID = "0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11"
TARGET_EMAIL = "grace@example.com"
CREATED_AT = "2026-01-01T00:00:00+00:00"


@dataclass
class Target:
    name: str
    cold_path: list[Path]  # before the runtime's boto3: the task directory and the layer
    cold_module: str  # the handler module as Lambda imports it
    warm_module: str  # the same code as this process imports it
    attribute: str
    base_event: dict[str, Any]
    wants_token: bool
    environment: dict[str, str]

    @property
    def built(self) -> bool:
        """Whether the handler module is in the build (a function added since the last `make build-host` is not)."""
        relative = Path(*self.cold_module.split(".")).with_suffix(".py")
        return (self.cold_path[0] / relative).is_file()

    @property
    def is_floor(self) -> bool:
        return self.name == FLOOR

    def event(self, token: str | None, run: int = 0) -> dict[str, Any]:
        """The event for one request; `run` varies what must differ between requests to take the same path."""
        event = copy.deepcopy(self.base_event)
        if self.wants_token and token:
            event["headers"]["authorization"] = f"Bearer {token}"
        body = json.loads(event["body"]) if event.get("body") else None
        if isinstance(body, dict):
            if event["rawPath"].endswith("/signup") and "email" in body:  # a fresh account each time: 201, not 409
                body["email"] = f"bench-{run}-{uuid.uuid4().hex[:8]}@example.com"
            if "role" in body:  # alternate, so every request really changes the role
                body["role"] = "editor" if run % 2 == 0 else "viewer"
            event["body"] = json.dumps(body)
        return event


def minimal_event(route: Route) -> dict[str, Any]:
    """A minimal HTTP API v2 event for a route, path parameters filled with TARGET_ID."""
    params = {name: TARGET_ID for name in route.pattern().groupindex}
    path = route.path
    for name in params:
        path = path.replace(f"{{{name}+}}", TARGET_ID).replace(f"{{{name}}}", TARGET_ID)
    return {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "localhost"},
        "queryStringParameters": None,
        "pathParameters": params or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {"method": route.method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10"},
            "requestId": "bench-request",
            "routeKey": route.key,
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "body": None if route.method in ("GET", "DELETE") else "{}",
        "isBase64Encoded": False,
    }


def function_event(function: Function) -> tuple[dict[str, Any], bool]:
    """events/<folder>.json when present (path parameters pointed at TARGET_ID), else a minimal event; and whether
    the request should carry an access token."""
    file = EVENTS_DIR / f"{Path(function.code_uri).name}.json"
    if not file.exists():
        return minimal_event(function.routes[0]), True
    event: dict[str, Any] = json.loads(file.read_text())
    for name, value in (event.get("pathParameters") or {}).items():
        event["pathParameters"][name] = TARGET_ID
        event["rawPath"] = event["rawPath"].replace(value, TARGET_ID)
        event["requestContext"]["http"]["path"] = event["requestContext"]["http"]["path"].replace(value, TARGET_ID)
    return event, "authorization" in event.get("headers", {})


def load_targets(only: list[str] | None = None) -> tuple[list[Target], list[str]]:
    """The floor first, then every function with an HttpApi route (the others are listed as skipped)."""
    floor_dir = Path(__file__).resolve().parent
    targets = [
        Target(
            FLOOR,
            [floor_dir, LAYER_DIR],
            "floor_app",
            "tests.bench.floor_app",
            "lambda_handler",
            minimal_event(FLOOR_ROUTE),
            wants_token=False,
            environment={},
        )
    ]
    skipped = []
    for function in Template.load().functions():
        if only and function.logical_id not in only:
            continue
        if not function.routes:
            skipped.append(f"{function.logical_id}: skipped, no HttpApi route")
            continue
        event, wants_token = function_event(function)
        module, attribute = function.handler.rsplit(".", 1)
        targets.append(
            Target(
                name=function.logical_id,
                cold_path=[BUILD_DIR / function.logical_id, LAYER_DIR],
                cold_module=module,
                warm_module=function.module,
                attribute=attribute,
                base_event=event,
                wants_token=wants_token,
                environment=dict(function.environment),
            )
        )
    return targets, skipped
