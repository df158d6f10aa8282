"""Who may see and manage which media. One place, so every route applies the same rules."""

from __future__ import annotations

import uuid

from media_platform.dal import media as media_table
from media_platform.errors import Forbidden, NotFound
from media_platform.models import Media, MediaStatus, Role
from media_platform.tokens import Claims


def can_see(caller: Claims, media: Media) -> bool:
    if caller.role == Role.ADMIN:
        return True
    if media.status == MediaStatus.DELETED:
        return False
    if media.status == MediaStatus.READY:
        return True
    return caller.role == Role.EDITOR and media.owner_id == caller.subject


def can_manage(caller: Claims, media: Media) -> bool:
    return caller.role == Role.ADMIN or (caller.role == Role.EDITOR and media.owner_id == caller.subject)


def is_media_id(value: str) -> bool:
    """Ids are UUIDs; anything else never reaches DynamoDB (which refuses keys over 2 KB)."""
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def find_visible(caller: Claims, media_id: str) -> Media:
    """The asset, or NotFound when it does not exist, the id is malformed, or the caller may not see it."""
    if not is_media_id(media_id):
        raise NotFound("No such media.")
    media = media_table.get(media_id)
    if media is None or not can_see(caller, media):
        raise NotFound("No such media.")
    return media


def find_manageable(caller: Claims, media_id: str) -> Media:
    media = find_visible(caller, media_id)
    if not can_manage(caller, media):
        raise Forbidden("Only the owner or an admin may change this media.")
    return media
