"""One Logger, Metrics and (when tracing is on) Tracer per execution environment (service name and namespace come
from Globals), and the decorator stack every Lambda handler wears."""

import os
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import strtobool

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


logger = Logger()
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
