"""Who may see and manage which media. One place, so every route applies the same rules."""

from __future__ import annotations

import re

from media_platform.dal import media as media_table
from media_platform.errors import Forbidden, NotFound
from media_platform.models import Media, MediaStatus, Role, Visibility
from media_platform.tokens import Claims

EVERY_STATUS = frozenset(MediaStatus)
NOT_DELETED = EVERY_STATUS - {MediaStatus.DELETED}
# A listing that asks for no status shows these, admins' too: deleted media are listed only when asked for, although
# an admin reads a deleted asset by id.
LISTED_UNLESS_ASKED = NOT_DELETED


def visibility(caller: Claims) -> Visibility:
    """The one rule: everyone sees ready media; an editor also their own in every state but deleted; an admin sees
    everything, deleted media included."""
    if caller.role == Role.ADMIN:
        return Visibility(caller_id=caller.subject, anyones=EVERY_STATUS)
    own = NOT_DELETED if caller.role == Role.EDITOR else frozenset()
    return Visibility(caller_id=caller.subject, anyones=frozenset({MediaStatus.READY}), own=own)


def can_see(caller: Claims, media: Media) -> bool:
    return visibility(caller).admits(media)


def listing_visibility(caller: Claims, status: MediaStatus | None) -> Visibility:
    """What a listing of `status` (None: of any status) shows the caller: what can_see admits, of that status, or
    without one of the statuses LISTED_UNLESS_ASKED."""
    return visibility(caller).narrowed_to(frozenset({status}) if status else LISTED_UNLESS_ASKED)


def can_manage(caller: Claims, media: Media) -> bool:
    return caller.role == Role.ADMIN or (caller.role == Role.EDITOR and media.owner_id == caller.subject)


# A UUID as str(uuid.uuid4()) writes it: lower-case hex in 8-4-4-4-12 groups (a tenth of parsing one).
_MEDIA_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_media_id(value: str) -> bool:
    """Ids are UUIDs in their canonical form; anything else never reaches DynamoDB (which refuses keys over 2 KB)."""
    return _MEDIA_ID.fullmatch(value) is not None


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
