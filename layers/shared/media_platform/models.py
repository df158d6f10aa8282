"""Pydantic models at the API boundary (requests forbid unknown fields) and the stored user item."""

from __future__ import annotations

import re
import unicodedata
from datetime import date as date_type
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from media_platform.settings import get_settings
from media_platform.sniffing import ALLOWED_CONTENT_TYPES

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 raises on longer input
MAX_EMAIL_CHARS = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SPECIALS = set('<>()[]\\,;:"')  # RFC 5322 specials, which an unquoted address never holds
# The published form of an email (JSON Schema `pattern`, ECMA-262 and Python alike): printable ASCII but space, `@`
# and the specials, and a domain with a dot that does not end the address. Every match is accepted as it is sent; the
# server accepts more (surrounding spaces, Unicode letters, NFKC-normalised), which no portable pattern can say
# without letting through characters that normalise into `@`, a space or a special.
_ATOM_CHAR = "-!#-'*+.-9=?A-Z^-~"
EMAIL_PATTERN = rf"^[{_ATOM_CHAR}]+@[{_ATOM_CHAR}]+\.[{_ATOM_CHAR}]*[{_ATOM_CHAR.replace('.-9', '/-9')}]$"


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


def normalize_email(value: str) -> str:
    """One spelling per mailbox: NFKC (full-width letters become ASCII), case-folded, no trailing dot on the
    domain. Control, invisible and markup characters are refused rather than stored and echoed."""
    if any(unicodedata.category(char).startswith("C") for char in value):
        raise ValueError("must not contain control or invisible characters")
    email = unicodedata.normalize("NFKC", value).strip().casefold().rstrip(".")
    if any(char in _SPECIALS for char in email):
        raise ValueError('must not contain markup, quotes or other special characters (<>()[]\\,;:")')
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.match(email):
        raise ValueError("must be a valid email address")
    return email


def check_password(value: str) -> str:
    """The byte limit that no JSON Schema keyword can state (`maxLength` counts characters)."""
    if len(value.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(f"must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt's limit)")
    return value


Email = Annotated[
    str,
    Field(
        max_length=MAX_EMAIL_CHARS,
        examples=["ada@example.com"],
        description="Compared case-insensitively. Also accepted: surrounding spaces and Unicode letters (NFKC).",
        json_schema_extra={"format": "email", "pattern": EMAIL_PATTERN},
    ),
    AfterValidator(normalize_email),
]
Password = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_CHARS,
        max_length=MAX_PASSWORD_BYTES,
        examples=["correct horse battery"],
        description=f"At most {MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt's limit): fewer characters when not ASCII.",
    ),
    AfterValidator(check_password),
]


class Strict(BaseModel):
    """Request bodies refuse unknown fields. Their numbers and flags are strict too (`"1831"`, `1831.0` or `true`
    is no size); not the whole model, since FastAPI validates parsed JSON, where a strict enum wants an instance.
    JSON Schema's `integer` admits `1831.0`, so the descriptions of strict integers say what the schema cannot."""

    model_config = ConfigDict(extra="forbid")


class SignupRequest(Strict):
    email: Email
    password: Password


class LoginRequest(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class RoleChange(Strict):
    role: Role


class UserOut(BaseModel):
    id: str
    email: str
    role: Role
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int


class User(BaseModel):
    """A user as stored; carries the hash, so it never leaves the service (see `public`)."""

    id: str
    email: str
    role: Role
    password_hash: str
    created_at: datetime
    # Tokens issued before this moment (epoch seconds) are refused: set by logout and by a role change.
    tokens_valid_after: float | None = None

    def public(self) -> UserOut:
        return UserOut(id=self.id, email=self.email, role=self.role, created_at=self.created_at)


class MediaStatus(StrEnum):
    PENDING_UPLOAD = "pending_upload"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"
    DELETED = "deleted"


def check_content_type(value: str) -> str:
    content_type = value.strip().lower()
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise ValueError(f"must be one of {', '.join(sorted(ALLOWED_CONTENT_TYPES))}")
    return content_type


WHOLE_NUMBER = "a JSON integer, written without a fraction (12, not 12.0)"
MIN_PART_BYTES = 5 * 1024**2  # S3's minimum for every part but the last, hence for any multipart upload
Title = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str | None, Field(max_length=5000)]
ContentType = Annotated[
    str,
    Field(
        max_length=100,
        examples=["video/mp4"],
        description="Compared case-insensitively, surrounding spaces ignored.",
        json_schema_extra={"enum": sorted(ALLOWED_CONTENT_TYPES)},
    ),
    AfterValidator(check_content_type),
]


def _upload_size_rules(schema: dict[str, Any]) -> None:
    """States the size limits that `uploads.create_upload` checks against this deployment's settings: the largest
    upload, and 5 MiB at least for a multipart one (asked for, or implied above the presigned POST's limit)."""
    settings = get_settings()
    schema["properties"]["size_bytes"]["maximum"] = settings.upload_max_bytes
    schema["properties"]["multipart"]["description"] = (
        f"Ask for a multipart upload. Implied above {settings.upload_post_max_bytes} bytes (one POST's limit)."
    )
    at_least_a_part = {"properties": {"size_bytes": {"minimum": MIN_PART_BYTES}}}
    schema["allOf"] = [
        {"if": {"properties": {"multipart": {"const": True}}, "required": ["multipart"]}, "then": at_least_a_part}
    ]
    if settings.upload_post_max_bytes < MIN_PART_BYTES:  # only then can an implied multipart upload be too small
        implied = {"properties": {"size_bytes": {"exclusiveMinimum": settings.upload_post_max_bytes}}}
        schema["allOf"].append({"if": implied, "then": at_least_a_part})


class CreateMedia(Strict):
    model_config = ConfigDict(json_schema_extra=_upload_size_rules)

    title: Title
    description: Description = None
    filename: str = Field(min_length=1, max_length=255, description="Kept as metadata only; never shapes the key.")
    content_type: ContentType
    size_bytes: int = Field(
        gt=0,
        strict=True,
        description=f"Exact size of the file, in bytes: {WHOLE_NUMBER}. A multipart upload needs at least 5 MiB.",
    )
    multipart: bool = Field(default=False, strict=True)


def refuse_null(value: str | None) -> str:
    if value is None:
        raise ValueError("may be changed or left out, but not removed")
    return value


def _omittable_not_null(schema: dict[str, Any]) -> None:
    """In the schema, what `refuse_null` makes of an optional field: it may be left out (None, the default, is
    never validated), but is never null."""
    schema.pop("default", None)
    schema.update(next(branch for branch in schema.pop("anyOf") if branch != {"type": "null"}))


class UpdateMedia(Strict):
    """Send at least one field. The title may be changed, never removed; the description may be removed (null)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    title: Annotated[Title | None, AfterValidator(refuse_null)] = Field(
        default=None, json_schema_extra=_omittable_not_null
    )
    description: Description = None


class CompletedPart(Strict):
    part_number: int = Field(ge=1, le=10000, strict=True, description=WHOLE_NUMBER)
    etag: str = Field(min_length=1, max_length=200, description="The ETag S3 answered the part's upload with.")


class CompleteUpload(Strict):
    parts: list[CompletedPart] = Field(
        min_length=1, max_length=10000, description="Every part, in order: part_number 1, 2, 3, and so on."
    )


MAX_PARTS_PER_REQUEST = 100  # presigned part URLs per answer: the create response's and the parts endpoint's


def refuse_repeats(numbers: list[int]) -> list[int]:
    if len(set(numbers)) != len(numbers):
        raise ValueError("must not name a part twice")
    return numbers


PartNumber = Annotated[int, Field(ge=1, le=10000, strict=True)]


class SignParts(Strict):
    part_numbers: Annotated[list[PartNumber], AfterValidator(refuse_repeats)] = Field(
        min_length=1,
        max_length=MAX_PARTS_PER_REQUEST,
        json_schema_extra={"uniqueItems": True},
        description=f"The parts to sign, each named once, at most {MAX_PARTS_PER_REQUEST}: numbers from 1 to the "
        f"upload's part_count, each {WHOLE_NUMBER}.",
    )


class MediaOut(BaseModel):
    id: str
    title: str
    description: str | None = None
    filename: str
    content_type: str
    size_bytes: int
    status: MediaStatus
    owner_id: str
    created_at: datetime
    updated_at: datetime
    failure_reason: str | None = None
    detected_type: str | None = None
    etag: str | None = None


class PostUpload(BaseModel):
    method: str = "POST"
    url: str
    fields: dict[str, str]
    expires_at: datetime


class PartUpload(BaseModel):
    part_number: int
    url: str


class MultipartUpload(BaseModel):
    method: str = "multipart"
    upload_id: str
    part_size: int = Field(description="Bytes in every part but the last.")
    part_count: int
    parts: list[PartUpload] = Field(
        description=f"Presigned UploadPart URLs (PUT) of the first {MAX_PARTS_PER_REQUEST} parts at most; sign the "
        "others, and again any whose URL expired, with POST /media/{media_id}/upload/parts."
    )
    expires_at: datetime = Field(description="When these URLs stop working.")


class SignedParts(BaseModel):
    upload_id: str
    part_size: int = Field(description="Bytes in every part but the last.")
    part_count: int
    parts: list[PartUpload] = Field(description="A fresh presigned UploadPart URL (PUT) for each part asked for.")
    expires_at: datetime = Field(description="When these URLs stop working.")


class StoredPart(BaseModel):
    part_number: int
    size: int
    etag: str = Field(description="Send it back in POST /media/{media_id}/upload/complete.")


class MultipartUploadState(BaseModel):
    method: str = "multipart"
    upload_id: str
    part_size: int = Field(description="Bytes in every part but the last.")
    part_count: int
    parts: list[StoredPart] = Field(description="The parts S3 holds, by part number.")
    object_received: bool = Field(description="The upload was completed: S3 holds the object, now being verified.")
    expires_at: datetime = Field(
        description="The asset ends expired soon after this unless the upload completes; signing parts moves it on."
    )


class PostUploadState(BaseModel):
    method: str = "POST"
    object_received: bool = Field(description="S3 holds the uploaded object (it is verified next).")
    expires_at: datetime = Field(description="The asset ends expired soon after this unless the object arrives.")


class CreatedMedia(BaseModel):
    media: MediaOut
    upload: PostUpload | MultipartUpload

    @model_validator(mode="before")
    @classmethod
    def _count_parts_of_older_records(cls, data: Any) -> Any:
        """An Idempotency-Key's record (kept a day) written before part_count was answered: counted as it was."""
        upload = data.get("upload") if isinstance(data, dict) else None
        if isinstance(upload, dict) and upload.get("method") == "multipart" and "part_count" not in upload:
            size, part_size = data["media"]["size_bytes"], upload["part_size"]
            data = {**data, "upload": {**upload, "part_count": -(-size // part_size)}}
        return data


class StreamUrl(BaseModel):
    url: str = Field(description="GET it (no Authorization header): 302 to the media's bytes, which serve Range.")
    expires_at: datetime
    expires_in: int = Field(description="Seconds until the URL stops working; ask for a new one before then.")


class NotCounted(StrEnum):
    """Why a view was logged but not counted."""

    REPEAT_WITHIN_WINDOW = "repeat_within_window"


class ViewResult(BaseModel):
    counted: bool = Field(description="Whether the view counted: once per viewer per media item per window.")
    reason: NotCounted | None = Field(default=None, description="Why it did not count; null when it did.")


class DailyViews(BaseModel):
    date: date_type = Field(description="A UTC day")
    views: int = Field(description="Counted views")
    unique_viewers: int


class MediaAnalytics(BaseModel):
    media_id: str
    first: date_type = Field(serialization_alias="from", description="The first UTC day of the range")
    last: date_type = Field(serialization_alias="to", description="The last UTC day of the range, included")
    total_views: int
    unique_viewers: int = Field(description="Distinct viewers across the range (merged sketches, within 2%)")
    daily: list[DailyViews] = Field(description="One row per day of the range, days without views included")


class TopMediaItem(BaseModel):
    media_id: str
    views: int
    unique_viewers: int = Field(description="Distinct viewers across the range (merged sketches, within 2%)")


class TopMedia(BaseModel):
    first: date_type = Field(serialization_alias="from")
    last: date_type = Field(serialization_alias="to")
    rolled_up_days: int = Field(description="Days of the range the daily rollup has reached: the ones counted here")
    items: list[TopMediaItem] = Field(description="Most viewed first")


class MediaPage(BaseModel):
    items: list[MediaOut]
    next_cursor: str | None = None


class Media(MediaOut):
    """An asset as stored: what the API shows, plus the object key and upload bookkeeping, which stay inside the
    service (see `public`)."""

    object_key: str
    upload_expires_at: int
    upload_id: str | None = None
    part_size: int | None = None  # of a multipart upload, fixed when it starts
    # The S3 version that verification checked: the only bytes ever served for this asset.
    version_id: str | None = None
    # Stream tokens issued before this moment (epoch seconds, to the millisecond) are refused: set by revoke-streams.
    streams_valid_after: float | None = None

    def public(self) -> MediaOut:
        internal = {"object_key", "upload_expires_at", "upload_id", "part_size", "version_id", "streams_valid_after"}
        return MediaOut.model_validate(self.model_dump(exclude=internal))


class Visibility(BaseModel):
    """Which media a caller sees, as data: of `anyones` statuses whoever owns it, of `own` statuses if the caller
    owns it. access.py makes it; Python applies it with `admits`, dal/media.py turns it into DynamoDB's filter."""

    model_config = ConfigDict(frozen=True)

    caller_id: str
    anyones: frozenset[MediaStatus]
    own: frozenset[MediaStatus] = frozenset()

    def admits(self, media: Media) -> bool:
        return media.status in self.anyones or (media.status in self.own and media.owner_id == self.caller_id)

    def narrowed_to(self, statuses: frozenset[MediaStatus]) -> Visibility:
        return Visibility(caller_id=self.caller_id, anyones=self.anyones & statuses, own=self.own & statuses)

    @property
    def statuses(self) -> frozenset[MediaStatus]:
        """Every status of which the caller sees anything."""
        return self.anyones | self.own
