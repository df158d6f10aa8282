"""The view rules that need no AWS: which stream requests are playbacks, and who the viewer is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from media_platform.tokens import TokenKind
from media_platform.view_log import View, kept_ip, starts_a_playback, viewer_identity


@pytest.mark.parametrize(
    ("range_header", "playback"),
    [
        (None, True),
        ("bytes=0-", True),
        ("bytes=0-1", True),  # Safari's probe
        ("bytes = 0-99", True),
        ("bytes=00-99", True),
        ("bytes=1-", False),
        ("bytes=100-199", False),
        ("bytes=-500", False),  # the last 500 bytes: a player reading the index at the end
        ("items=5-", True),  # not a byte range: S3 serves the whole object
    ],
)
def test_a_range_past_byte_zero_is_a_seek(range_header: str | None, playback: bool) -> None:
    assert starts_a_playback(range_header) is playback


def _view(kind: TokenKind, ip: str | None = "203.0.113.10", agent: str | None = "VLC") -> View:
    return View("m", "o", datetime(2026, 1, 1, tzinfo=UTC), ip, agent, "user-1", kind)


def test_the_viewer_is_the_user_for_an_access_token_and_the_client_for_a_stream_token() -> None:
    assert viewer_identity(_view(TokenKind.ACCESS)) == viewer_identity(_view(TokenKind.ACCESS, "198.51.100.1", "x"))
    assert viewer_identity(_view(TokenKind.STREAM)) != viewer_identity(_view(TokenKind.STREAM, agent="TV"))
    assert viewer_identity(_view(TokenKind.STREAM)) != viewer_identity(_view(TokenKind.STREAM, ip="198.51.100.1"))
    # the user of a stream token is not its viewer: the URL may play on a TV or another device
    assert "user-1" not in viewer_identity(_view(TokenKind.STREAM))


@pytest.mark.parametrize(
    ("ip", "kept"),
    [("203.0.113.77", "203.0.113.0"), ("2001:db8:abcd:12::1", "2001:db8:abcd::"), ("not an ip", None), (None, None)],
)
def test_truncation_keeps_the_24_or_48_network(ip: str | None, kept: str | None) -> None:
    assert kept_ip(ip, "truncated") == kept
