"""The Content-Disposition a presigned GET asks S3 to answer with."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest

from media_platform.streaming import content_disposition

ATTR_CHARS = re.compile(r"^(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})*$")


def parsed(disposition: str) -> EmailMessage:
    """How a standard parser of RFC 2231/5987 parameters reads the header."""
    message = EmailMessage()
    message["Content-Disposition"] = disposition
    return message


@pytest.mark.parametrize(
    ("filename", "fallback", "decoded"),
    [
        ("keynote.mp4", "keynote.mp4", "keynote.mp4"),
        ('say "cheese".mp4', "say _cheese_.mp4", 'say "cheese".mp4'),
        ("a;b; filename=evil.exe", "a_b_ filename_evil.exe", "a;b; filename=evil.exe"),
        ("line\r\nContent-Type: text/html\n.mp4", "lineContent-Type_ text_html.mp4", "lineContent-Type: text_html.mp4"),
        ("Café déjà vu.mp4", "Cafe deja vu.mp4", "Café déjà vu.mp4"),
        ("日本語のビデオ.mp4", "_______.mp4", "日本語のビデオ.mp4"),
        ("🎬", "media", "🎬"),
        ("..\\..\\etc/passwd", ".._.._etc_passwd", ".._.._etc_passwd"),
        ("back\\slash%20.mp4", "back_slash_20.mp4", "back_slash%20.mp4"),
        ("\x00\x07", "media", "media"),
    ],
)
def test_the_filename_is_an_ascii_fallback_and_an_rfc_5987_value(filename: str, fallback: str, decoded: str) -> None:
    disposition = content_disposition(filename)

    assert disposition.isascii() and not any(ch in disposition for ch in "\r\n\x00")
    shape = re.fullmatch(r"(inline); filename=\"([^\"\\]*)\"; filename\*=UTF-8''(\S*)", disposition)
    assert shape, disposition
    head, quoted, star = shape.groups()
    assert (head, quoted) == ("inline", fallback)
    assert ATTR_CHARS.match(star), star
    assert parsed(disposition).get_content_disposition() == "inline"
    # Python's parser keeps the first of two filename parameters: read the RFC 5987 one on its own.
    assert parsed(f"inline; filename*=UTF-8''{star}").get_filename() == decoded
