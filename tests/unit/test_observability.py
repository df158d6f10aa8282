"""The decorator stack: the X-Ray SDK is imported only where the Powertools Tracer would trace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from media_platform.observability import tracing_enabled

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
