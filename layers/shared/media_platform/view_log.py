"""The view recorder: what a view is, who the viewer is, and whether it counts (the README's "What a view is").

- A stream request records a view unless its `Range` starts past byte 0: that is a player seeking inside a playback
  already recorded. `POST /media/{id}/view` always records one.
- The viewer is the signed-in user when the request carries an access token; otherwise (every stream-token request:
  stream URLs are handed to players and other devices) the client IP plus the user agent.
- A viewer counts once per media item per window: one conditional write on a marker decides, then the record is
  written, counted or not. Two writes per view.
- The record holds the viewer only as a keyed hash, and the client IP as `view_ip_mode` says."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from media_platform import tokens
from media_platform.dal import views
from media_platform.models import NotCounted
from media_platform.observability import logger
from media_platform.settings import get_settings
from media_platform.tokens import TokenKind

_RANGE_START = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-")


@dataclass(frozen=True)
class View:
    media_id: str
    owner_id: str
    at: datetime
    source_ip: str | None
    user_agent: str | None
    user_id: str
    token_kind: TokenKind
    range: str | None = None


@dataclass(frozen=True)
class Recorded:
    counted: bool
    reason: NotCounted | None


def starts_a_playback(range_header: str | None) -> bool:
    """False for a Range that starts past byte 0 (`bytes=100-`) or counts from the end (`bytes=-500`): a seek."""
    if not range_header:
        return True
    found = _RANGE_START.match(range_header)
    if found is None:
        return True  # not a byte range S3 will honour: the whole object, a playback
    start = found.group(1)
    return start != "" and int(start) == 0


def viewer_identity(view: View) -> str:
    if view.token_kind == TokenKind.ACCESS:
        return f"user:{view.user_id}"
    return f"client:{view.source_ip or '-'}\n{view.user_agent or ''}"


def keyed_hash(value: str) -> str:
    return hmac.new(tokens.secret_key("viewer_key_secret_name"), value.encode(), hashlib.sha256).hexdigest()[:32]


def kept_ip(source_ip: str | None, mode: str) -> str | None:
    """The client IP as a view record keeps it: as sent, truncated to its /24 or /48 network, or keyed-hashed."""
    if source_ip is None or mode == "full":
        return source_ip
    if mode == "hashed":
        return keyed_hash(f"ip:{source_ip}")
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return None  # not an address: nothing worth keeping in truncated form
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def record_view(view: View) -> Recorded:
    """Writes the view's record (and, if it opens a window, the viewer's marker). The caller decides with
    `starts_a_playback` whether a stream request is a view at all."""
    settings = get_settings()
    viewer = keyed_hash(viewer_identity(view))
    now_ms = int(view.at.timestamp() * 1000)
    counted = views.claim_window(view.media_id, viewer, now_ms, settings.view_window_seconds)
    record = views.ViewRecord(
        media_id=view.media_id,
        owner_id=view.owner_id,
        view_id=uuid.uuid4().hex,
        viewed_at=view.at,
        viewer=viewer,
        counted=counted,
        token_kind=view.token_kind.value,
        client_ip=kept_ip(view.source_ip, settings.view_ip_mode),
        user_agent=view.user_agent[:512] if view.user_agent else None,
        user_id=view.user_id,
        expires_at=int(view.at.timestamp()) + settings.view_retention_days * 86400,
    )
    views.put_view(record)
    reason = None if counted else NotCounted.REPEAT_WITHIN_WINDOW
    # The view log is the record of every view; a line each at INFO would double it in CloudWatch Logs (paid per
    # GB, one line per playback) and be the largest cost of a stream redirect. POWERTOOLS_LOG_LEVEL=DEBUG shows them.
    logger.debug(
        "View recorded",
        extra={
            "media_id": view.media_id,
            "counted": counted,
            "token_kind": view.token_kind.value,
            "view_id": record.view_id,
        },
    )
    return Recorded(counted, reason)
