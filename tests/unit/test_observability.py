"""The decorator stack: the X-Ray SDK is imported only where the Powertools Tracer would trace; the log line is the
one Powertools writes."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media_platform.observability import LineFormatter, tracing_enabled

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
PROBE = """
import json, sys
from pathlib import Path
from media_platform import observability
handler = observability.instrumented(lambda event, context: {"statusCode": 200})
print(json.dumps({
    "tracer": observability.tracer is not None,
    "xray_imported": "aws_xray_sdk" in sys.modules,
    "outermost": "/".join(Path(handler.__code__.co_filename).parts[-2:]),
}))
"""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
        ({"POWERTOOLS_TRACE_DISABLED": "false"}, False),  # outside Lambda there is no daemon to send to
    ],
)
def test_tracing_is_enabled_as_powertools_decides(
    env: dict[str, str], expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an environment
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    # When / then
    assert tracing_enabled() is expected


def run_probe(**env: str) -> dict[str, object]:
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "layers" / "shared"), "AWS_REGION": REGION}
    done = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", PROBE], env={**base, **env}, capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_with_tracing_disabled_the_x_ray_sdk_is_never_imported() -> None:
    # Given Lambda with the template's default, when a handler is instrumented
    result = run_probe(LAMBDA_TASK_ROOT="/var/task", POWERTOOLS_TRACE_DISABLED="true")

    # Then there is no Tracer, the SDK stays unimported and the outermost decorator is the Logger's
    assert result == {"tracer": False, "xray_imported": False, "outermost": "logging/logger.py"}


def test_with_tracing_enabled_the_tracer_wraps_the_handler() -> None:
    # Given Lambda with the tracer switched on, when a handler is instrumented
    result = run_probe(LAMBDA_TASK_ROOT="/var/task", POWERTOOLS_TRACE_DISABLED="false")

    # Then the Tracer is the outermost decorator, as before the switch existed
    assert result == {"tracer": True, "xray_imported": True, "outermost": "tracing/tracer.py"}


# The log line: LineFormatter against Powertools' own formatter, record for record.

KEYS = {"service": "media-platform", "sampling_rate": None, "cold_start": False, "function_name": "f"}


def formatters(**options: Any) -> tuple[logging.Formatter, logging.Formatter]:
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    ours, theirs = LineFormatter(**options), LambdaPowertoolsFormatter(**options)
    for formatter in (ours, theirs):
        formatter.append_keys(**KEYS, correlation_id="req-1")
    return ours, theirs


def record(message: Any, *args: Any, extra: dict[str, Any] | None = None, **fields: Any) -> logging.LogRecord:
    made = logging.LogRecord("media-platform", logging.INFO, "/var/task/app.py", 42, message, args, None, "stream")
    made.__dict__.update(extra or {})
    made.__dict__.update(fields)
    return made


def raised() -> Any:
    try:
        raise KeyError("missing")
    except KeyError:
        return sys.exc_info()


@pytest.mark.parametrize(
    "made",
    [
        pytest.param(record("View recorded", extra={"media_id": "m", "counted": True}), id="extras"),
        pytest.param(record('é漢 "quoted"\n', extra={"none": None, "nested": {"a": [1, 2]}}), id="unicode-none"),
        pytest.param(record("%s of %d", "one", 2), id="args"),
        pytest.param(record({"a": 1}), id="dict"),
        pytest.param(record('  {"json": "string"}'), id="json-string"),
        pytest.param(record("123"), id="json-number"),
        pytest.param(record("not json {"), id="not-json"),
        pytest.param(record(["a", "list"]), id="list"),
        pytest.param(record("Unhandled error", exc_info=raised()), id="exception"),
        pytest.param(record("odd", extra={"when": datetime(2026, 1, 1, tzinfo=UTC), "blob": b"x"}), id="default-str"),
        pytest.param(record("named", extra={"exception": "mine", "stack_trace": "kept?"}), id="exception-extras"),
        pytest.param(record("empty exc_info", exc_info=(None, None, None)), id="empty-exc-info"),
        pytest.param(record("with a stack", stack_info="Stack (most recent call last): ..."), id="stack-info"),
    ],
)
def test_a_line_is_the_one_powertools_would_write(made: logging.LogRecord) -> None:
    ours, theirs = formatters()
    assert ours.format(made) == theirs.format(made)


@settings(max_examples=300, deadline=None)
@given(
    message=st.text(max_size=20),
    extra=st.dictionaries(
        st.text(alphabet="abcxyz_", min_size=1, max_size=6),
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
        max_size=4,
    ),
    created=st.floats(min_value=0, max_value=4102444800),
    options=st.sampled_from([{}, {"utc": True}, {"use_rfc3339": True}, {"datefmt": "%H:%M:%S.%F"}]),
)
def test_any_line_is_the_one_powertools_would_write(
    message: str, extra: dict[str, Any], created: float, options: dict[str, Any]
) -> None:
    made = record(message, extra=extra)
    made.created, made.msecs = created, (created - int(created)) * 1000
    ours, theirs = formatters(**options)
    assert ours.format(made) == theirs.format(made)


def test_a_format_naming_other_record_attributes_is_the_one_powertools_would_write() -> None:
    options = {"location": "%(module)s.%(funcName)s", "timestamp": "%(created)f", "level": "%(levelno)d"}
    ours, theirs = formatters(**options)
    made = record("custom", extra={"media_id": "m"})

    assert ours.format(made) == theirs.format(made)
    assert '"location":"app.stream"' in ours.format(made)


def test_the_timestamp_moves_with_the_second_it_caches() -> None:
    ours, theirs = formatters()
    for created in (1_767_225_599.999, 1_767_225_600.0, 1_767_225_600.5, 1_767_225_599.1):
        made = record("tick")
        made.created, made.msecs = created, (created - int(created)) * 1000
        assert ours.format(made) == theirs.format(made)


def test_the_layers_logger_writes_with_the_line_formatter() -> None:
    from media_platform.observability import logger

    assert isinstance(logger.registered_formatter, LineFormatter)


def test_a_line_inside_the_event_loop_names_no_asyncio_task() -> None:
    import asyncio
    import io

    from media_platform.observability import logger

    async def serve() -> None:  # as a request runs inside Mangum's event loop
        logger.info("inside a task", extra={"media_id": "m"})

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        asyncio.run(serve())
    finally:
        handler.setStream(previous)
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["message"] == "inside a task" and line["media_id"] == "m"
    assert "taskName" not in line
