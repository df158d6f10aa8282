"""One Logger, Tracer and Metrics per execution environment (service name and namespace come from Globals), and
the decorator stack every Lambda handler wears."""

import os
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()

Handler = Callable[[dict[str, Any], Any], Any]
# The functions publish only the cold-start metric so far: Powertools would warn about that on every invocation.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)


def instrumented(handler: Handler, correlation_id_path: str | None = None, log_event: bool | None = None) -> Handler:
    """Tracer, then Logger (with the correlation id taken from the event), then Metrics with the cold-start metric."""
    # Powertools prints the ColdStart EMF line even with metrics disabled (as locally): then ask for none.
    cold_start_metric = os.environ.get("POWERTOOLS_METRICS_DISABLED", "false").lower() != "true"

    @tracer.capture_lambda_handler(capture_response=False)
    @logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True, log_event=log_event)
    @metrics.log_metrics(capture_cold_start_metric=cold_start_metric)
    def lambda_handler(event: dict[str, Any], context: Any) -> Any:
        return handler(event, context)

    return lambda_handler  # type: ignore[no-any-return]
