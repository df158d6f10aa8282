"""Opaque, tamper-evident cursors for DynamoDB pagination: the LastEvaluatedKey as base64url JSON, with an HMAC that
binds it to the listing it came from. A forged, edited or borrowed cursor is refused before DynamoDB sees it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from media_platform import tokens
from media_platform.errors import InvalidInput

# Said in the OpenAPI document: no schema can tell a cursor this API issued from any other string.
CURSOR_DOC = "Opaque: the `next_cursor` of the previous page of this same listing. Any other value is a 422."
MAX_VALUE_CHARS = 1024  # DynamoDB refuses key values over 1,024 bytes (sort keys) or 2,048 (partition keys)


def invalid_cursor() -> InvalidInput:
    return InvalidInput("The cursor is not one this API returned for this listing.", field="query.cursor")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(listing: str, payload: str) -> str:
    mac = hmac.new(tokens.purpose_key("pagination-cursor"), f"{listing}\n{payload}".encode(), hashlib.sha256)
    return _b64(mac.digest())


def encode_cursor(last_key: dict[str, Any] | None, listing: str) -> str | None:
    """`listing` names the query the key belongs to (table, index, partition value): the cursor works only there."""
    if not last_key:
        return None
    payload = _b64(json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_signature(listing, payload)}"


def decode_cursor(cursor: str | None, allowed_keys: set[str], listing: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    payload, _, signature = cursor.partition(".")
    if not hmac.compare_digest(signature.encode(), _signature(listing, payload).encode()):
        raise invalid_cursor()
    try:
        key = json.loads(_unb64(payload))
    except (binascii.Error, ValueError):
        raise invalid_cursor() from None
    # Signed by us, so well-formed; checked all the same, since a key change could outlive old cursors.
    if not (
        isinstance(key, dict)
        and set(key) == allowed_keys
        and all(
            isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) and 0 < len(v["S"]) <= MAX_VALUE_CHARS
            for v in key.values()
        )
    ):
        raise invalid_cursor()
    return dict(key)
