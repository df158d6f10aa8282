"""Shared test helpers: events from events/ and small fakes."""

from __future__ import annotations

import copy
import importlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from devtools.local_stack.gateway import LambdaContext, LoadedFunction, merged_openapi
from devtools.local_stack.iam import acting_as
from devtools.local_stack.stack import stack_environment
from devtools.local_stack.template import Template
from media_platform import clients
from media_platform.settings import get_settings

EVENTS = Path(__file__).resolve().parents[1] / "events"


def load_event(
    name: str,
    *,
    body: Any = None,
    token: str | None = None,
    path: str | None = None,
    path_params: dict[str, str] | None = None,
    query: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway v2 event from events/<name>.json, with the parts a test varies replaced."""
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if token is not None:
        event["headers"]["authorization"] = f"Bearer {token}"
    elif "authorization" in event["headers"]:
        del event["headers"]["authorization"]
    if path_params is not None:
        event["pathParameters"] = path_params
        event["rawPath"] = event["requestContext"]["http"]["path"] = path or event["rawPath"]
    if query is not None:
        event["rawQueryString"] = query
    event["headers"].update(headers or {})
    return event


Handler = Callable[[dict[str, Any], Any], Any]


@cache
def _logical_ids() -> dict[str, str]:
    return {Path(f.code_uri).name: f.logical_id for f in Template.load().functions()}


def as_function(function: str, handler: Handler) -> Handler:
    """`handler`, run as function `function` (its code folder's name) runs on Lambda: the IAM check holds each AWS
    call to that function's policy, and its secrets are cached apart from other functions'."""
    logical_id = _logical_ids()[function]

    def run(event: dict[str, Any], context: Any) -> Any:
        with acting_as(logical_id), clients.execution_environment(logical_id):
            return handler(event, context)

    return run


def handler_of(function: str) -> Handler:
    """The function's real Lambda handler (`functions/<function>/app.py`), run as that function."""
    return as_function(function, importlib.import_module(f"functions.{function}.app").lambda_handler)


def served_openapi(only: str | None = None) -> dict[str, Any]:
    """The merged document the local stack serves at /openapi.json, built without starting it: each function's app
    loaded in the environment the stack gives it (the document states limits from the settings). `only`: the
    document of that one function (a logical id), as it would stand alone."""
    template = Template.load()
    functions = [f for f in template.functions() if only in (None, f.logical_id)]
    with pytest.MonkeyPatch.context() as env:
        for name, value in stack_environment(template).items():
            env.setenv(name, value)
        get_settings.cache_clear()
        document = merged_openapi([LoadedFunction.load(f) for f in functions], "Media Platform API")
    get_settings.cache_clear()
    return document


class FakeSecrets:
    """Stands in for Powertools' SecretsProvider."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.calls = 0

    def get(self, name: str, max_age: int = 0) -> str:
        self.calls += 1
        return self.value


class RoutedCalls:
    """A real client, except that the named calls go to another (a Stubber-wrapped one, to inject AWS failures)."""

    def __init__(self, real: object, stubbed: object, *names: str) -> None:
        self.real, self.stubbed, self.names = real, stubbed, set(names)

    def __getattr__(self, name: str) -> object:
        return getattr(self.stubbed if name in self.names else self.real, name)


class RecordedCalls:
    """A real client that records each call it makes: (operation, TableName)."""

    def __init__(self, real: Any) -> None:
        self.real, self.calls = real, list[tuple[str, str]]()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.real, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs.get("TableName", "")))
            return method(**kwargs)

        return call


def QueriesThrough(real: object, queries: object) -> RoutedCalls:
    """The real DynamoDB client, except that queries go to another."""
    return RoutedCalls(real, queries, "query")


class AtomicDynamoDB:
    """Wraps a DynamoDB client so that one call runs at a time, and records the name of every call.

    DynamoDB applies each conditional write and transaction atomically; moto does not (concurrent threads
    interleave between its condition checks and its writes), so concurrency tests run through this to get
    DynamoDB's guarantee, and still race everything else.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[str] = []
        self.tables: list[str] = []  # the TableName of each call, in the same order
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.calls.append(name)
                self.tables.append(kwargs.get("TableName", ""))
                return method(*args, **kwargs)

        return call


def FakeContext() -> LambdaContext:
    """The local stack's Lambda context, for tests that call a handler directly."""
    return LambdaContext("test-function", 512, "test-request")


class Clock:
    """The clock tokens are issued and checked against, moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@contextmanager
def debug_logging() -> Iterator[None]:
    """The layer's logger at DEBUG for the block (as with POWERTOOLS_LOG_LEVEL=DEBUG), so lines below INFO show."""
    from media_platform.observability import logger

    previous = logger.log_level
    logger.setLevel("DEBUG")
    try:
        yield
    finally:
        logger.setLevel(previous)
