"""Idempotency-Key support (Powertools Idempotency, DynamoDB-backed): a repeated key with the same body returns the
first response; the same key with another body is refused."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import BaseModel

from media_platform import clients
from media_platform.dal.aws_errors import is_busy
from media_platform.errors import Conflict, InvalidInput, ServiceBusy
from media_platform.observability import logger
from media_platform.settings import get_settings

KEY_TTL_SECONDS = 24 * 3600
KEY_DOC = (
    "Repeating a request with the same key (for a day) returns the first answer; "
    "the same key with another body is a 422, and while the first is still running a 409."
)


@cache
def persistence_layer(table_name: str, client: Any) -> Any:
    """Built once per execution environment (per table and client), as the Powertools examples do at module scope."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)


def _unchanged[T](answer: T) -> T:
    return answer


def once[T: BaseModel](
    key: str | None,
    payload: dict[str, Any],
    produce: Callable[[], T],
    model: type[T],
    lambda_context: Any = None,
    *,
    stored_as: Callable[[T], T] = _unchanged,
    replayed_as: Callable[[T], T] = _unchanged,
) -> T:
    """`lambda_context` lets an in-progress record expire with the invocation, so a timed-out request does not
    block its key for a day. The record is one DynamoDB item (400 KB at most): an answer that may outgrow it is
    stored as `stored_as` makes it, and a replay answers what `replayed_as` rebuilds from that.

    When the store fails before the work, nothing was done: a busy store is a 503 to retry. When it fails to record
    the answer after the work, the work stands and its answer is sent (the client has what it asked for) and logged:
    only a retry with the key while the in-progress record lives is refused (409); after that it runs again."""
    if key is None:
        return produce()
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    persistence = persistence_layer(get_settings().resource("idempotency_table"), clients.dynamodb())
    config = IdempotencyConfig(
        event_key_jmespath="[caller, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=KEY_TTL_SECONDS,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    produced: list[T] = []  # the first answer, whole; the record keeps what `stored_as` makes of it

    @idempotent_function(data_keyword_argument="payload", persistence_store=persistence, config=config)  # type: ignore[untyped-decorator]
    def run(payload: dict[str, Any]) -> dict[str, Any]:
        produced.append(produce())
        return stored_as(produced[0]).model_dump(mode="json")

    try:
        stored = run(payload=payload)
        return produced[0] if produced else replayed_as(model.model_validate(stored))
    except IdempotencyValidationError:
        raise InvalidInput(
            "This Idempotency-Key was already used with a different request body.", field="header.idempotency-key"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly.") from None
    except IdempotencyPersistenceLayerError as exc:
        if produced:
            logger.error("The Idempotency-Key's answer could not be recorded; answering it unrecorded", exc_info=exc)
            return produced[0]
        if is_busy(exc.__cause__):
            raise ServiceBusy("The service is busy; retry shortly.", retry_after=2) from exc
        raise
