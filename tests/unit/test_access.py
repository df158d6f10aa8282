"""Who sees which media, stated as a table: every role, every status, own media and someone else's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media_platform import access
from media_platform.models import Media, MediaStatus, Role
from media_platform.tokens import Claims

ME, SOMEONE_ELSE = "caller", "someone-else"
ANY_OWNER = {ME, SOMEONE_ELSE}
READY, PENDING, FAILED, EXPIRED, DELETED = (
    MediaStatus.READY,
    MediaStatus.PENDING_UPLOAD,
    MediaStatus.FAILED,
    MediaStatus.EXPIRED,
    MediaStatus.DELETED,
)
# Role -> status -> whose media of that status the caller sees.
SEES: dict[Role, dict[MediaStatus, set[str]]] = {
    Role.ADMIN: {READY: ANY_OWNER, PENDING: ANY_OWNER, FAILED: ANY_OWNER, EXPIRED: ANY_OWNER, DELETED: ANY_OWNER},
    Role.EDITOR: {READY: ANY_OWNER, PENDING: {ME}, FAILED: {ME}, EXPIRED: {ME}, DELETED: set()},
    Role.VIEWER: {READY: ANY_OWNER, PENDING: set(), FAILED: set(), EXPIRED: set(), DELETED: set()},
}


def caller(role: Role) -> Claims:
    return Claims(subject=ME, role=role, expires_at=0, issued_at=0.0)


def media(status: MediaStatus, owner_id: str) -> Media:
    now = datetime.now(UTC)
    return Media(
        id="0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11",
        title="Keynote",
        filename="keynote.mp4",
        content_type="video/mp4",
        size_bytes=1,
        status=status,
        owner_id=owner_id,
        object_key="uploads/0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11",
        created_at=now,
        updated_at=now,
        upload_expires_at=0,
    )


def test_the_table_covers_every_role_and_status() -> None:
    assert set(SEES) == set(Role)
    assert all(set(row) == set(MediaStatus) for row in SEES.values())


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("status", list(MediaStatus))
@pytest.mark.parametrize("owner_id", sorted(ANY_OWNER))
def test_can_see_follows_the_table(role: Role, status: MediaStatus, owner_id: str) -> None:
    assert access.can_see(caller(role), media(status, owner_id)) == (owner_id in SEES[role][status])


def parsed_canonically(value: str) -> bool:
    """The check is_media_id replaced: the value parses as a UUID and is its canonical spelling."""
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


@pytest.mark.parametrize(
    "value",
    [
        str(uuid.uuid4()),
        str(uuid.uuid4()).upper(),
        uuid.uuid4().hex,
        "{" + str(uuid.uuid4()) + "}",
        "urn:uuid:" + str(uuid.uuid4()),
        str(uuid.uuid4()) + "\n",
        " " + str(uuid.uuid4()),
        str(uuid.uuid4())[:-1] + "g",
        str(uuid.uuid4())[:-1] + "٣",  # a non-ASCII digit
        "",
        "../../etc/passwd",
    ],
)
def test_a_media_id_is_a_uuid_in_its_canonical_spelling(value: str) -> None:
    assert access.is_media_id(value) is parsed_canonically(value)


@settings(max_examples=500)
@given(
    st.uuids().map(str).flatmap(lambda u: st.sampled_from([u, u.upper(), u.replace("-", "")])) | st.text(max_size=40)
)
def test_any_value_is_a_media_id_exactly_when_it_parses_canonically(value: str) -> None:
    assert access.is_media_id(value) is parsed_canonically(value)
