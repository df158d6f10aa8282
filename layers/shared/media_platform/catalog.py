"""Use cases of managing media: list, read, edit and delete assets."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from media_platform import access
from media_platform.dal import media as media_table
from media_platform.dal import objects
from media_platform.dal.aws_errors import StartKeyRefused
from media_platform.errors import Conflict, InvalidInput, NotFound
from media_platform.models import MediaOut, MediaPage, MediaStatus, UpdateMedia
from media_platform.observability import logger
from media_platform.pagination import decode_cursor, encode_cursor, invalid_cursor
from media_platform.tokens import Claims


def list_media(caller: Claims, status: MediaStatus | None, limit: int, cursor: str | None) -> MediaPage:
    visible = access.listing_visibility(caller, status)
    if not visible.statuses:
        return MediaPage(items=[])
    if status is None and len(visible.statuses) == 1:
        [status] = visible.statuses  # a viewer's listing: read that one status's partition, not every asset
    index = "by_status" if status else "by_creation"
    listing = f"media/{index}/{status or 'any'}"  # a cursor of one listing is refused by every other
    try:
        found, last_key = media_table.list_visible(
            visible,
            status=status,
            limit=limit,
            start_key=decode_cursor(cursor, media_table.CURSOR_KEYS[index], listing),
        )
    except StartKeyRefused:
        raise invalid_cursor() from None
    return MediaPage(items=[m.public() for m in found], next_cursor=encode_cursor(last_key, listing))


def get_media(caller: Claims, media_id: str) -> MediaOut:
    return access.find_visible(caller, media_id).public()


def update_media(caller: Claims, media_id: str, changes: UpdateMedia) -> MediaOut:
    fields = changes.model_dump(exclude_unset=True)
    if not fields:
        raise InvalidInput("Send at least one of title, description.", field="body")
    media = access.find_manageable(caller, media_id)
    try:
        updated = media_table.transition(
            media,
            {s for s in MediaStatus if s != MediaStatus.DELETED},
            **fields,
            updated_at=datetime.now(UTC),
        )
    except media_table.StaleState:
        raise Conflict("Deleted media cannot be changed.") from None
    return updated.public()


def delete_media(caller: Claims, media_id: str) -> None:
    """Marks the asset deleted, then removes its object. Repeating it is harmless and finishes a half-done delete."""
    try:
        media = access.find_manageable(caller, media_id)
    except NotFound:
        media = _own_deleted(caller, media_id)
    if media.status != MediaStatus.DELETED:
        # Deleted meanwhile by another request: finish the object clean-up below all the same.
        with suppress(media_table.StaleState):
            media_table.transition(
                media,
                {s for s in MediaStatus if s != MediaStatus.DELETED},
                status=MediaStatus.DELETED,
                updated_at=datetime.now(UTC),
            )
        if media.upload_id and media.status == MediaStatus.PENDING_UPLOAD:
            objects.abort_multipart(media.object_key, media.upload_id)
    objects.delete(media.object_key)
    logger.info("Media deleted", extra={"media_id": media.id})


def _own_deleted(caller: Claims, media_id: str) -> Any:
    """An owner deleting again sees the same success, not a 404 for the asset they just deleted."""
    media = media_table.get(media_id) if access.is_media_id(media_id) else None
    if media and media.status == MediaStatus.DELETED and access.can_manage(caller, media):
        return media
    raise NotFound("No such media.")
