"""Use cases of uploading: create an asset with presigned upload instructions, complete or abort a multipart upload,
verify what S3 says arrived, and expire uploads that never came."""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from media_platform import access
from media_platform.dal import media as media_table
from media_platform.dal import objects
from media_platform.errors import Conflict, InvalidInput
from media_platform.models import (
    MAX_PARTS_PER_REQUEST,
    MIN_PART_BYTES,
    CompleteUpload,
    CreatedMedia,
    CreateMedia,
    Media,
    MediaOut,
    MediaStatus,
    MultipartUpload,
    MultipartUploadState,
    PartUpload,
    PostUpload,
    PostUploadState,
    SignedParts,
    SignParts,
    StoredPart,
)
from media_platform.observability import logger
from media_platform.settings import get_settings
from media_platform.sniffing import SNIFF_BYTES, detect_kind, matches
from media_platform.tokens import Claims

MiB = 1024**2
MAX_PARTS = 1000  # keeps the answer (one presigned URL a part) well under Lambda's 6 MB response limit
KEY_PREFIX = "uploads/"
_KEY = re.compile(r"^uploads/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
# Completing a multipart upload may come a while after the last part: the asset stays pending this much longer.
MULTIPART_COMPLETION_GRACE_SECONDS = 3600
# An upload that lands just before its URL expires still needs its notification processed before expiry.
EXPIRY_GRACE_SECONDS = 900
# The bucket's lifecycle rule aborts a multipart upload a day after it started (AbortIncompleteMultipartUpload):
# signing parts moves the deadline on, but never past that.
MULTIPART_LIFETIME_SECONDS = 24 * 3600

# The clock of upload deadlines and URL expiries (epoch seconds); tests move it.
clock: Callable[[], float] = time.time


class UnversionedBucket(RuntimeError):
    """Without versions, bytes uploaded after verification could not be told from the verified ones."""


def part_size_for(size_bytes: int) -> int:
    """The smallest whole-MiB part size (at least 5 MiB) that needs no more than MAX_PARTS parts."""
    return max(MIN_PART_BYTES, math.ceil(size_bytes / MAX_PARTS / MiB) * MiB)


def create_upload(caller: Claims, request: CreateMedia) -> CreatedMedia:
    """One DynamoDB write; presigning is local. A multipart upload also starts the upload in S3, and aborts it
    again if the asset cannot be written, so that S3 keeps no upload that no asset knows."""
    settings = get_settings()
    if request.size_bytes > settings.upload_max_bytes:
        raise InvalidInput(f"size_bytes must be at most {settings.upload_max_bytes}.", field="body.size_bytes")
    multipart = request.multipart or request.size_bytes > settings.upload_post_max_bytes
    if multipart and request.size_bytes < MIN_PART_BYTES:
        raise InvalidInput("A multipart upload needs at least 5 MiB (5242880 bytes).", field="body.size_bytes")
    media_id = str(uuid.uuid4())
    key = f"{KEY_PREFIX}{media_id}"  # made by the server: the filename never shapes a key
    now = datetime.fromtimestamp(clock(), UTC)
    ttl = settings.upload_url_expiry_seconds
    expires_at = int(now.timestamp()) + ttl
    upload: PostUpload | MultipartUpload
    upload_id = part_size = None
    if multipart:
        upload_id = objects.start_multipart(key, request.content_type)
        part_size = part_size_for(request.size_bytes)
        count = math.ceil(request.size_bytes / part_size)
        upload = MultipartUpload(
            upload_id=upload_id,
            part_size=part_size,
            part_count=count,
            parts=_signed(key, upload_id, range(1, min(count, MAX_PARTS_PER_REQUEST) + 1), ttl),
            expires_at=datetime.fromtimestamp(expires_at, UTC),
        )
    else:
        post = objects.presigned_post(key, request.content_type, request.size_bytes, ttl)
        upload = PostUpload(url=post["url"], fields=post["fields"], expires_at=datetime.fromtimestamp(expires_at, UTC))
    media = Media(
        id=media_id,
        title=request.title,
        description=request.description,
        filename=request.filename,
        content_type=request.content_type,
        size_bytes=request.size_bytes,
        status=MediaStatus.PENDING_UPLOAD,
        owner_id=caller.subject,
        object_key=key,
        created_at=now,
        updated_at=now,
        upload_expires_at=expires_at + (MULTIPART_COMPLETION_GRACE_SECONDS if multipart else 0),
        upload_id=upload_id,
        part_size=part_size,
    )
    try:
        media_table.put_new(media)
    except Exception:
        if upload_id is not None:
            _abort_orphan(key, upload_id)
        raise
    logger.info("Upload created", extra={"media_id": media_id, "multipart": multipart})
    return CreatedMedia(media=media.public(), upload=upload)


def _abort_orphan(key: str, upload_id: str) -> None:
    """Best effort: the write's error is what the client hears; the lifecycle rule takes what this leaves."""
    try:
        objects.abort_multipart(key, upload_id)
    except Exception:
        logger.exception("Could not abort a multipart upload whose asset was not written")


def _signed(key: str, upload_id: str, numbers: range | list[int], expires_in: int) -> list[PartUpload]:
    return [PartUpload(part_number=n, url=objects.presigned_part_url(key, upload_id, n, expires_in)) for n in numbers]


def without_part_urls(created: CreatedMedia) -> CreatedMedia:
    """What an Idempotency-Key's record keeps of a created upload: a presigned URL a part (over 1 KB each with a
    Lambda role's session token) outgrows one DynamoDB item at a few hundred parts. Presigning is local and cheap."""
    if not isinstance(created.upload, MultipartUpload):
        return created
    return created.model_copy(update={"upload": created.upload.model_copy(update={"parts": []})})


def with_part_urls(created: CreatedMedia) -> CreatedMedia:
    """A replayed answer: the first part URLs presigned again, for the same upload and expiring when the first ones
    do (the parts endpoint signs any part anew)."""
    upload = created.upload
    if not isinstance(upload, MultipartUpload) or upload.parts:
        return created
    key = f"{KEY_PREFIX}{created.media.id}"
    ttl = max(1, int(upload.expires_at.timestamp() - clock()))
    parts = _signed(key, upload.upload_id, range(1, min(upload.part_count, MAX_PARTS_PER_REQUEST) + 1), ttl)
    return created.model_copy(update={"upload": upload.model_copy(update={"parts": parts})})


def _pending_multipart(caller: Claims, media_id: str) -> Media:
    return _require_pending_multipart(access.find_manageable(caller, media_id))


def _require_pending_multipart(media: Media) -> Media:
    if media.status != MediaStatus.PENDING_UPLOAD or not media.upload_id:
        raise Conflict("This media has no multipart upload in progress.")
    return media


def _part_count(media: Media) -> tuple[int, int]:
    """The part size and count of a multipart asset (assets from before the size was stored: as it was made)."""
    part_size = media.part_size or part_size_for(media.size_bytes)
    return part_size, math.ceil(media.size_bytes / part_size)


def upload_state(caller: Claims, media_id: str) -> MultipartUploadState | PostUploadState:
    """What S3 holds of an upload in progress: a multipart upload's parts, or whether a POST's object arrived."""
    media = access.find_manageable(caller, media_id)
    if media.status != MediaStatus.PENDING_UPLOAD:
        raise Conflict(f"This media has no upload in progress: it is {media.status.value}.")
    expires_at = datetime.fromtimestamp(media.upload_expires_at, UTC)
    if not media.upload_id:
        return PostUploadState(object_received=objects.exists(media.object_key), expires_at=expires_at)
    part_size, count = _part_count(media)
    try:
        held = objects.list_parts(media.object_key, media.upload_id)
        received = False
    except objects.UploadGone:
        held, received = [], objects.exists(media.object_key)
        if not received:
            raise Conflict("This multipart upload was aborted in S3; create the media again.") from None
    return MultipartUploadState(
        upload_id=media.upload_id,
        part_size=part_size,
        part_count=count,
        parts=[StoredPart(part_number=p.number, size=p.size, etag=p.etag) for p in held],
        object_received=received,
        expires_at=expires_at,
    )


def sign_parts(caller: Claims, media_id: str, request: SignParts) -> SignedParts:
    """Fresh UploadPart URLs for these parts; the asset's deadline moves on with them, so an upload that keeps
    signing does not expire (within S3's one day for a multipart upload), and one abandoned still does."""
    media = _pending_multipart(caller, media_id)
    assert media.upload_id is not None
    part_size, count = _part_count(media)
    outside = [n for n in request.part_numbers if n > count]
    if outside:
        raise InvalidInput(
            f"This upload has parts 1 to {count}; there is no part {outside[0]}.", field="body.part_numbers"
        )
    now = int(clock())
    started = int(media.created_at.timestamp())
    ttl = min(get_settings().upload_url_expiry_seconds, started + MULTIPART_LIFETIME_SECONDS - now)
    if ttl <= 0:
        raise Conflict("S3 discards a multipart upload a day after it starts; create the media again.")
    until = min(now + ttl + MULTIPART_COMPLETION_GRACE_SECONDS, started + MULTIPART_LIFETIME_SECONDS)
    try:
        media_table.extend_upload(media, until)
    except media_table.StaleState:
        _pending_multipart(caller, media_id)  # settled meanwhile: the 409; else a later deadline was set already
    return SignedParts(
        upload_id=media.upload_id,
        part_size=part_size,
        part_count=count,
        parts=_signed(media.object_key, media.upload_id, request.part_numbers, ttl),
        expires_at=datetime.fromtimestamp(now + ttl, UTC),
    )


def complete_upload(caller: Claims, media_id: str, request: CompleteUpload) -> MediaOut:
    """Completes the multipart upload; S3's notification then verifies the object, as for any upload."""
    media = _pending_multipart(caller, media_id)
    numbers = [part.part_number for part in request.parts]
    if numbers != list(range(1, len(numbers) + 1)):
        raise InvalidInput("Parts must be numbered 1, 2, 3, ... in order.", field="body.parts")
    assert media.upload_id is not None
    try:
        objects.complete_multipart(media.object_key, media.upload_id, [(p.part_number, p.etag) for p in request.parts])
    except objects.PartsRejected:
        raise InvalidInput("The parts do not complete this upload.", field="body.parts") from None
    return media.public()


def abort_upload(caller: Claims, media_id: str) -> None:
    """Aborts the multipart upload and fails the asset. Repeating it is harmless."""
    media = access.find_manageable(caller, media_id)
    if media.status == MediaStatus.FAILED and media.upload_id:
        return
    media = _require_pending_multipart(media)  # the one read decides: _fail's write is conditional on its state
    assert media.upload_id is not None
    _fail(media, "The upload was aborted.", event="Upload aborted")
    objects.abort_multipart(media.object_key, media.upload_id)


def media_id_from_key(key: str) -> str | None:
    found = _KEY.match(key)
    return found.group(1) if found else None


def process_notification(body: str) -> None:
    """One SQS message from S3: verify every object it reports. Safe to repeat (S3 delivers at least once)."""
    message = json.loads(body)
    if message.get("Event") == "s3:TestEvent":
        return
    for record in message.get("Records", []):
        if str(record.get("eventName", "")).startswith("ObjectCreated"):
            verify_upload(unquote_plus(record["s3"]["object"]["key"]))


def verify_upload(key: str) -> None:
    """Checks the object's current version and pins it; a version uploaded after that (a replayed, still-valid
    upload URL) is deleted, so what is served is exactly what was checked."""
    media_id = media_id_from_key(key)
    if media_id is None:
        logger.warning("Ignoring an object outside the upload keys")
        return
    media = media_table.get(media_id)
    if media is None or media.status in {MediaStatus.FAILED, MediaStatus.DELETED, MediaStatus.EXPIRED}:
        objects.delete(key)  # nothing may be served from it: finish any half-done clean-up
        return
    if media.status == MediaStatus.READY:
        _discard_later_uploads(media)
        return
    head = objects.head(key)
    if head is None:
        return  # deleted meanwhile
    version_id = str(head.get("VersionId") or "null")
    if version_id == "null":
        raise UnversionedBucket("the media bucket must have versioning enabled")
    problem = _mismatch(media, head)
    if problem:
        _fail(media, problem)
        objects.delete(key)
        return
    kind = detect_kind(objects.read_head(key, version_id, SNIFF_BYTES))
    if not matches(media.content_type, kind):
        _fail(media, f"The uploaded file is not {media.content_type} (detected: {kind or 'unknown'}).")
        objects.delete(key)
        return
    try:
        verified = media_table.transition(
            media,
            {MediaStatus.PENDING_UPLOAD},
            status=MediaStatus.READY,
            etag=str(head.get("ETag", "")).strip('"') or None,
            version_id=version_id,
            detected_type=kind,
            updated_at=datetime.now(UTC),
        )
        logger.info("Upload verified", extra={"media_id": media_id, "detected_type": kind})
    except media_table.StaleState:
        verify_upload(key)  # another delivery moved it first: act on the state it left
        return
    _discard_later_uploads(verified)  # an earlier upload's version, if the uploader posted twice


def _mismatch(media: Media, head: dict[str, Any]) -> str | None:
    """Why the stored object is not what was declared, judged from its metadata alone."""
    size = int(head["ContentLength"])
    if size != media.size_bytes:
        return f"The uploaded file has {size} bytes, but {media.size_bytes} were declared."
    # The POST policy pins Content-Type on AWS; this guards a misconfigured bucket and the emulator, which ignores it.
    stored_type = str(head.get("ContentType", "")).split(";", 1)[0].strip().lower()
    if stored_type != media.content_type:
        return f"The uploaded file was stored as {stored_type or 'no type'}, but {media.content_type} was declared."
    return None


def _discard_later_uploads(media: Media) -> None:
    """Deletes every version of a ready asset's object but the one verified (none: a duplicate notification)."""
    if media.version_id is None:
        logger.warning("Ready media has no pinned version", extra={"media_id": media.id})
        return
    discarded = objects.keep_only(media.object_key, media.version_id)
    if discarded:
        logger.warning("Discarded bytes uploaded over verified media", extra={"media_id": media.id, "count": discarded})


def _fail(media: Media, reason: str, event: str = "Upload failed verification") -> None:
    try:
        media_table.transition(
            media,
            {MediaStatus.PENDING_UPLOAD},
            status=MediaStatus.FAILED,
            failure_reason=reason,
            updated_at=datetime.now(UTC),
        )
        logger.info(event, extra={"media_id": media.id, "reason": reason})
    except media_table.StaleState:
        logger.info("Upload already settled", extra={"media_id": media.id})


def expire_stale_uploads(now: float | None = None) -> int:
    """Marks `expired` every asset whose upload window closed with no object verified; returns how many."""
    cutoff = int(clock() if now is None else now) - EXPIRY_GRACE_SECONDS
    expired = 0
    for media in media_table.pending_expired_before(cutoff):
        try:
            media_table.transition(
                media,
                {MediaStatus.PENDING_UPLOAD},
                deadline_before=cutoff,  # a part signed since the query moved the deadline on: not expired
                status=MediaStatus.EXPIRED,
                failure_reason="No upload arrived before the upload URL expired.",
                updated_at=datetime.now(UTC),
            )
        except media_table.StaleState:
            continue
        if media.upload_id:
            objects.abort_multipart(media.object_key, media.upload_id)
        objects.delete(media.object_key)
        expired += 1
    logger.info("Expired stale uploads", extra={"count": expired})
    return expired


def idempotency_payload(caller: Claims, key: str, request: CreateMedia) -> dict[str, Any]:
    """What Powertools Idempotency hashes: the key per caller, and the body it validates on replay."""
    return {"caller": caller.subject, "key": key, "body": request.model_dump(mode="json")}
