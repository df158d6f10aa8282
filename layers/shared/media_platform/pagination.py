"""Opaque cursors for DynamoDB pagination: the LastEvaluatedKey, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from media_platform.errors import InvalidInput


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, allowed_keys: set[str]) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        valid = (
            isinstance(key, dict)
            and set(key) == allowed_keys
            and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
        )
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise InvalidInput("The cursor is not one this API returned.")
    return dict(key)
