from __future__ import annotations

import pytest

from media_platform.errors import InvalidInput
from media_platform.pagination import decode_cursor, encode_cursor

KEYS = {"pk", "kind", "created_at"}


def test_a_cursor_round_trips_and_is_opaque() -> None:
    key = {"pk": {"S": "USER#1"}, "kind": {"S": "user"}, "created_at": {"S": "2026-01-01T00:00:00+00:00"}}

    cursor = encode_cursor(key)

    assert cursor is not None and "USER#" not in cursor
    assert decode_cursor(cursor, KEYS) == key


def test_no_last_key_means_no_cursor() -> None:
    assert encode_cursor(None) is None
    assert decode_cursor(None, KEYS) is None


@pytest.mark.parametrize("cursor", ["%%%", "bm90LWpzb24", encode_cursor({"pk": {"S": "x"}}), encode_cursor({"a": 1})])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(cursor, KEYS)
