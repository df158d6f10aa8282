"""What every DynamoDB access shares: turning throttling and outages into ServiceBusy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from media_platform.errors import ServiceBusy

THROTTLING_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def busy_on_throttle() -> Iterator[None]:
    """botocore has already retried by the time an error reaches here: tell the client to come back later."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) in THROTTLING_CODES:
            raise ServiceBusy("The service is busy; retry shortly.", retry_after=2) from exc
        raise
    except BotoCoreError as exc:
        raise ServiceBusy("The service is unavailable; retry shortly.", retry_after=2) from exc
