"""Cold starts: each in a fresh `python -I` with the built function, the built layer and the runtime's boto3 on
sys.path, against a local moto server that holds template.yaml's tables and secrets."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from devtools.bench._coldstart import MARKER
from devtools.bench.targets import (
    ADMIN_EMAIL,
    ADMIN_ID,
    ADMIN_PASSWORD,
    COMPLETE_MEDIA_ID,
    CREATED_AT,
    MEDIA_ID,
    MEDIA_IDS,
    MEDIA_OBJECT,
    TARGET_EMAIL,
    TARGET_ID,
    TRACE_HEADER_ENV,
    UPLOAD_PARTS,
    Target,
    Tokens,
    media_asset,
)

CHILD = Path(__file__).resolve().parent / "_coldstart.py"
REGION = "us-east-1"
BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    **TRACE_HEADER_ENV,
}
# What the Lambda Python runtime ships besides the standard library. The layer comes first and carries its own
# botocore and friends, so in practice only boto3 and s3transfer are taken from here.
RUNTIME_PACKAGES = ("boto3", "s3transfer", "botocore", "jmespath", "dateutil", "six.py", "urllib3")


@dataclass
class ColdRun:
    """One cold start, wall clock, and the child's CPU time: on a shared machine wall time also counts other
    processes' time slices and the emulator's work (moto runs in the benchmark's process), which CPU time leaves
    out."""

    init_ms: float
    request_ms: float
    bcrypt_ms: float
    status: int | None
    init_cpu_ms: float = 0.0
    request_cpu_ms: float = 0.0
    bcrypt_cpu_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.init_ms + self.request_ms

    @property
    def total_cpu_ms(self) -> float:
        return self.init_cpu_ms + self.request_cpu_ms


@dataclass
class ColdFailure(Exception):
    target: str
    returncode: int
    output: str = field(repr=False)

    def __str__(self) -> str:
        tail = "\n".join(self.output.strip().splitlines()[-15:])
        return f"{self.target}: the cold-start child exited with {self.returncode}:\n{tail}"


@contextmanager
def runtime_dir(full_site_packages: bool) -> Iterator[Path]:
    """Where the child finds boto3: a directory holding only the runtime's packages (linked from this venv), or with
    `full_site_packages` the whole venv, whose awscrt, pyOpenSSL and certifi botocore would then import too."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    if full_site_packages:
        yield site_packages
        return
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as tmp:
        for name in RUNTIME_PACKAGES:
            if (site_packages / name).exists():
                (Path(tmp) / name).symlink_to(site_packages / name)
        yield Path(tmp)


@dataclass
class Emulator:
    """A moto server with template.yaml's resources, the admin and the viewer the events refer to, the admin's media
    assets of MEDIA_IDS (see `reset_media`), and the admin's access and stream tokens signed with the emulator's
    JWT secret."""

    endpoint: str = ""
    tokens: Tokens | None = None
    admin_hash: str = ""
    _server: Any = None
    warnings: list[str] = field(default_factory=list)
    _saved: dict[str, str | None] = field(default_factory=dict)

    def start(self, environment: dict[str, str]) -> Emulator:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per emulated AWS call

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self._set_env({**BASE_ENV, **environment, "AWS_ENDPOINT_URL": self.endpoint})
        self._provision_and_seed()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _forget_clients()

    def _set_env(self, env: dict[str, str]) -> None:
        for name, value in env.items():
            self._saved.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def _provision_and_seed(self) -> None:
        import boto3

        from devtools.local_stack.resources import provision
        from devtools.local_stack.template import Template
        from media_platform import clients, passwords
        from media_platform.dal import users
        from media_platform.models import Role, User
        from media_platform.settings import get_settings

        _forget_clients()
        try:
            provision(Template.load(), REGION)
        except Exception as exc:  # tables and secrets come first; a later resource failing need not stop the bench
            self.warnings.append(f"provision() failed part-way ({type(exc).__name__}: {str(exc)[:120]})")
        self.admin_hash = passwords.hash_password(ADMIN_PASSWORD)
        created = datetime.fromisoformat(CREATED_AT)
        admin = User(id=ADMIN_ID, email=ADMIN_EMAIL, role=Role.ADMIN, password_hash=self.admin_hash, created_at=created)
        viewer = User(id=TARGET_ID, email=TARGET_EMAIL, role=Role.VIEWER, password_hash="-", created_at=created)
        users.create_user(admin, first_admin=True)
        users.create_user(viewer, first_admin=False)
        secret_name = get_settings().resource("jwt_secret_name")
        value = boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId=secret_name)
        clients.override("secrets", StaticSecret(value["SecretString"]))
        self.tokens = Tokens.issue()
        _forget_clients()
        self.reset_media(MEDIA_IDS, first=True)

    def reopen_sessions(self) -> None:
        """The logout function ends the admin's sessions on its cold start: undo that, so that the admin's token works
        for every function measured after it."""
        from media_platform import clients
        from media_platform.settings import get_settings

        clients.dynamodb().update_item(
            TableName=get_settings().resource("users_table"),
            Key={"pk": {"S": f"USER#{ADMIN_ID}"}},
            UpdateExpression="REMOVE tokens_valid_after",
        )

    def reset_media(self, media_ids: tuple[str, ...], first: bool = False) -> None:
        """Puts assets back as seeded, so that each cold start of a function that changes one (DELETE, abort,
        complete) takes the same path as the first: the ready asset with its object; a pending one with a fresh
        multipart upload (holding UPLOAD_PARTS, to be completed). The first time through the app's `put_new`, then
        its `_to_item`, so the item layout is the app's."""
        from media_platform import clients
        from media_platform.dal import media as media_table
        from media_platform.settings import get_settings

        s3, bucket = clients.s3(), get_settings().resource("media_bucket")
        for media_id in media_ids:
            key, upload_id = f"uploads/{media_id}", None
            if media_id == MEDIA_ID:
                s3.put_object(Bucket=bucket, Key=key, Body=MEDIA_OBJECT, ContentType="video/mp4")
            else:
                upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="video/mp4")["UploadId"]
                for number, part in enumerate(UPLOAD_PARTS if media_id == COMPLETE_MEDIA_ID else (), 1):
                    s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=part)
            media = media_asset(media_id, upload_id)
            if first:
                media_table.put_new(media)
            else:
                clients.dynamodb().put_item(
                    TableName=get_settings().resource("media_table"), Item=media_table._to_item(media)
                )


class StaticSecret:
    """Stands in for Powertools' SecretsProvider."""

    def __init__(self, value: str) -> None:
        self.value = value

    def get(self, name: str, max_age: int = 0) -> str:
        return self.value


def _forget_clients() -> None:
    from media_platform import clients
    from media_platform.settings import get_settings

    get_settings.cache_clear()
    clients.reset()


def child_env(target: Target, endpoint: str, home: str) -> dict[str, str]:
    # HOME points at an empty directory so that no ~/.aws/config shapes the clients. The traced target is told it
    # runs in Lambda (LAMBDA_TASK_ROOT), or Powertools and the X-Ray SDK would not trace.
    env = {**BASE_ENV, **target.environment, "AWS_ENDPOINT_URL": endpoint, "HOME": home, "LANG": "C.UTF-8"}
    if target.traced:
        env["LAMBDA_TASK_ROOT"] = str(target.cold_path[0])
    return env


def child_command(target: Target, runtime: Path, event: dict[str, Any], *flags: str) -> list[str]:
    spec = {
        "path": [str(p) for p in [*target.cold_path, runtime]],
        "module": target.cold_module,
        "attribute": target.attribute,
        "event": event,
    }
    return [sys.executable, "-I", *flags, str(CHILD), json.dumps(spec)]


def cold_start(target: Target, runtime: Path, emulator: Emulator, home: str, run: int) -> ColdRun:
    emulator.reopen_sessions()
    if target.media_id:
        emulator.reset_media((target.media_id,))
    command = child_command(target, runtime, target.event(emulator.tokens, run))
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        command, env=child_env(target, emulator.endpoint, home), capture_output=True, text=True, timeout=120
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(MARKER)), None)
    if done.returncode or line is None:
        raise ColdFailure(target.name, done.returncode, done.stdout + done.stderr)
    result = json.loads(line[len(MARKER) :])
    return ColdRun(
        result["init_ms"],
        result["request_ms"],
        result["bcrypt_ms"],
        result["status"],
        result["init_cpu_ms"],
        result["request_cpu_ms"],
        result["bcrypt_cpu_ms"],
    )


def import_profile(target: Target, runtime: Path, emulator: Emulator, home: str) -> dict[str, float]:
    """`-X importtime` of one cold start (init and first request), as self ms per top-level package."""
    emulator.reopen_sessions()
    if target.media_id:
        emulator.reset_media((target.media_id,))
    command = child_command(target, runtime, target.event(emulator.tokens, 0), "-X", "importtime")
    done = subprocess.run(  # noqa: S603
        command, env=child_env(target, emulator.endpoint, home), capture_output=True, text=True, timeout=120
    )
    if done.returncode:
        raise ColdFailure(target.name, done.returncode, done.stdout + done.stderr)
    by_package: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = (part.strip() for part in line[len("import time:") :].split("|"))
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + int(self_us) / 1000
    return dict(sorted(by_package.items(), key=lambda item: -item[1]))


@dataclass
class ColdResults:
    runs: dict[str, list[ColdRun]]
    profiles: dict[str, dict[str, float]]
    admin_hash: str
    warnings: list[str]


def run_cold(targets: list[Target], runs: int, full_site_packages: bool, importtime: int, log: Any) -> ColdResults:
    """`runs` rounds over every target, round-robin so drift hits all alike, after one discarded warm-up round
    (it fills the page cache and makes moto load its backends). A function whose child fails is dropped with a
    warning; the floor failing raises ColdFailure. Also returns the seeded admin's password hash."""
    from devtools.local_stack.template import Template

    environment: dict[str, str] = {}  # every function's, as the seed needs the users table even with --only
    for function in Template.load().functions():
        environment.update(function.environment)
    for target in targets:
        if not target.traced:
            environment.update(target.environment)
    active = [t for t in targets if t.built]
    results: dict[str, list[ColdRun]] = {t.name: [] for t in active}
    profiles: dict[str, dict[str, float]] = {}
    emulator = Emulator().start(environment)
    try:
        with runtime_dir(full_site_packages) as runtime, tempfile.TemporaryDirectory(prefix="bench-home-") as home:
            for run in range(-1, runs):
                log(f"cold round {run + 1}/{runs}" if run >= 0 else "cold warm-up round")
                for target in list(active):
                    try:
                        result = cold_start(target, runtime, emulator, home, run)
                    except ColdFailure as failure:
                        if target.is_floor:
                            raise
                        active.remove(target)
                        results.pop(target.name)
                        emulator.warnings.append(f"{failure}".replace("\n", "\n      "))
                        continue
                    if run >= 0:
                        results[target.name].append(result)
            if importtime:
                for target in active:
                    profiles[target.name] = import_profile(target, runtime, emulator, home)
    finally:
        emulator.stop()
    return ColdResults(results, profiles, emulator.admin_hash, emulator.warnings)
