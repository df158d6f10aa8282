"""Uploads end to end: POST /media over HTTP, the bytes straight to the emulator's S3 with the presigned request,
S3 -> SQS -> the real upload processor, and the asset's state read back over HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from devtools.local_stack import LocalStack
from tests.e2e.conftest import Member

MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"
MiB = 1024**2
SAMPLES = {
    "sample.mp4": "video/mp4",
    "sample.mov": "video/quicktime",
    "sample.webm": "video/webm",
    "sample.mkv": "video/x-matroska",
    "sample.mp3": "audio/mpeg",
    "sample.m4a": "audio/mp4",
    "sample.aac": "audio/aac",
    "sample.wav": "audio/wav",
    "sample.ogg": "audio/ogg",
    "sample.flac": "audio/flac",
}


def create(api: httpx.Client, who: Member, content_type: str, size: int, **extra: Any) -> dict[str, Any]:
    body = {"title": "Clip", "filename": "clip.bin", "content_type": content_type, "size_bytes": size, **extra}
    response = api.post("/media", json=body, headers=who.auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def post_upload(upload: dict[str, Any], data: bytes, content_type: str) -> None:
    response = httpx.post(upload["url"], data=upload["fields"], files={"file": ("clip", data, content_type)})
    assert response.status_code in (200, 201, 204), response.text


def wait_until_settled(api: httpx.Client, who: Member, media_id: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        media: dict[str, Any] = api.get(f"/media/{media_id}", headers=who.auth).json()
        if media["status"] != "pending_upload" or time.monotonic() > deadline:
            return media
        time.sleep(0.2)


def upload_ready(api: httpx.Client, who: Member, data: bytes, content_type: str) -> str:
    """A media item uploaded with its presigned POST and verified: its id, once `ready`."""
    created = create(api, who, content_type, len(data))
    post_upload(created["upload"], data, content_type)
    media = wait_until_settled(api, who, created["media"]["id"])
    assert media["status"] == "ready", media
    return str(media["id"])


def emulated_s3(stack: LocalStack) -> Any:
    return boto3.client("s3", region_name="us-east-1", endpoint_url=stack.aws_url)


def versions_of(stack: LocalStack, media_id: str) -> list[str]:
    listed = emulated_s3(stack).list_object_versions(Bucket=bucket(stack), Prefix=f"uploads/{media_id}")
    return [v["VersionId"] for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]]


def object_exists(stack: LocalStack, media_id: str) -> bool:
    """Any version at all: a delete marker over the uploaded bytes would still count."""
    return bool(versions_of(stack, media_id))


def gone_soon(stack: LocalStack, media_id: str, timeout: float = 10) -> bool:
    """The processor marks the asset failed, then deletes every version: the state may be read in between."""
    deadline = time.monotonic() + timeout
    while object_exists(stack, media_id):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def bucket(stack: LocalStack) -> str:
    return stack.template.physical_name("MediaBucket")


@pytest.mark.parametrize(("sample", "content_type"), sorted(SAMPLES.items()))
def test_a_real_file_uploaded_with_the_presigned_post_becomes_ready(
    api: httpx.Client, editor: Member, sample: str, content_type: str
) -> None:
    data = (MEDIA / sample).read_bytes()
    created = create(api, editor, content_type, len(data))

    post_upload(created["upload"], data, content_type)

    media = wait_until_settled(api, editor, created["media"]["id"])
    assert media["status"] == "ready", media
    assert media["size_bytes"] == len(data) and media["detected_type"]


@pytest.mark.parametrize("impostor", ["not-video.html", "not-video.elf"])
def test_a_renamed_non_media_file_fails_and_its_object_is_deleted(
    api: httpx.Client, editor: Member, local_stack: LocalStack, impostor: str
) -> None:
    data = (MEDIA / impostor).read_bytes()
    created = create(api, editor, "video/mp4", len(data))

    post_upload(created["upload"], data, "video/mp4")

    media = wait_until_settled(api, editor, created["media"]["id"])
    assert media["status"] == "failed" and "not video/mp4" in media["failure_reason"]
    assert gone_soon(local_stack, media["id"])


def test_a_size_mismatch_fails(api: httpx.Client, editor: Member, local_stack: LocalStack) -> None:
    data = (MEDIA / "sample.mp3").read_bytes()
    created = create(api, editor, "audio/mpeg", len(data) + 100)  # within the policy's range: S3 stores it

    post_upload(created["upload"], data, "audio/mpeg")

    media = wait_until_settled(api, editor, created["media"]["id"])
    assert media["status"] == "failed" and "declared" in media["failure_reason"]
    assert gone_soon(local_stack, media["id"])


def test_a_duplicate_notification_changes_nothing(api: httpx.Client, editor: Member, local_stack: LocalStack) -> None:
    data = (MEDIA / "sample.wav").read_bytes()
    created = create(api, editor, "audio/wav", len(data))
    post_upload(created["upload"], data, "audio/wav")
    ready = wait_until_settled(api, editor, created["media"]["id"])
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=local_stack.aws_url)
    queue = sqs.get_queue_url(QueueName=local_stack.template.physical_name("UploadsQueue"))["QueueUrl"]
    key = f"uploads%2F{ready['id']}"
    record = {
        "eventName": "ObjectCreated:Post",
        "s3": {"bucket": {"name": bucket(local_stack)}, "object": {"key": key}},
    }

    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"Records": [record]}))
    deadline = time.monotonic() + 10
    while (
        int(
            sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
        )
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    time.sleep(1)

    assert api.get(f"/media/{ready['id']}", headers=editor.auth).json() == ready


def test_replaying_the_presigned_post_after_verification_changes_no_served_byte(
    api: httpx.Client, editor: Member, local_stack: LocalStack
) -> None:
    # Given an MP4 uploaded with its presigned POST and verified
    data = (MEDIA / "sample.mp4").read_bytes()
    created = create(api, editor, "video/mp4", len(data))
    post_upload(created["upload"], data, "video/mp4")
    ready = wait_until_settled(api, editor, created["media"]["id"])
    assert ready["status"] == "ready"

    # When the same, still-valid POST is replayed with an HTML page of the same size
    html = b"<!doctype html><script>steal()</script>".ljust(len(data), b" ")
    post_upload(created["upload"], html, "text/html")
    deadline = time.monotonic() + 20
    while len(versions_of(local_stack, ready["id"])) > 1 and time.monotonic() < deadline:
        time.sleep(0.2)

    # Then the processor has deleted the replayed version: S3 holds, and serves, only the verified bytes
    assert len(versions_of(local_stack, ready["id"])) == 1
    served = emulated_s3(local_stack).get_object(Bucket=bucket(local_stack), Key=f"uploads/{ready['id']}")
    assert served["Body"].read() == data and served["ETag"].strip('"') == ready["etag"]
    assert api.get(f"/media/{ready['id']}", headers=editor.auth).json() == ready


def test_a_multipart_upload_of_two_5_mib_parts_becomes_ready(api: httpx.Client, editor: Member) -> None:
    header = (MEDIA / "sample.mp4").read_bytes()
    data = header + b"\0" * (10 * MiB - len(header))
    created = create(api, editor, "video/mp4", len(data), multipart=True)
    upload = created["upload"]
    assert upload["method"] == "multipart" and upload["part_size"] == 5 * MiB and len(upload["parts"]) == 2

    etags = []
    for part in upload["parts"]:
        start = (part["part_number"] - 1) * upload["part_size"]
        response = httpx.put(part["url"], content=data[start : start + upload["part_size"]])
        assert response.status_code == 200, response.text
        etags.append({"part_number": part["part_number"], "etag": response.headers["ETag"]})
    completed = api.post(f"/media/{created['media']['id']}/upload/complete", json={"parts": etags}, headers=editor.auth)

    assert completed.status_code == 202, completed.text
    media = wait_until_settled(api, editor, created["media"]["id"])
    assert media["status"] == "ready" and media["size_bytes"] == 10 * MiB


def test_an_upload_that_never_comes_expires(api: httpx.Client, editor: Member, local_stack: LocalStack) -> None:
    created = create(api, editor, "video/mp4", 1000)
    table = boto3.resource("dynamodb", region_name="us-east-1", endpoint_url=local_stack.aws_url).Table(
        local_stack.template.physical_name("MediaTable")
    )
    table.update_item(
        Key={"media_id": created["media"]["id"]},
        UpdateExpression="SET upload_expires_at = :past",
        ExpressionAttributeValues={":past": int(time.time()) - 3600},
    )

    local_stack.run_scheduled("UploadExpiryFunction")

    media = api.get(f"/media/{created['media']['id']}", headers=editor.auth).json()
    assert media["status"] == "expired"


def test_roles_and_ownership_over_http(api: httpx.Client, editor: Member, other_editor: Member, viewer: Member) -> None:
    pending = create(api, editor, "video/mp4", 1000)["media"]["id"]
    body = {"title": "Mine", "filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 10}

    assert api.post("/media", json=body, headers=viewer.auth).status_code == 403
    assert api.post("/media", json=body).status_code == 401
    assert api.get(f"/media/{pending}", headers=other_editor.auth).status_code == 404
    assert api.patch(f"/media/{pending}", json={"title": "x"}, headers=other_editor.auth).status_code == 404
    assert api.delete(f"/media/{pending}", headers=other_editor.auth).status_code == 404
    assert api.get(f"/media/{pending}", headers=viewer.auth).status_code == 404
    assert api.get("/media/not-a-uuid", headers=editor.auth).status_code == 404
    listed = api.get("/media", params={"limit": 100}, headers=viewer.auth).json()["items"]
    assert all(item["status"] == "ready" for item in listed)
    assert api.delete(f"/media/{pending}", headers=editor.auth).status_code == 204
    assert api.delete(f"/media/{pending}", headers=editor.auth).status_code == 204


@pytest.mark.parametrize(("origin", "allowed"), [("http://localhost:3000", True), ("https://evil.example", False)])
def test_bucket_cors_lets_only_configured_origins_upload(local_stack: LocalStack, origin: str, allowed: bool) -> None:
    preflight = httpx.options(
        f"{local_stack.aws_url}/{bucket(local_stack)}/uploads/x",
        headers={"Origin": origin, "Access-Control-Request-Method": "PUT"},
    )

    assert (preflight.headers.get("access-control-allow-origin") == origin) is allowed
    if allowed:
        assert "PUT" in preflight.headers["access-control-allow-methods"]
        assert "ETag" in preflight.headers.get("access-control-expose-headers", "")


def test_editing_and_aborting_over_http(api: httpx.Client, editor: Member, local_stack: LocalStack) -> None:
    created = create(api, editor, "video/webm", 6 * MiB, multipart=True)
    media_id = created["media"]["id"]

    renamed = api.patch(f"/media/{media_id}", json={"title": "Renamed", "description": "d"}, headers=editor.auth)
    aborted = api.delete(f"/media/{media_id}/upload", headers=editor.auth)
    again = api.delete(f"/media/{media_id}/upload", headers=editor.auth)

    assert renamed.status_code == 200 and renamed.json()["title"] == "Renamed"
    assert (aborted.status_code, again.status_code) == (204, 204)
    media = api.get(f"/media/{media_id}", headers=editor.auth).json()
    assert media["status"] == "failed" and media["title"] == "Renamed"
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=local_stack.aws_url)
    uploads = s3.list_multipart_uploads(Bucket=bucket(local_stack)).get("Uploads", [])
    assert all(u["Key"] != f"uploads/{media_id}" for u in uploads)


def test_a_crashed_multipart_upload_resumes_from_the_state_s3_holds(
    api: httpx.Client, editor: Member, local_stack: LocalStack
) -> None:
    # Given a three-part upload (two parts of 5 MiB and a short last one) of which only part 1 was sent
    header = (MEDIA / "sample.mp4").read_bytes()
    data = header + bytes(range(256)) * ((10 * MiB + 1000 - len(header)) // 256) + b"end"
    created = create(api, editor, "video/mp4", len(data), multipart=True)
    media_id, upload = created["media"]["id"], created["upload"]
    assert (upload["part_size"], upload["part_count"], len(upload["parts"])) == (5 * MiB, 3, 3)
    first = httpx.put(upload["parts"][0]["url"], content=data[: 5 * MiB])
    assert first.status_code == 200, first.text
    del created, upload  # the client "crashes": its part URLs are lost

    # When it reads the upload's state
    state = api.get(f"/media/{media_id}/upload", headers=editor.auth)

    # Then part 1 is listed with its ETag and size, with what it takes to send the rest
    assert state.status_code == 200, state.text
    resumed = state.json()
    assert resumed["parts"] == [{"part_number": 1, "size": 5 * MiB, "etag": first.headers["ETag"]}]
    part_size, count = resumed["part_size"], resumed["part_count"]
    assert (part_size, count, resumed["object_received"]) == (5 * MiB, 3, False)

    # When it signs the missing parts again, sends them and completes with every part's ETag
    missing = [n for n in range(1, count + 1) if n not in {p["part_number"] for p in resumed["parts"]}]
    signed = api.post(f"/media/{media_id}/upload/parts", json={"part_numbers": missing}, headers=editor.auth)
    assert signed.status_code == 200, signed.text
    etags = {p["part_number"]: p["etag"] for p in resumed["parts"]}
    for part in signed.json()["parts"]:
        start = (part["part_number"] - 1) * part_size
        sent = httpx.put(part["url"], content=data[start : start + part_size])
        assert sent.status_code == 200, sent.text
        etags[part["part_number"]] = sent.headers["ETag"]
    parts = [{"part_number": n, "etag": etags[n]} for n in sorted(etags)]
    completed = api.post(f"/media/{media_id}/upload/complete", json={"parts": parts}, headers=editor.auth)

    # Then the asset becomes ready, and S3 holds exactly the bytes uploaded
    assert completed.status_code == 202, completed.text
    media = wait_until_settled(api, editor, media_id)
    assert media["status"] == "ready" and media["size_bytes"] == len(data), media
    stored = emulated_s3(local_stack).get_object(Bucket=bucket(local_stack), Key=f"uploads/{media_id}")
    assert stored["Body"].read() == data
    assert api.get(f"/media/{media_id}/upload", headers=editor.auth).status_code == 409  # nothing left to resume
