"""The one translator of AWS errors that every DynamoDB and S3 call goes through: throttling (DynamoDB's, S3's
`SlowDown`) and outages become ServiceBusy (503 with Retry-After); anything else stays unexpected (the generic 500)."""

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
    "SlowDown",  # S3
    "InternalError",  # S3
    "RequestTimeout",  # S3
}


class StartKeyRefused(Exception):
    """DynamoDB refused a query's ExclusiveStartKey (a ValidationException): the cursor it came from is bad."""


@contextmanager
def refusing_bad_start_keys(start_key: dict[str, object] | None) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if start_key and error_code(exc) == "ValidationException":
            raise StartKeyRefused() from exc
        raise


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_busy(exc: BaseException | None) -> bool:
    """Whether an error (raised by a library that called AWS itself) is throttling or an outage."""
    if isinstance(exc, ClientError):
        return error_code(exc) in THROTTLING_CODES
    return isinstance(exc, BotoCoreError)


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
