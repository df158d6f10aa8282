"""What the benchmark measures: every function of template.yaml that serves an HTTP API route, plus the two floors,
the stream function again with a stream token, and one function again with the X-Ray SDK on, each with the API
Gateway HTTP API (v2) event of its route."""

from __future__ import annotations

import copy
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt

from devtools.local_stack.template import Function, Route, Template

if TYPE_CHECKING:
    from media_platform.models import Media

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / ".aws-sam" / "build"
LAYER_DIR = BUILD_DIR / "SharedLayer" / "python"
EVENTS_DIR = ROOT / "events"
FLOOR = "floor"
FLOOR_ROUTE = Route("GET", "/floor")
FEATURE_FLOOR = "feature_floor"
FEATURE_FLOOR_ROUTE = Route("GET", "/feature-floor")
FEATURE_FLOOR_ENV = {"FEATURE_FLOOR_SIGNING_KEY": "f" * 64, "FEATURE_FLOOR_ISSUER": "media-platform-bench"}
# The function measured a second time, cold and warm, with the Powertools Tracer on (what TracerDisabled=false costs).
TRACED_FUNCTION = "MediaGetFunction"
TRACED_SUFFIX = " +X-Ray SDK"
TRACED_ENV = {"POWERTOOLS_TRACE_DISABLED": "false"}
# Lambda sets this for every invocation under active tracing (Powertools' Logger reads it for each log line, and the
# X-Ray SDK makes its facade segment from it): every run gets it.
TRACE_HEADER_ENV = {"_X_AMZN_TRACE_ID": "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1"}
# The stream function is measured twice: as players call it, with the stream URL's token (one DynamoDB read, the
# media item's), and with an access token as Bearer (which adds the user read every signed-in route makes).
STREAM_FUNCTION = "MediaStreamFunction"
STREAM_TOKEN_SUFFIX = " (stream token)"

# The data both the emulator (cold) and the in-memory fakes (warm) hold: an admin whose email and password are the
# ones in events/, and a viewer whose id is the one in events/users_update.json (any path parameter gets it).
ADMIN_ID = "5f0c6a52-2a64-4d2e-9a53-0d1f6f2b7a01"
ADMIN_EMAIL = "ada@example.com"
ADMIN_PASSWORD = "correct horse battery"
TARGET_ID = "0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11"
TARGET_EMAIL = "grace@example.com"
CREATED_AT = "2026-01-01T00:00:00+00:00"

# Media assets, all owned by the admin. MEDIA_ID is the id in events/media_*.json: a `ready` asset with an object at
# its key (MediaGet, MediaUpdate, MediaDelete). Completing and aborting need a multipart upload in progress, each its
# own (an abort fails the asset, after which a complete answers 409): their events' path is pointed at these.
MEDIA_ID = "3f6c1a52-8d0e-4b7a-9c21-5e4f7a9b0d13"
COMPLETE_MEDIA_ID = "7d2e9b04-1c3a-4f5e-8b6d-0a9c8e7f6d21"
ABORT_MEDIA_ID = "a41c7e36-5b2d-4e8f-9a07-6c3b1d2e4f52"
PENDING_MEDIA = {
    "UploadCompleteFunction": COMPLETE_MEDIA_ID,
    "UploadAbortFunction": ABORT_MEDIA_ID,
    # Reading the state and signing parts change neither asset's state: they share the upload UploadComplete
    # completes (reset before every cold start, and never changed by the warm fakes).
    "UploadStatusFunction": COMPLETE_MEDIA_ID,
    "UploadPartsFunction": COMPLETE_MEDIA_ID,
}
MEDIA_IDS = (MEDIA_ID, COMPLETE_MEDIA_ID, ABORT_MEDIA_ID)
MEDIA_OBJECT = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"  # the ready asset's object: an MP4 header
# The parts uploaded to COMPLETE_MEDIA_ID's multipart upload (every part but the last at least 5 MiB), and the body
# of UploadComplete rewritten to name them, so that S3 completes the upload.
UPLOAD_PARTS = (b"\x00" * 5 * 1024**2, b"bench")
PENDING_EXPIRES_AT = 4102444800  # 2100-01-01: no expiry sweep ever takes these
PENDING_CREATED_AT = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Tokens:
    """The admin's access token and a stream token for MEDIA_ID, both signed with the key of the run."""

    access: str
    stream: str

    @classmethod
    def issue(cls) -> Tokens:
        """Signed with the key `media_platform.tokens` reads now (call where the run's secret is in place)."""
        from media_platform import tokens
        from media_platform.models import Role

        access = tokens.issue(tokens.TokenKind.ACCESS, ADMIN_ID, Role.ADMIN, ttl_seconds=3600)
        stream, _ = tokens.issue_stream_token(ADMIN_ID, MEDIA_ID, ttl_seconds=3600)
        return cls(access, stream)


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
    media_id: str | None = None  # the seeded asset its path points at
    own_token: str | None = None  # the feature floor's: signed with its own key, sent instead of the admin's
    traced: bool = False  # run with the Powertools Tracer on (and, cold, LAMBDA_TASK_ROOT set as in Lambda)
    stream_token: bool = False  # sends `Tokens.stream` in `?token=` instead of the access token as Bearer

    @property
    def built(self) -> bool:
        """Whether the handler module is in the build (a function added since the last `make build-host` is not)."""
        relative = Path(*self.cold_module.split(".")).with_suffix(".py")
        return (self.cold_path[0] / relative).is_file()

    @property
    def is_floor(self) -> bool:
        """The minimal floor or the feature floor: the run stops if either cannot be measured."""
        return self.name in (FLOOR, FEATURE_FLOOR)

    def event(self, tokens: Tokens | None, run: int = 0) -> dict[str, Any]:
        """The event for one request; `run` varies what must differ between requests to take the same path."""
        event = copy.deepcopy(self.base_event)
        token = self.own_token or (tokens.access if tokens else None)
        if self.stream_token and tokens:  # the stream URL is all a player has: no Authorization header
            event["headers"].pop("authorization", None)
            event["rawQueryString"] = f"token={tokens.stream}"
            event["queryStringParameters"] = {"token": tokens.stream}
        elif self.wants_token and token:
            event["headers"]["authorization"] = f"Bearer {token}"
        body = json.loads(event["body"]) if event.get("body") else None
        if isinstance(body, dict):
            if event["rawPath"].endswith("/signup") and "email" in body:  # a fresh account each time: 201, not 409
                body["email"] = f"bench-{run}-{uuid.uuid4().hex[:8]}@example.com"
            if "role" in body:  # alternate, so every request really changes the role
                body["role"] = "editor" if run % 2 == 0 else "viewer"
            event["body"] = json.dumps(body)
        return event


def path_value(name: str, logical_id: str) -> str:
    """The value of a path parameter: the function's seeded media asset for `media_id`, else TARGET_ID."""
    return PENDING_MEDIA.get(logical_id, MEDIA_ID) if name == "media_id" else TARGET_ID


def etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'  # noqa: S324 (S3's ETag of a part)


def media_asset(media_id: str, upload_id: str | None = None) -> Media:
    """A seeded asset: MEDIA_ID `ready`, any other `pending_upload` with the multipart upload `upload_id`, made in
    this run's first minute (S3 keeps a multipart upload a day: older, signing parts is a 409)."""
    from media_platform.models import Media, MediaStatus

    created = datetime.fromisoformat(CREATED_AT) if media_id == MEDIA_ID else PENDING_CREATED_AT
    common: dict[str, Any] = {
        "id": media_id,
        "filename": "keynote.mp4",
        "content_type": "video/mp4",
        "owner_id": ADMIN_ID,
        "object_key": f"uploads/{media_id}",
        "created_at": created,
        "updated_at": created,
    }
    if media_id == MEDIA_ID:
        return Media(
            **common,
            title="Launch keynote",
            description="The full talk.",
            size_bytes=len(MEDIA_OBJECT),
            status=MediaStatus.READY,
            upload_expires_at=int(created.timestamp()) + 900,
            detected_type="mp4",
            etag=etag(MEDIA_OBJECT).strip('"'),
            version_id="bench-version",  # the version FakeS3 lists; the stream function presigns a GET of it
        )
    return Media(
        **common,
        title="Launch keynote (4K)",
        size_bytes=sum(len(part) for part in UPLOAD_PARTS),
        status=MediaStatus.PENDING_UPLOAD,
        upload_expires_at=PENDING_EXPIRES_AT,
        upload_id=upload_id,
    )


def minimal_event(route: Route, logical_id: str = "") -> dict[str, Any]:
    """A minimal HTTP API v2 event for a route, path parameters filled with `path_value`."""
    params = {name: path_value(name, logical_id) for name in route.pattern().groupindex}
    path = route.path
    for name, value in params.items():
        path = path.replace(f"{{{name}+}}", value).replace(f"{{{name}}}", value)
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
    """events/<folder>.json when present (path parameters pointed at `path_value`), else a minimal event; and
    whether the request should carry an access token. Completing an upload names the parts of UPLOAD_PARTS."""
    file = EVENTS_DIR / f"{Path(function.code_uri).name}.json"
    if not file.exists():
        return minimal_event(function.routes[0], function.logical_id), True
    event: dict[str, Any] = json.loads(file.read_text())
    for name, value in (event.get("pathParameters") or {}).items():
        new = path_value(name, function.logical_id)
        event["pathParameters"][name] = new
        event["rawPath"] = event["rawPath"].replace(value, new)
        event["requestContext"]["http"]["path"] = event["requestContext"]["http"]["path"].replace(value, new)
    body = json.loads(event["body"]) if event.get("body") else None
    if function.logical_id == "UploadCompleteFunction" and isinstance(body, dict) and "parts" in body:
        body["parts"] = [{"part_number": n, "etag": etag(part)} for n, part in enumerate(UPLOAD_PARTS, 1)]
        event["body"] = json.dumps(body)
    if function.logical_id == "UploadPartsFunction" and isinstance(body, dict) and "part_numbers" in body:
        body["part_numbers"] = list(range(1, len(UPLOAD_PARTS) + 1))  # the seeded upload has this many parts
        event["body"] = json.dumps(body)
    if "token=" in event.get("rawQueryString", ""):
        # Measured with a Bearer access token here; STREAM_FUNCTION's second target sends the stream token instead.
        event["rawQueryString"], event["queryStringParameters"] = "", None
        event["headers"]["authorization"] = "Bearer REPLACE_WITH_ACCESS_TOKEN"
    return event, "authorization" in event.get("headers", {})


def feature_floor_token(now: float | None = None) -> str:
    """An access token as `media_platform.tokens.issue` makes one (every claim it requires), for the feature floor's
    key and issuer; valid for a day, longer than any run."""
    issued_at = round(time.time() if now is None else now, 3)
    claims = {
        "sub": ADMIN_ID,
        "role": "admin",
        "iat": issued_at,
        "exp": int(issued_at) + 86400,
        "iss": FEATURE_FLOOR_ENV["FEATURE_FLOOR_ISSUER"],
        "aud": "media-platform-api",
        "token_use": "access",
    }
    return jwt.encode(claims, FEATURE_FLOOR_ENV["FEATURE_FLOOR_SIGNING_KEY"], algorithm="HS256")


def load_targets(only: list[str] | None = None) -> tuple[list[Target], list[str]]:
    """The floor and the feature floor first, then every function with an HttpApi route (the others are listed as
    skipped), then TRACED_FUNCTION again with the tracer on."""
    floor_dir = Path(__file__).resolve().parent
    functions = Template.load().functions()
    powertools_env = {k: v for k, v in functions[0].environment.items() if k.startswith("POWERTOOLS_")}
    targets = [
        Target(
            FLOOR,
            [floor_dir, LAYER_DIR],
            "floor_app",
            "devtools.bench.floor_app",
            "lambda_handler",
            minimal_event(FLOOR_ROUTE),
            wants_token=False,
            environment={},
        ),
        Target(
            FEATURE_FLOOR,
            [floor_dir, LAYER_DIR],
            "feature_floor_app",
            "devtools.bench.feature_floor_app",
            "lambda_handler",
            minimal_event(FEATURE_FLOOR_ROUTE),
            wants_token=True,
            environment={**powertools_env, **FEATURE_FLOOR_ENV},
            own_token=feature_floor_token(),
        ),
    ]
    skipped = []
    for function in functions:
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
                media_id=(event.get("pathParameters") or {}).get("media_id"),
            )
        )
    streamed = next((t for t in targets if t.name == STREAM_FUNCTION), None)
    if streamed:
        targets.append(replace(streamed, name=streamed.name + STREAM_TOKEN_SUFFIX, stream_token=True))
    traced = next((t for t in targets if t.name == TRACED_FUNCTION), None)
    if traced:
        environment = {**traced.environment, **TRACED_ENV}
        targets.append(replace(traced, name=traced.name + TRACED_SUFFIX, environment=environment, traced=True))
    return targets, skipped
