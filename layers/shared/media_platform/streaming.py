"""Use cases of playback: issuing a stream URL, redeeming it for a presigned GET of the verified bytes, and
revoking a media item's stream URLs.

Media bytes never pass through Lambda: the stream endpoint answers 302 to S3, whose presigned GET serves Range
requests. A URL signed with a Lambda role's temporary credentials dies with them, whatever its own expiry; it lives
no longer than the token it was issued for, and players ask for a new stream URL before `expires_at`."""

from __future__ import annotations

import math
import re
import unicodedata
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import quote

from media_platform import access, tokens
from media_platform.dal import media as media_table
from media_platform.dal import objects
from media_platform.errors import Conflict, Forbidden, Gone, NotAuthenticated, NotFound
from media_platform.models import Media, MediaStatus, StreamUrl
from media_platform.observability import logger
from media_platform.settings import get_settings
from media_platform.tokens import Claims, StreamClaims, TokenKind
from media_platform.view_log import Recorded, View, record_view

STREAM_PATH = "/media/stream/{media_id}"
# RFC 5987 attr-char, besides letters and digits: what filename*= may carry unencoded.
_ATTR_CHARS = "!#$&+-.^_`|~"
_UNSAFE_FALLBACK = re.compile(r"[^A-Za-z0-9 ._()-]")


@dataclass(frozen=True)
class Viewing:
    """Ready media and who is watching it, with which kind of token: what a view record is made from."""

    media: Media
    user_id: str
    token_kind: TokenKind
    remaining_seconds: int

    def view(self, source_ip: str | None, user_agent: str | None, range_header: str | None = None) -> View:
        return View(
            media_id=self.media.id,
            owner_id=self.media.owner_id,
            at=datetime.fromtimestamp(tokens.clock(), UTC),
            source_ip=source_ip,
            user_agent=user_agent,
            user_id=self.user_id,
            token_kind=self.token_kind,
            range=range_header,
        )


@dataclass(frozen=True)
class Playback:
    """Where the player goes next, and who is playing what (for the view recorder)."""

    location: str
    viewing: Viewing


def issue_stream_url(caller: Claims, media_id: str, base_url: str) -> StreamUrl:
    """A stream URL on `base_url` (the API as the caller reached it) for media the caller may see."""
    media = access.find_visible(caller, media_id)
    if media.status != MediaStatus.READY:
        raise Conflict(f"The media is {media.status.value}; only ready media can be streamed.")
    token, issued = tokens.issue_stream_token(caller.subject, media.id, get_settings().stream_token_ttl_seconds)
    path = STREAM_PATH.format(media_id=media.id)
    logger.info("Stream URL issued", extra={"media_id": media.id, "user_id": caller.subject, "jti": issued.token_id})
    return StreamUrl(
        url=f"{base_url}{path}?token={token}",  # base64url and dots: nothing to quote (a unit test holds it)
        expires_at=datetime.fromtimestamp(issued.expires_at, UTC),
        expires_in=issued.remaining_seconds(),
    )


def redeem_stream_token(token: str, media_id: str) -> Playback:
    """The stream token's playback: for this media, still ready, and issued after its streams were last revoked.
    One read, the media item's."""
    return _playback(viewing_by_stream_token(token, media_id))


def redeem_access_token(caller: Claims, media_id: str) -> Playback:
    """Playback for a signed-in caller (an access token as Bearer): ready media are everyone's to see."""
    return _playback(viewing_by_access_token(caller, media_id))


def viewing_by_stream_token(token: str, media_id: str) -> Viewing:
    claims = tokens.verify_stream_token(token)
    if claims.media_id != media_id:
        raise Forbidden("This stream URL is for other media.")
    media = _streamable(media_id)
    if _revoked(claims, media):
        raise NotAuthenticated("This stream URL was revoked; ask for a new one.")
    return Viewing(media, claims.subject, TokenKind.STREAM, claims.remaining_seconds())


def viewing_by_access_token(caller: Claims, media_id: str) -> Viewing:
    remaining = max(0, int(caller.expires_at - tokens.clock()))
    return Viewing(_streamable(media_id), caller.subject, TokenKind.ACCESS, remaining)


def record_manual_view(viewing: Viewing, source_ip: str | None, user_agent: str | None) -> Recorded:
    """`POST /media/{id}/view`, the original API's manual log: always a view (there is no Range to seek with)."""
    return record_view(viewing.view(source_ip, user_agent))


def revoke_streams(caller: Claims, media_id: str) -> None:
    """Every stream token of the media issued until now is refused from now on; tokens issued later work."""
    media = access.find_manageable(caller, media_id)
    # Tokens carry iat to the millisecond (rounded): valid from the millisecond after any that rounds to now.
    valid_after = (math.ceil(tokens.clock() * 1000) + 1) / 1000
    with suppress(media_table.StaleState):  # revoked later meanwhile, which covers this revocation too
        media_table.revoke_streams(media.id, valid_after)
    logger.info("Streams revoked", extra={"media_id": media.id, "user_id": caller.subject})


def _revoked(claims: StreamClaims, media: Media) -> bool:
    return media.streams_valid_after is not None and claims.issued_at < media.streams_valid_after


def _streamable(media_id: str) -> Media:
    media = media_table.get(media_id) if access.is_media_id(media_id) else None
    if media is None:
        raise NotFound("No such media.")
    if media.status in {MediaStatus.DELETED, MediaStatus.FAILED}:
        raise Gone(f"The media is {media.status.value}; it can no longer be streamed.")
    if media.status != MediaStatus.READY or not media.version_id:
        raise NotFound("No such media.")
    return media


def _playback(viewing: Viewing) -> Playback:
    if viewing.remaining_seconds < 1:
        raise NotAuthenticated("The token is about to expire; ask for a new stream URL.")
    media = viewing.media
    assert media.version_id  # checked by _streamable
    location = objects.presigned_get(
        media.object_key,
        media.version_id,
        content_type=media.content_type,
        disposition=content_disposition(media.filename),
        expires_in=min(viewing.remaining_seconds, get_settings().stream_token_ttl_seconds),
    )
    return Playback(location, viewing)


def _ascii_fallback(char: str) -> str:
    """An accent is dropped from its letter (`é` → `e`); any other non-ASCII character becomes `_`."""
    if char.isascii():
        return char
    return "" if unicodedata.category(char) == "Mn" else "_"


@lru_cache(maxsize=1024)  # a warm function streams the same media many times
def content_disposition(filename: str) -> str:
    """`inline` with the original filename twice: an ASCII `filename=` fallback, safe inside its quotes, and the
    RFC 5987 `filename*=UTF-8''…` that real S3 requires for anything else (it refuses raw non-ASCII)."""
    name = "".join(ch for ch in unicodedata.normalize("NFC", filename) if unicodedata.category(ch)[0] != "C")
    name = name.replace("/", "_").replace("\\", "_").strip() or "media"
    fallback = _UNSAFE_FALLBACK.sub("_", "".join(_ascii_fallback(ch) for ch in unicodedata.normalize("NFKD", name)))
    if not any(ch.isalnum() for ch in fallback):
        fallback = "media"
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}"
