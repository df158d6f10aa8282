"""Starts the emulator, provisions template.yaml's resources, and serves the API through the gateway."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.moto_server import werkzeug_app
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from devtools.local_stack import resources
from devtools.local_stack.gateway import Gateway, LoadedFunction
from devtools.local_stack.iam import PolicyCheck
from devtools.local_stack.s3_front import CorsRule, S3Front
from devtools.local_stack.template import TEMPLATE, Template
from devtools.local_stack.triggers import QueuePoller, Scheduler, scheduled_event

REGION = "us-east-1"
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "MOTO_DISABLE_GLOBAL_CORS": "true",
}


class LocalStack:
    def __init__(
        self,
        host: str = "127.0.0.1",
        api_port: int = 3000,
        aws_port: int = 0,
        template_path: Path = TEMPLATE,
        schedule_every: float | None = None,
        access_log: Callable[[str], None] | None = None,
        verbose: bool = False,
        check_iam: bool = True,
    ) -> None:
        self.access_log, self.verbose = access_log, verbose
        self.host, self.api_port, self.aws_port = host, api_port, aws_port
        # None: each schedule at its own rate or time; a number: rate() schedules that often; 0: only on demand (tests)
        self.schedule_every = schedule_every
        self.functions: dict[str, LoadedFunction] = {}
        self._threads: list[QueuePoller | Scheduler] = []
        self.template = Template.load(template_path)
        self._moto: BaseWSGIServer | None = None
        self.s3_front: S3Front | None = None
        self._server: BaseWSGIServer | None = None
        self._serving = False
        self._saved_env: dict[str, str | None] = {}
        self.gateway: Gateway | None = None
        # Each function's AWS calls held to its own policy in template.yaml, refused with AccessDenied as on AWS.
        self.policy_check = PolicyCheck(self.template) if check_iam else None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def aws_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    def start(self) -> LocalStack:
        # werkzeug logs every request of both servers; the queue poller alone makes one a second. Quiet unless asked,
        # from the first request (provisioning makes dozens).
        logging.getLogger("werkzeug").setLevel(logging.INFO if self.verbose else logging.ERROR)
        # Only what every function shares: each function's own variables are set while it loads and runs.
        self._set_env(LOCAL_ENV)
        _forget_cached_clients()
        # moto copies MOTO_DISABLE_GLOBAL_CORS at import, which may have happened before this process set it: without
        # it, moto answers every origin and the bucket's CORS rules would go untested.
        werkzeug_app.DISABLE_GLOBAL_CORS = True  # type: ignore[attr-defined]
        # The API's port first: its own origins join the allowed ones before the S3 front reads the CORS rules.
        self._server = make_server(self.host, self.api_port, self._application, threaded=True)
        self.api_port = self._server.server_port
        self.template.allow_origins(self.own_origins())
        self._start_emulator()
        self._set_env({"AWS_ENDPOINT_URL": self.aws_url})
        resources.provision(self.template, REGION)
        _forget_cached_clients()
        if self.policy_check:
            from media_platform import clients

            clients.on_create(self.policy_check.instrument)
        self.functions = {f.logical_id: LoadedFunction.load(f) for f in self.template.functions()}
        self.gateway = Gateway(
            list(self.functions.values()), access_log=self.access_log, cors=self.template.http_api_cors()
        )
        threading.Thread(target=self._server.serve_forever, daemon=True, name="local-api").start()
        self._serving = True
        self._start_triggers()
        return self

    def own_origins(self) -> list[str]:
        """The origins of a page this stack serves, under both names of the loopback address (the banner prints
        127.0.0.1, browsers and the template's default say localhost)."""
        hosts = dict.fromkeys(["localhost", "127.0.0.1", self.host])  # and the one it was started on
        return [f"http://{host}:{self.api_port}" for host in hosts]

    def _application(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.gateway is not None  # the server serves only once the gateway exists
        return self.gateway(environ, start_response)

    def _start_emulator(self) -> None:
        """moto's server, as ThreadedMotoServer runs it, behind the front that makes its S3 answer like S3."""
        rules = resources.bucket_cors_rules(self.template)
        self.s3_front = S3Front(
            DomainDispatcherApplication(create_backend_app),
            buckets={name: [CorsRule.from_api(r) for r in found] for name, found in rules.items()},
            secrets={LOCAL_ENV["AWS_ACCESS_KEY_ID"]: LOCAL_ENV["AWS_SECRET_ACCESS_KEY"]},
            region=REGION,
        )
        self._moto = make_server(
            self.host, self.aws_port, self.s3_front, threaded=True, request_handler=MotoRequestHandler
        )
        self.aws_port = self._moto.server_port
        threading.Thread(target=self._moto.serve_forever, daemon=True, name="local-aws").start()

    def _start_triggers(self) -> None:
        for function in self.functions.values():
            for event in function.spec.events.values():
                props = event.get("Properties", {})
                if event["Type"] == "SQS":
                    queue = props["Queue"]["Fn::GetAtt"][0]
                    self._threads.append(QueuePoller(function, self.template, queue, int(props.get("BatchSize", 10))))
                elif event["Type"] in {"Schedule", "ScheduleV2"} and self.schedule_every != 0:
                    # `schedule_every` speeds up rate() schedules; a daily cron() one runs at its UTC time.
                    expression = props.get("Schedule") or props["ScheduleExpression"]
                    every = self.schedule_every if self.schedule_every and expression.startswith("rate(") else None
                    self._threads.append(Scheduler(function, every, props))
        for thread in self._threads:
            thread.start()

    def run_scheduled(self, logical_id: str) -> Any:
        """Runs a scheduled function now, with the event its schedule would send."""
        function = self.functions[logical_id]
        schedules = [e for e in function.spec.events.values() if e["Type"] in {"Schedule", "ScheduleV2"}]
        return function.invoke(scheduled_event(function, schedules[0].get("Properties") if schedules else None))

    def triggers(self) -> list[str]:
        return [thread.name for thread in self._threads]

    def stop(self) -> None:
        for thread in self._threads:
            thread.stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._server:
            if self._serving:  # shutdown() waits for serve_forever, which a failed start never reached
                self._server.shutdown()
            self._server.server_close()
        if self._moto:
            self._moto.shutdown()
            self._moto.server_close()
        if self.policy_check:
            from media_platform import clients

            clients.forget_hook(self.policy_check.instrument)
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _forget_cached_clients()

    def _set_env(self, env: dict[str, str]) -> None:
        for name, value in env.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


def stack_environment(template: Template) -> dict[str, str]:
    """The union of every function's variables from template.yaml, resolved to local names: for the handler tests,
    which call any handler in one environment. The local stack gives each function only its own (gateway.py)."""
    env = dict(LOCAL_ENV)
    for function in template.functions():
        env.update(function.environment)
    return env


def _forget_cached_clients() -> None:
    """Also boto3's default session, which keeps the credentials it resolved first: the emulator's S3 checks
    signatures, so clients must sign with the stack's credentials, not whatever the process resolved before."""
    import boto3

    from media_platform import clients
    from media_platform.settings import get_settings

    boto3.DEFAULT_SESSION = None
    get_settings.cache_clear()
    clients.reset()
