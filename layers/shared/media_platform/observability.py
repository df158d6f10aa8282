"""One Logger, Metrics and (when tracing is on) Tracer per execution environment (service name and namespace come
from Globals), and the decorator stack every Lambda handler wears."""

import json
import logging
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import powertools_dev_is_set, strtobool

Handler = Callable[[dict[str, Any], Any], Any]
# The functions publish only the cold-start metric so far: Powertools would warn about that on every invocation.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)


def tracing_enabled() -> bool:
    """Whether the Powertools Tracer would trace: POWERTOOLS_TRACE_DISABLED not true, and running in Lambda (not in
    SAM's or Chalice's emulation), as Powertools itself decides. Lambda's active tracing records each invocation's
    segment either way; the Tracer adds subsegments for the handler and every AWS call."""
    if strtobool(os.environ.get(constants.TRACER_DISABLED_ENV, "false")):
        return False
    in_lambda = bool(os.environ.get(constants.LAMBDA_TASK_ROOT_ENV))
    emulated = os.environ.get(constants.SAM_LOCAL_ENV) or os.environ.get(constants.CHALICE_LOCAL_ENV)
    return in_lambda and not emulated


class LineFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON log line, byte for byte, with less work per line (tests/unit/test_observability.py holds it
    to LambdaPowertoolsFormatter): reserved attributes looked up in a set, not a tuple (the extras filter scanned
    24 names for each of a record's ~25 attributes), the timestamp's second formatted once a second, a message
    parsed as JSON only when it could be JSON, and one JSON encoder built once. A log line was the largest single
    cost of several requests (about 70 µs in a request, a fifth of it)."""

    _RESERVED = frozenset(RESERVED_LOG_ATTRS)

    def __init__(self, **options: Any) -> None:
        indent = constants.PRETTY_INDENT if powertools_dev_is_set() else constants.COMPACT_INDENT
        encoder = json.JSONEncoder(default=str, separators=(",", ":"), indent=indent, ensure_ascii=False)
        super().__init__(json_serializer=encoder.encode, json_deserializer=_json_message, **options)
        self._second: tuple[int, str, str] = (-1, "", "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt or self.datefmt or self.use_rfc3339_iso8601:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if self._second[0] != second:  # the default format: "2021-05-03 10:20:19,650+0200"
            moment = self.converter(record.created)
            self._second = (second, time.strftime("%Y-%m-%d %H:%M:%S,", moment), time.strftime("%z", moment))
        return f"{self._second[1]}{int(record.msecs):03d}{self._second[2]}"

    def _extract_log_keys(self, log_record: logging.LogRecord) -> dict[str, Any]:
        reserved = self._RESERVED
        record_dict = log_record.__dict__.copy()
        record_dict["asctime"] = self.formatTime(record=log_record)
        formatted_log: dict[str, Any] = {}
        for keys in (self.log_format, self.thread_safe_get_current_keys()):
            for key, value in keys.items():
                if value and key in reserved:
                    if not isinstance(value, str):  # Powertools' own refusal
                        return super()._extract_log_keys(log_record)
                    formatted_log[key] = value % record_dict
                else:
                    formatted_log[key] = value
        formatted_log.update({k: v for k, v in record_dict.items() if k not in reserved})
        return formatted_log


_JSON_STARTS = frozenset('{["-0123456789tfnNI')


def _json_message(message: Any) -> Any:
    """json.loads, refusing at once a string that cannot be JSON (every message this service logs)."""
    if isinstance(message, str) and message.lstrip(" \t\n\r")[:1] not in _JSON_STARTS:
        raise ValueError("not JSON")
    return json.loads(message)


# What every log record would otherwise look up, and no line of ours prints: the thread, the process and (inside
# Mangum's event loop) the asyncio task, whose "Task-N" Powertools would add to every line as `taskName`.
logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
logging.logAsyncioTasks = False  # type: ignore[attr-defined]  # Python 3.12+, not yet in typeshed
logger = Logger(logger_formatter=LineFormatter())
metrics = Metrics()
# Constructing a Tracer imports the X-Ray SDK (and patches every module it knows) even when tracing is disabled:
# that import is most of the cold-start gap to a bare FastAPI app, so there is no Tracer unless it would trace.
tracer = Tracer() if tracing_enabled() else None


def instrumented(handler: Handler, correlation_id_path: str | None = None, log_event: bool | None = None) -> Handler:
    """Tracer (when tracing is on), then Logger (with the correlation id taken from the event), then Metrics with the
    cold-start metric."""
    # Powertools prints the ColdStart EMF line even with metrics disabled (as locally): then ask for none.
    cold_start_metric = os.environ.get("POWERTOOLS_METRICS_DISABLED", "false").lower() != "true"

    @logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True, log_event=log_event)
    @metrics.log_metrics(capture_cold_start_metric=cold_start_metric)
    def lambda_handler(event: dict[str, Any], context: Any) -> Any:
        return handler(event, context)

    if tracer is None:
        return lambda_handler  # type: ignore[no-any-return]
    return tracer.capture_lambda_handler(lambda_handler, capture_response=False)
