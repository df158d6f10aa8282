"""What POST /media hands out, decoded: moto enforces none of it, so the policy and URLs are checked here."""

from __future__ import annotations

import base64
import json
import math
import socket
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from media_platform import uploads
from media_platform.dal import media as media_table
from media_platform.dal import objects
from media_platform.models import CreatedMedia, CreateMedia, Media, MultipartUpload, Role
from media_platform.tokens import Claims

BUCKET = "media-test-bucket"
MiB = 1024**2


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIA_BUCKET", BUCKET)
    monkeypatch.setenv("UPLOAD_URL_EXPIRY_SECONDS", "900")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("signing must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[Media]:
    """A fake media table that records what would be written."""
    items: list[Media] = []
    monkeypatch.setattr(media_table, "put_new", items.append)
    return items


EDITOR = Claims(subject="editor-1", role=Role.EDITOR, expires_at=int(time.time()) + 600, issued_at=time.time())


def decode_policy(fields: dict[str, str]) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))
    return policy


def test_the_post_policy_pins_key_type_and_size_and_is_sigv4(no_network: None, written: list[Media]) -> None:
    request = CreateMedia(title="t", filename="clip.mp4", content_type="video/mp4", size_bytes=1831)

    created = uploads.create_upload(EDITOR, request)

    upload = created.upload.model_dump()
    policy = decode_policy(upload["fields"])
    key = f"uploads/{created.media.id}"
    conditions = policy["conditions"]
    assert {"bucket": BUCKET} in conditions
    assert {"key": key} in conditions
    assert {"Content-Type": "video/mp4"} in conditions
    assert ["content-length-range", 1, 1831] in conditions
    assert {"x-amz-algorithm": "AWS4-HMAC-SHA256"} in conditions
    assert upload["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert "x-amz-signature" in upload["fields"] and "AWSAccessKeyId" not in upload["fields"]
    assert (upload["fields"]["key"], upload["fields"]["Content-Type"]) == (key, "video/mp4")
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(expires.timestamp() - (time.time() + 900)) < 5
    assert urlsplit(upload["url"]).hostname == f"{BUCKET}.s3.amazonaws.com"  # virtual-hosted addressing


def test_creating_an_upload_writes_one_item_and_keeps_the_key_inside(no_network: None, written: list[Media]) -> None:
    created = uploads.create_upload(
        EDITOR, CreateMedia(title="t", filename="a.mp3", content_type="audio/mpeg", size_bytes=10)
    )

    (item,) = written
    assert item.object_key == f"uploads/{created.media.id}"
    assert item.status == "pending_upload" and item.owner_id == "editor-1"
    assert "object_key" not in created.media.model_dump() and "uploads/" not in created.media.model_dump_json()


@pytest.mark.parametrize("filename", ["../../etc/passwd", "a\x00b.mp4", "видео 🎬.mp4", "x" * 255])
def test_the_filename_never_shapes_the_key(filename: str, no_network: None, written: list[Media]) -> None:
    created = uploads.create_upload(
        EDITOR, CreateMedia(title="t", filename=filename, content_type="video/mp4", size_bytes=10)
    )

    key = decode_policy(created.upload.model_dump()["fields"])["conditions"]
    assert {"key": f"uploads/{created.media.id}"} in key
    assert written[0].filename == filename
    assert uploads.media_id_from_key(written[0].object_key) == created.media.id


def test_part_urls_are_sigv4_put_urls_for_one_part_each(no_network: None) -> None:
    url = objects.presigned_part_url("uploads/abc", "upload-123", 7, 900)

    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.hostname == f"{BUCKET}.s3.amazonaws.com" and parts.path == "/uploads/abc"
    assert query["partNumber"] == "7" and query["uploadId"] == "upload-123"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and query["X-Amz-Expires"] == "900"
    assert "X-Amz-Signature" in query and "AWSAccessKeyId" not in query


@pytest.mark.parametrize(
    ("size", "part_size"),
    [(10 * MiB, 5 * MiB), (5 * MiB, 5 * MiB), (1024 * MiB, 5 * MiB), (50 * 1024**3, 52 * MiB)],
)
def test_part_sizes_respect_s3_minimum_and_the_part_cap(size: int, part_size: int) -> None:
    assert uploads.part_size_for(size) == part_size
    assert math.ceil(size / part_size) <= uploads.MAX_PARTS


@pytest.mark.parametrize(
    ("key", "media_id"),
    [
        ("uploads/0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11", "0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11"),
        ("uploads/0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11/x", None),
        ("other/0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11", None),
        ("uploads/../secret", None),
    ],
)
def test_only_server_made_keys_map_to_an_asset(key: str, media_id: str | None) -> None:
    assert uploads.media_id_from_key(key) == media_id


def test_the_largest_upload_answers_its_part_count_and_the_first_100_urls(
    monkeypatch: pytest.MonkeyPatch, no_network: None, written: list[Media]
) -> None:
    monkeypatch.setattr(objects, "start_multipart", lambda key, content_type: "upload-1")
    request = CreateMedia(title="t", filename="big.mp4", content_type="video/mp4", size_bytes=50 * 1024**3)

    created = uploads.create_upload(EDITOR, request)

    upload = created.upload
    assert isinstance(upload, MultipartUpload)
    assert (upload.part_size, upload.part_count) == (52 * MiB, 985)
    assert [p.part_number for p in upload.parts] == list(range(1, 101))
    assert written[0].part_size == 52 * MiB
    stored = uploads.without_part_urls(created)
    assert len(stored.model_dump_json()) < 2048  # what the Idempotency-Key's record keeps
    replayed = uploads.with_part_urls(stored)
    assert [p.part_number for p in replayed.upload.parts] == list(range(1, 101))  # type: ignore[union-attr]


def test_a_replay_of_a_record_stored_before_part_count_was_answered_counts_the_parts(no_network: None) -> None:
    # Given an Idempotency-Key's record as the previous release stored it: no part_count, no part URLs
    old = {
        "media": {
            "id": "0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11",
            "title": "t",
            "filename": "big.mp4",
            "content_type": "video/mp4",
            "size_bytes": 50 * 1024**3,
            "status": "pending_upload",
            "owner_id": "editor-1",
            "created_at": "2026-12-01T00:00:00Z",
            "updated_at": "2026-12-01T00:00:00Z",
        },
        "upload": {
            "method": "multipart",
            "upload_id": "upload-1",
            "part_size": 52 * MiB,
            "parts": [],
            "expires_at": datetime.fromtimestamp(time.time() + 600, UTC).isoformat(),
        },
    }

    replayed = uploads.with_part_urls(CreatedMedia.model_validate(old))

    assert isinstance(replayed.upload, MultipartUpload)
    assert replayed.upload.part_count == 985 and len(replayed.upload.parts) == 100
