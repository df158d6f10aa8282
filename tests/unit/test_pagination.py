"""Cursors tried the way an attacker works: edited, forged, unsigned, signed elsewhere, used on another listing."""

from __future__ import annotations

import base64
import json

import pytest

from media_platform import clients
from media_platform.errors import InvalidInput
from media_platform.pagination import decode_cursor, encode_cursor
from tests.support import FakeSecrets

KEYS = {"pk", "kind", "created_at"}
LISTING = "users/newest-first"
KEY = {"pk": {"S": "USER#1"}, "kind": {"S": "user"}, "created_at": {"S": "2026-01-01T00:00:00+00:00"}}


@pytest.fixture(autouse=True)
def signing_key() -> None:
    clients.override("secrets", FakeSecrets("k" * 64))


def refused(cursor: str, listing: str = LISTING) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor, KEYS, listing)
    assert caught.value.field == "query.cursor"
    return caught.value


def test_a_cursor_round_trips_and_is_opaque() -> None:
    cursor = encode_cursor(KEY, LISTING)

    assert cursor is not None and "USER#" not in cursor
    assert decode_cursor(cursor, KEYS, LISTING) == KEY


def test_no_last_key_means_no_cursor() -> None:
    assert encode_cursor(None, LISTING) is None
    assert decode_cursor(None, KEYS, LISTING) is None


def test_an_edited_cursor_is_refused() -> None:
    cursor = encode_cursor(KEY, LISTING)
    assert cursor is not None
    _, signature = cursor.split(".")
    edited = {**KEY, "kind": {"S": "media"}}  # another partition value: DynamoDB would answer ValidationException
    forged_payload = base64.urlsafe_b64encode(json.dumps(edited).encode()).decode().rstrip("=")

    refused(f"{forged_payload}.{signature}")


@pytest.mark.parametrize("cursor", ["%%%", "bm90LWpzb24", "bm9wZQ.", ".", "a.b.c", "x" * 2000])
def test_garbage_and_unsigned_cursors_are_refused(cursor: str) -> None:
    refused(cursor)


def test_an_unsigned_cursor_of_the_old_format_is_refused() -> None:
    refused(base64.urlsafe_b64encode(json.dumps(KEY).encode()).decode().rstrip("="))


def test_a_cursor_signed_with_another_key_is_refused() -> None:
    clients.override("secrets", FakeSecrets("o" * 64))
    elsewhere = encode_cursor(KEY, LISTING)
    clients.override("secrets", FakeSecrets("k" * 64))

    assert elsewhere is not None
    refused(elsewhere)


def test_a_cursor_of_one_listing_is_refused_by_another() -> None:
    ready = encode_cursor({"media_id": {"S": "m"}, "status": {"S": "ready"}, "created_at": {"S": "t"}}, "media/ready")

    assert ready is not None
    with pytest.raises(InvalidInput):
        decode_cursor(ready, {"media_id", "status", "created_at"}, "media/failed")


@pytest.mark.parametrize(
    "values",
    [{"pk": {"S": ""}}, {"pk": {"S": "x" * 1400}}, {"pk": {"N": "1"}}, {"pk": "USER#1"}, {"extra": {"S": "x"}}],
)
def test_even_a_signed_cursor_must_hold_a_well_formed_key(values: dict[str, object]) -> None:
    cursor = encode_cursor({**KEY, **values}, LISTING)

    assert cursor is not None
    refused(cursor)
