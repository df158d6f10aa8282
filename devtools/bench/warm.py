"""Warm requests in this process, AWS stubbed: the handler called many times with its event, DynamoDB, S3 and
Secrets Manager replaced by in-memory fakes through `media_platform.clients.override`, each request timed on its own
so that the median and the 99th percentile can be reported. The figures judged are the process's CPU time per
request: on a shared 2-core machine wall time also counts the other tenants' time slices (reported alongside)."""

from __future__ import annotations

import gc
import importlib
import logging
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from devtools.bench.environment import function_environment
from devtools.bench.targets import (
    ADMIN_EMAIL,
    ADMIN_ID,
    CREATED_AT,
    MEDIA_ID,
    MEDIA_IDS,
    TARGET_EMAIL,
    TARGET_ID,
    TRACE_HEADER_ENV,
    TRACED_ENV,
    UPLOAD_PARTS,
    Target,
    Tokens,
    etag,
    media_asset,
)
from devtools.local_stack.environ import restored
from devtools.local_stack.gateway import LambdaContext

SIGNING_KEY = "k" * 64
ROUNDS = 10
REAL_BCRYPT_REQUESTS = 3
STAND_IN_HASH = "$2b$12$" + "x" * 53
FAKE_UPLOAD_ID = "bench-upload-id"


class FakeDynamoDB:
    """The users table's items and the media table's assets (MEDIA_IDS, items as `media_platform.dal.media` writes
    them) in dicts that never change, so every request takes the same path (a signup always succeeds, a role change
    always changes the role, a DELETE always deletes a ready asset, an abort always aborts a pending upload); every
    other table is empty."""

    def __init__(self, admin_hash: str) -> None:
        from media_platform.dal.media import _to_item

        self.users_table = os.environ.get("USERS_TABLE", "")
        self.media_table = os.environ.get("MEDIA_TABLE", "")
        self.media = {media_id: _to_item(media_asset(media_id, FAKE_UPLOAD_ID)) for media_id in MEDIA_IDS}

        def user(user_id: str, email: str, role: str, password_hash: str) -> dict[str, Any]:
            return {
                "pk": {"S": f"USER#{user_id}"},
                "kind": {"S": "user"},
                "id": {"S": user_id},
                "email": {"S": email},
                "role": {"S": role},
                "password_hash": {"S": password_hash},
                "created_at": {"S": CREATED_AT},
            }

        admin = user(ADMIN_ID, ADMIN_EMAIL, "admin", admin_hash)
        viewer = user(TARGET_ID, TARGET_EMAIL, "viewer", STAND_IN_HASH)
        self.items: dict[str, dict[str, Any]] = {
            "ADMINS": {"pk": {"S": "ADMINS"}, "admin_count": {"N": "1"}},
            f"USER#{ADMIN_ID}": admin,
            f"USER#{TARGET_ID}": viewer,
            f"EMAIL#{ADMIN_EMAIL}": {"pk": {"S": f"EMAIL#{ADMIN_EMAIL}"}, "user_id": {"S": ADMIN_ID}},
            f"EMAIL#{TARGET_EMAIL}": {"pk": {"S": f"EMAIL#{TARGET_EMAIL}"}, "user_id": {"S": TARGET_ID}},
        }
        self.users = [admin, viewer]
        self.daily_stats_table = os.environ.get("DAILY_STATS_TABLE", "")
        # Indexed once by partition and by day, so that a query costs the fake a lookup, not a scan: the fakes'
        # own work is counted in every request's time.
        self.daily_stats: dict[str, list[dict[str, Any]]] = {}
        for stats in _rolled_up_month():
            for key in {stats["pk"]["S"], stats.get("day", {}).get("S")} - {None}:
                self.daily_stats.setdefault(key, []).append(stats)
        self.media_by_status: dict[str | None, list[dict[str, Any]]] = {None: list(self.media.values())}
        for item in self.media.values():
            self.media_by_status.setdefault(item["status"]["S"], []).append(item)

    def get_item(self, *, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:
        item = None
        if TableName == self.users_table and "pk" in Key:
            item = self.items.get(Key["pk"]["S"])
        elif TableName == self.media_table and "media_id" in Key:
            item = self.media.get(Key["media_id"]["S"])
        return {"Item": item} if item else {}

    def query(self, *, TableName: str, Limit: int = 100, **kwargs: Any) -> dict[str, Any]:
        found = []
        if TableName == self.users_table:
            found = self.users[:Limit]
        elif TableName == self.media_table:  # the key condition's status, if any; filters are not applied
            status = kwargs.get("ExpressionAttributeValues", {}).get(":status")
            found = self.media_by_status.get(status["S"] if status else None, [])[:Limit]
        elif TableName == self.daily_stats_table:  # by partition (or day, on StatsByDay); ranges are not applied
            values = kwargs.get("ExpressionAttributeValues", {})
            found = self.daily_stats.get(values[":day"]["S"] if ":day" in values else values[":pk"]["S"], [])
        return {"Items": found, "Count": len(found)}

    def transact_write_items(self, **_: Any) -> dict[str, Any]:
        return {}

    def put_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def delete_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def update_item(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {"failures": {"N": "1"}}}

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        """Any other call succeeds with an empty answer (reported statuses show when that was not enough)."""
        return _empty


def _rolled_up_month() -> list[dict[str, Any]]:
    """The daily statistics of the analytics events' range (January 2026), every day rolled up: MEDIA_ID viewed 100
    times a day by 50 viewers (a sketch of them), so the analytics functions merge 30 real sketches."""
    from media_platform.sketches import sketch_of

    items: list[dict[str, Any]] = []
    for day in range(1, 31):
        date = f"2026-01-{day:02d}"
        sketch = sketch_of(f"viewer-{day}-{n}" for n in range(50))
        items.append({"pk": {"S": "ROLLUP"}, "sk": {"S": f"DAY#{date}"}, "rolled_at": {"S": CREATED_AT}})
        items.append(
            {
                "pk": {"S": f"MEDIA#{MEDIA_ID}"},
                "sk": {"S": f"DAY#{date}"},
                "day": {"S": date},
                "media_id": {"S": MEDIA_ID},
                "owner_id": {"S": ADMIN_ID},
                "views": {"N": "100"},
                "unique_viewers": {"N": "50"},
                "sketch": {"B": sketch},
            }
        )
    return items


class FakeSecrets:
    def get(self, name: str, max_age: int = 0) -> str:
        return SIGNING_KEY


class FakeS3:
    """Presigning is local work, so a real client (dummy credentials, never sending) does it; any call that would
    reach S3 (delete_object, abort_multipart_upload, complete_multipart_upload, ...) succeeds with an empty
    answer."""

    def __init__(self) -> None:
        import boto3
        from botocore.config import Config

        config = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
        self._signer = boto3.client("s3", region_name="us-east-1", config=config)
        self.generate_presigned_url = self._signer.generate_presigned_url
        self.generate_presigned_post = self._signer.generate_presigned_post
        self.meta = self._signer.meta  # the region media_platform.clients.S3Presigner signs for

    def get_paginator(self, name: str) -> Any:
        return FakePartListing() if name == "list_parts" else FakeVersionListing()

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        return _empty


class FakeVersionListing:
    """list_object_versions: the one version the seeded object has (deleting it goes to the empty delete_objects)."""

    def paginate(self, *, Bucket: str, Prefix: str) -> list[dict[str, Any]]:
        return [{"Versions": [{"Key": Prefix, "VersionId": "bench-version", "IsLatest": True}]}]


class FakePartListing:
    """list_parts: the parts of UPLOAD_PARTS, as S3 holds them once uploaded (their ETags hashed once, not on every
    request: hashing 5 MiB is the fakes' work, not the function's)."""

    parts: ClassVar[list[dict[str, Any]] | None] = None

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        if FakePartListing.parts is None:
            FakePartListing.parts = [
                {"PartNumber": n, "Size": len(part), "ETag": etag(part)} for n, part in enumerate(UPLOAD_PARTS, 1)
            ]
        return [{"Parts": FakePartListing.parts}]


def _empty(*_: Any, **__: Any) -> dict[str, Any]:
    return {}


@dataclass
class WarmResult:
    """Per-request CPU time of this process (what the request costs, whoever else shares the machine), and wall time
    for reference: on a shared machine its tail is other processes' time slices."""

    median_us: float
    p99_us: float
    status: int | None
    bcrypt_bound: bool = False
    real_bcrypt_ms: float = 0.0  # per request, bcrypt included, when bcrypt_bound
    wall_median_us: float = 0.0
    wall_p99_us: float = 0.0


@contextmanager
def stubbed_aws(environment: dict[str, str], admin_hash: str) -> Iterator[None]:
    """The functions' environment, the fakes, and log lines sent to /dev/null (still formatted, as in Lambda)."""
    from media_platform import clients

    with function_environment({**environment, **TRACE_HEADER_ENV}), silenced_log_lines():
        clients.override("dynamodb", FakeDynamoDB(admin_hash))
        clients.override("s3", FakeS3())
        clients.override("secrets", FakeSecrets())
        yield


@contextmanager
def silenced_log_lines() -> Iterator[None]:
    """The layer's log lines written to /dev/null (still formatted, as in Lambda). Its handler holds the stdout it
    was made with, so redirect_stdout alone does not reach it: enter this first, so that the logger is made with
    the real stdout and gets it back."""
    from media_platform.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    with open(os.devnull, "w") as devnull:
        previous = handler.setStream(devnull)
        try:
            yield
        finally:
            handler.setStream(previous or sys.stdout)


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest sample at or above `fraction` of them."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _traced(handler: Callable[..., Any], target: Target) -> Callable[..., Any]:
    """The handler inside a Powertools Tracer that traces, as `media_platform.observability` builds it when tracing is
    on. LAMBDA_TASK_ROOT is set while the Tracer is built so that the X-Ray SDK, imported then, takes its Lambda
    context (it decides on import: the SDK must not have been imported before). The SDK stays patched into botocore
    and http.client afterwards, which the fakes and presigning never reach."""
    if "aws_xray_sdk.core" in sys.modules:
        raise RuntimeError("the X-Ray SDK was imported before the traced run, outside a Lambda context")
    environment = {**TRACED_ENV, "LAMBDA_TASK_ROOT": str(target.cold_path[0])}
    with restored(environment):
        os.environ.update(environment)
        from aws_lambda_powertools import Tracer

        return Tracer().capture_lambda_handler(handler, capture_response=False)


@contextmanager
def _counting_bcrypt(counter: list[int]) -> Iterator[None]:
    import bcrypt

    originals = bcrypt.hashpw, bcrypt.checkpw

    def hashpw(*args: Any) -> bytes:
        counter[0] += 1
        return originals[0](*args)

    def checkpw(*args: Any) -> bool:
        counter[0] += 1
        return originals[1](*args)

    bcrypt.hashpw, bcrypt.checkpw = hashpw, checkpw  # type: ignore[assignment]
    try:
        yield
    finally:
        bcrypt.hashpw, bcrypt.checkpw = originals  # type: ignore[assignment]


@contextmanager
def without_bcrypt() -> Iterator[None]:
    """media_platform.passwords' hash and check replaced by instant stand-ins that accept every password."""
    from media_platform import passwords

    originals = passwords.hash_password, passwords.verify_password
    passwords.hash_password = lambda password: STAND_IN_HASH  # type: ignore[assignment]
    passwords.verify_password = lambda password, stored_hash: True  # type: ignore[assignment]
    try:
        yield
    finally:
        passwords.hash_password, passwords.verify_password = originals  # type: ignore[assignment]


@dataclass
class WarmCase:
    """One target ready to be timed: its handler called with its event, and what its first requests showed."""

    target: Target
    call: Callable[[], Any]
    status: int | None
    bcrypt_bound: bool = False
    real_bcrypt_ms: float = 0.0
    samples: list[float] = field(default_factory=list)  # CPU µs
    wall: list[float] = field(default_factory=list)  # wall-clock µs

    def result(self) -> WarmResult:
        return WarmResult(
            statistics.median(self.samples),
            percentile(self.samples, 0.99),
            self.status,
            self.bcrypt_bound,
            self.real_bcrypt_ms,
            wall_median_us=statistics.median(self.wall),
            wall_p99_us=percentile(self.wall, 0.99),
        )


def prepare_warm(target: Target, tokens: Tokens) -> WarmCase:
    """Imports the handler (inside a Tracer for the traced target) and serves its first request; for a function that
    runs bcrypt, a few more with real bcrypt (the real per-request time), then one with it stubbed out, as it will be
    while timed."""
    handler = getattr(importlib.import_module(target.warm_module), target.attribute)
    if target.traced:
        handler = _traced(handler, target)
    event, context = target.event(tokens), LambdaContext("bench", 512, "bench-request")

    def call() -> Any:
        return handler(event, context)

    calls = [0]
    with _counting_bcrypt(calls):
        status = call().get("statusCode")
    if not calls[0]:
        return WarmCase(target, call, status)
    started = time.perf_counter()
    for _ in range(REAL_BCRYPT_REQUESTS):
        call()
    real_ms = (time.perf_counter() - started) / REAL_BCRYPT_REQUESTS * 1000
    with without_bcrypt():
        status = call().get("statusCode")
    return WarmCase(target, call, status, bcrypt_bound=True, real_bcrypt_ms=real_ms)


def run_warm(
    cases: list[WarmCase], iterations: int, log: Callable[[str], None]
) -> tuple[dict[str, WarmResult], list[str]]:
    """`iterations` requests per case, each timed on its own (CPU and wall), in ROUNDS round-robin rounds so that a
    burst of load on a shared machine hits every case alike (as the cold starts do); bcrypt stubbed out throughout.
    A case that fails is dropped with a warning (a floor failing raises)."""
    warnings: list[str] = []
    active = list(cases)
    cpu, clock = time.process_time, time.perf_counter
    per_round = max(1, math.ceil(iterations / ROUNDS))
    # This process holds moto, every function and the samples: a full collection scanning all of that would be the
    # p99 of every case. Freeze what exists now, as if each function ran in its own process; each request's garbage
    # is still collected.
    gc.collect()
    gc.freeze()
    try:
        with without_bcrypt():
            for round_number in range(-1, ROUNDS):
                log(f"warm round {round_number + 1}/{ROUNDS}" if round_number >= 0 else "warm warm-up round")
                warm_up = round_number < 0
                size = max(1, iterations // 20) if warm_up else min(per_round, iterations - round_number * per_round)
                for case in list(active):
                    samples, wall = ([], []) if warm_up else (case.samples, case.wall)
                    try:
                        for _ in range(size):
                            started, cpu_started = clock(), cpu()
                            case.call()
                            cpu_done, done = cpu(), clock()
                            samples.append((cpu_done - cpu_started) * 1e6)
                            wall.append((done - started) * 1e6)
                    except Exception as exc:
                        if case.target.is_floor:
                            raise
                        active.remove(case)
                        warnings.append(f"{case.target.name}: warm run failed: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        gc.unfreeze()
    return {case.target.name: case.result() for case in active if case.samples}, warnings
