"""What S3 refuses, end to end: the product's own presigned POST and URLs, tampered with or used too late, sent over
HTTP to the local stack's S3 (moto behind the S3 front). Each refusal is S3's status and error code, nothing is
stored, and the asset never becomes ready; the untampered request is then accepted, so the refusal was the check's."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import httpx
import pytest

from devtools.local_stack import LocalStack
from tests.e2e.conftest import Member, s3_clock_ahead
from tests.e2e.test_streaming_over_http import stream_url
from tests.e2e.test_uploads_over_http import (
    MiB,
    bucket,
    create,
    emulated_s3,
    object_exists,
    upload_ready,
    versions_of,
    wait_until_settled,
)

MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"
MP4 = (MEDIA / "sample.mp4").read_bytes()
HTML = (MEDIA / "not-video.html").read_bytes()
EXPIRY = 900  # UploadUrlExpirySeconds


def error_code(response: httpx.Response) -> str:
    return str(ElementTree.fromstring(response.content).findtext("Code"))  # noqa: S314 (the local emulator's answer)


def send(upload: dict[str, Any], fields: dict[str, str], data: bytes, content_type: str) -> httpx.Response:
    return httpx.post(upload["url"], data=fields, files={"file": ("clip.mp4", data, content_type)})


def still_pending(api: httpx.Client, who: Member, media_id: str) -> bool:
    time.sleep(1)  # what a notification would take to turn into a state change
    return bool(api.get(f"/media/{media_id}", headers=who.auth).json()["status"] == "pending_upload")


Tamper = Callable[[dict[str, str], str], tuple[dict[str, str], bytes, str]]
TAMPERS: dict[str, tuple[Tamper, int, str]] = {
    "zeroed signature": (
        lambda f, _: ({**f, "x-amz-signature": "0" * 64}, MP4, "video/mp4"),
        403,
        "SignatureDoesNotMatch",
    ),
    "another asset's key": (lambda f, other: ({**f, "key": f"uploads/{other}"}, MP4, "video/mp4"), 403, "AccessDenied"),
    "a key outside uploads/": (lambda f, _: ({**f, "key": "public/index.html"}, MP4, "video/mp4"), 403, "AccessDenied"),
    "Content-Type text/html": (
        lambda f, _: ({**f, "Content-Type": "text/html"}, HTML, "text/html"),
        403,
        "AccessDenied",
    ),
    "a bigger body": (lambda f, _: (f, MP4 + b"\0", "video/mp4"), 400, "EntityTooLarge"),
    "an extra field": (lambda f, _: ({**f, "x-amz-meta-owner": "me"}, MP4, "video/mp4"), 403, "AccessDenied"),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_s3_refuses_a_tampered_presigned_post_and_stores_nothing(
    api: httpx.Client, editor: Member, local_stack: LocalStack, tamper: str
) -> None:
    # Given an asset awaiting its upload, and another one
    created = create(api, editor, "video/mp4", len(MP4))
    other = create(api, editor, "video/mp4", len(MP4))["media"]["id"]
    upload, media_id = created["upload"], created["media"]["id"]
    change, status, code = TAMPERS[tamper]

    # When the form is sent tampered with
    refused = send(upload, *change(upload["fields"], other))

    # Then S3 refuses it as S3 does, stores nothing under either key, and neither asset moves on
    assert (refused.status_code, error_code(refused)) == (status, code), refused.text
    assert not object_exists(local_stack, media_id) and not object_exists(local_stack, other)
    assert still_pending(api, editor, media_id) and still_pending(api, editor, other)
    # and the very same form, untampered, is stored and verified
    assert send(upload, upload["fields"], MP4, "video/mp4").status_code == 204
    assert wait_until_settled(api, editor, media_id)["status"] == "ready"
    assert len(versions_of(local_stack, media_id)) == 1


def test_s3_refuses_the_presigned_post_once_its_policy_expired(
    api: httpx.Client, editor: Member, local_stack: LocalStack
) -> None:
    created = create(api, editor, "video/mp4", len(MP4))
    upload, media_id = created["upload"], created["media"]["id"]

    with s3_clock_ahead(local_stack, EXPIRY + 5):
        refused = send(upload, upload["fields"], MP4, "video/mp4")

    assert (refused.status_code, error_code(refused)) == (403, "AccessDenied")
    assert "Policy expired" in refused.text
    assert not object_exists(local_stack, media_id) and still_pending(api, editor, media_id)


def test_s3_refuses_a_form_without_the_policy(api: httpx.Client, editor: Member, local_stack: LocalStack) -> None:
    created = create(api, editor, "video/mp4", len(MP4))
    fields = {"key": created["upload"]["fields"]["key"], "Content-Type": "video/mp4"}

    refused = send(created["upload"], fields, MP4, "video/mp4")

    assert (refused.status_code, error_code(refused)) == (403, "AccessDenied")
    assert not object_exists(local_stack, created["media"]["id"])


def test_a_stream_redirect_stops_working_when_its_presigned_get_expires(
    api: httpx.Client, editor: Member, viewer: Member, local_stack: LocalStack
) -> None:
    # Given the presigned GET a stream URL redirects to
    media_id = upload_ready(api, editor, MP4, "video/mp4")
    location = httpx.get(stream_url(api, viewer, media_id)).headers["location"]
    expires = int(parse_qs(urlsplit(location).query)["X-Amz-Expires"][0])

    # When it is used in time, and a second after it expired
    in_time = httpx.get(location, headers={"Range": "bytes=0-9"})
    with s3_clock_ahead(local_stack, expires + 1):
        late = httpx.get(location, headers={"Range": "bytes=0-9"})

    # Then S3 serves the first and refuses the second as expired
    assert (in_time.status_code, in_time.content) == (206, MP4[:10])
    assert (late.status_code, error_code(late)) == (403, "AccessDenied") and "Request has expired" in late.text


def test_a_presigned_get_edited_to_another_version_does_not_match(
    api: httpx.Client, editor: Member, viewer: Member
) -> None:
    media_id = upload_ready(api, editor, MP4, "video/mp4")
    location = httpx.get(stream_url(api, viewer, media_id)).headers["location"]

    edited = httpx.get(location.replace("versionId=", "versionId=x"))

    assert (edited.status_code, error_code(edited)) == (403, "SignatureDoesNotMatch")


def test_an_expired_part_url_is_refused_and_stores_no_part(
    api: httpx.Client, editor: Member, local_stack: LocalStack
) -> None:
    created = create(api, editor, "video/webm", 6 * MiB, multipart=True)
    upload, key = created["upload"], f"uploads/{created['media']['id']}"

    with s3_clock_ahead(local_stack, EXPIRY + 5):
        late = httpx.put(upload["parts"][0]["url"], content=b"x" * (5 * MiB))

    assert (late.status_code, error_code(late)) == (403, "AccessDenied") and "Request has expired" in late.text
    parts = emulated_s3(local_stack).list_parts(Bucket=bucket(local_stack), Key=key, UploadId=upload["upload_id"])
    assert parts.get("Parts", []) == []
