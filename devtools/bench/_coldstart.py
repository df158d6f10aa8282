"""One cold start, run by the benchmark as `python -I _coldstart.py SPEC` in a fresh interpreter.

SPEC is JSON: `path` (the directories to put before the standard library, in Lambda's order: task, layer,
runtime), `module` and `attribute` (the handler), `event`. It imports the handler (init), serves the one event
(first request) and prints one `BENCH_RESULT {...}` line with both times in ms, wall clock and this process's CPU
time (which leaves out the emulator's work and other processes' time slices), the time spent inside bcrypt during
the request, and the response status. Standard library only, and nothing imported before the clock starts
beyond `json`, `sys` and `time`.
"""

from __future__ import annotations

import json
import sys
import time

TYPE_CHECKING = False  # importing typing here would pre-load it for the handler, outside the clock
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

MARKER = "BENCH_RESULT "


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench-request"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _timed(function: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    """`spent` gets the wall and the CPU seconds spent in `function`."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started
            spent[1] += time.process_time() - cpu_started

    return wrapper


def main() -> None:
    spec = json.loads(sys.argv[1])
    sys.path[:] = [*spec["path"], *(p for p in sys.path if not p.endswith("site-packages"))]

    started, cpu_started = time.perf_counter(), time.process_time()
    module = __import__(spec["module"], fromlist=["_"])
    handler = getattr(module, spec["attribute"])
    imported, cpu_imported = time.perf_counter(), time.process_time()

    bcrypt_spent = [0.0, 0.0]
    bcrypt = sys.modules.get("bcrypt")
    if bcrypt is not None:  # imported during init: time what the request spends in it
        for name in ("hashpw", "checkpw"):
            setattr(bcrypt, name, _timed(getattr(bcrypt, name), bcrypt_spent))
    wrapped, cpu_wrapped = time.perf_counter(), time.process_time()

    response = handler(spec["event"], Context())
    done, cpu_done = time.perf_counter(), time.process_time()

    result = {
        "init_ms": (imported - started) * 1000,
        "request_ms": (done - wrapped) * 1000,
        "bcrypt_ms": bcrypt_spent[0] * 1000,
        "init_cpu_ms": (cpu_imported - cpu_started) * 1000,
        "request_cpu_ms": (cpu_done - cpu_wrapped) * 1000,
        "bcrypt_cpu_ms": bcrypt_spent[1] * 1000,
        "status": response.get("statusCode") if isinstance(response, dict) else None,
        "modules": len(sys.modules),
    }
    sys.stdout.flush()
    print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
