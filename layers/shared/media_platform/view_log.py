"""The view recorder: every playback the stream endpoint starts is handed to `record_view`, once.

A placeholder until the analytics issue stores views: it logs each one (never the token that allowed it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from media_platform.observability import logger
from media_platform.tokens import TokenKind


@dataclass(frozen=True)
class View:
    media_id: str
    at: datetime
    source_ip: str | None
    user_agent: str | None
    user_id: str
    token_kind: TokenKind
    range: str | None


def record_view(view: View) -> None:
    logger.info(
        "Playback started",
        extra={
            "media_id": view.media_id,
            "viewed_at": view.at.isoformat(),
            "source_ip": view.source_ip,
            "user_agent": view.user_agent,
            "user_id": view.user_id,
            "token_kind": view.token_kind.value,
            "range": view.range,
        },
    )
