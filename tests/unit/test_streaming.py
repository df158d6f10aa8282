"""The Content-Disposition a presigned GET asks S3 to answer with, and the base URL a stream URL is built on."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import pytest
from starlette.requests import Request

from media_platform.streaming import content_disposition
from media_platform.web import public_base_url

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


def event_request(headers: dict[str, str], **context: Any) -> Request:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    event = {"requestContext": {"domainName": "localhost", "stage": "$default", **context}}
    return Request({"type": "http", "headers": raw, "aws.event": event})


@pytest.mark.parametrize(
    ("headers", "context", "expected"),
    [
        (
            {"x-forwarded-proto": "https"},
            {"domainName": "media.example.com", "stage": "prod"},
            "https://media.example.com",
        ),
        (
            {"x-forwarded-proto": "https"},
            {"domainName": "abc.execute-api.us-east-1.amazonaws.com", "stage": "dev"},
            "https://abc.execute-api.us-east-1.amazonaws.com/dev",
        ),
        (
            {"x-forwarded-proto": "https"},
            {"domainName": "abc.execute-api.us-east-1.amazonaws.com", "stage": "$default"},
            "https://abc.execute-api.us-east-1.amazonaws.com",
        ),
        ({"x-forwarded-proto": "http"}, {"domainName": "127.0.0.1:3000"}, "http://127.0.0.1:3000"),
        ({"x-forwarded-proto": "javascript"}, {"domainName": "media.example.com"}, "https://media.example.com"),
        ({}, {"domainName": "media.example.com"}, "https://media.example.com"),
    ],
)
def test_the_base_url_is_the_host_and_stage_the_caller_reached(
    headers: dict[str, str], context: dict[str, str], expected: str
) -> None:
    assert public_base_url(event_request(headers, **context)) == expected
