"""One visibility rule, applied in two places: `access.can_see` in Python (reading one asset by id) and the filter
that dal/media.py builds for DynamoDB (listing). On moto, every listing by every role returns exactly the media that
can_see admits, with one deliberate difference: a listing that asks for no status leaves deleted media out, for
admins too, who still read a deleted asset by id and list deleted media by asking for them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from media_platform import access, catalog
from media_platform.dal import media as media_table
from media_platform.models import Media, MediaStatus, Role
from media_platform.tokens import Claims
from tests.integration.conftest import emulated_aws

ME, SOMEONE_ELSE = "caller", "someone-else"
STATUS_FILTERS = [None, *MediaStatus]


def caller(role: Role) -> Claims:
    return Claims(subject=ME, role=role, expires_at=0, issued_at=0.0)


def asset(n: int, status: MediaStatus, owner_id: str) -> Media:
    media_id = f"00000000-0000-4000-8000-{n:012d}"
    created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n)
    return Media(
        id=media_id,
        title=f"{owner_id} {status.value}",
        filename="keynote.mp4",
        content_type="video/mp4",
        size_bytes=1,
        status=status,
        owner_id=owner_id,
        object_key=f"uploads/{media_id}",
        created_at=created,
        updated_at=created,
        upload_expires_at=0,
    )


@pytest.fixture(scope="module")
def shelf() -> Iterator[list[Media]]:
    """In the media table on moto: one asset of every status owned by the caller, and one owned by someone else."""
    with emulated_aws():
        stocked = [
            asset(n, status, owner)
            for n, (status, owner) in enumerate((s, o) for s in MediaStatus for o in (ME, SOMEONE_ELSE))
        ]
        for media in stocked:
            media_table.put_new(media)
        yield stocked


def listed(claims: Claims, status: MediaStatus | None) -> set[str]:
    page = catalog.list_media(claims, status, limit=100, cursor=None)
    assert page.next_cursor is None
    return {item.title for item in page.items}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("status", STATUS_FILTERS)
def test_a_listing_returns_exactly_what_can_see_admits(shelf: list[Media], role: Role, status: MediaStatus) -> None:
    claims = caller(role)

    found = listed(claims, status)

    asked_for = {status} if status else set(MediaStatus) - {MediaStatus.DELETED}
    assert found == {m.title for m in shelf if access.can_see(claims, m) and m.status in asked_for}


def test_admins_read_deleted_media_by_id_but_list_it_only_when_asked(shelf: list[Media]) -> None:
    admin = caller(Role.ADMIN)
    deleted = [m for m in shelf if m.status == MediaStatus.DELETED]

    assert all(catalog.get_media(admin, m.id).status == MediaStatus.DELETED for m in deleted)
    assert not {m.title for m in deleted} & listed(admin, None)
    assert listed(admin, MediaStatus.DELETED) == {m.title for m in deleted}
