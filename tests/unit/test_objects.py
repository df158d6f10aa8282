"""dal/objects.py against a stubbed S3 client (botocore's Stubber): no network, no emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from media_platform import clients
from media_platform.dal import objects

BUCKET = "media-test-bucket"
KEY = "uploads/0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11"
MiB = 1024**2


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    monkeypatch.setenv("MEDIA_BUCKET", BUCKET)
    client = boto3.client("s3", region_name="us-east-1")
    with Stubber(client) as stubber:
        clients.override("s3", client)
        yield stubber
        stubber.assert_no_pending_responses()


def parts(first: int, last: int) -> list[dict[str, Any]]:
    return [{"PartNumber": n, "Size": 5 * MiB, "ETag": f'"etag-{n}"'} for n in range(first, last + 1)]


def test_list_parts_reads_every_page_past_1000(s3: Stubber) -> None:
    # Given an upload of 1,205 parts, which S3 lists 1,000 at a time
    base = {"Bucket": BUCKET, "Key": KEY, "UploadId": "u-1"}
    s3.add_response("list_parts", {"Parts": parts(1, 1000), "IsTruncated": True, "NextPartNumberMarker": 1000}, base)
    s3.add_response("list_parts", {"Parts": parts(1001, 1205), "IsTruncated": False}, base | {"PartNumberMarker": 1000})

    listed = objects.list_parts(KEY, "u-1")

    assert [p.number for p in listed] == list(range(1, 1206))
    assert listed[-1] == objects.Part(1205, 5 * MiB, '"etag-1205"')


def test_list_parts_of_a_completed_or_aborted_upload_is_upload_gone(s3: Stubber) -> None:
    s3.add_client_error("list_parts", "NoSuchUpload", http_status_code=404)

    with pytest.raises(objects.UploadGone):
        objects.list_parts(KEY, "u-1")


@pytest.mark.parametrize(
    ("listed", "found"),
    [([], False), ([KEY + "/extra"], False), ([KEY], True)],
    ids=["nothing", "only-a-longer-key", "the-key"],
)
def test_exists_wants_the_key_itself(s3: Stubber, listed: list[str], found: bool) -> None:
    contents = {"Contents": [{"Key": key} for key in listed]} if listed else {}
    s3.add_response("list_objects_v2", contents, {"Bucket": BUCKET, "Prefix": KEY, "MaxKeys": 1})

    assert objects.exists(KEY) is found


def test_head_of_a_deleted_object_answered_403_is_none(s3: Stubber) -> None:
    s3.add_client_error("head_object", "403", http_status_code=403)
    s3.add_response("list_objects_v2", {}, {"Bucket": BUCKET, "Prefix": KEY, "MaxKeys": 1})

    assert objects.head(KEY) is None


def test_head_answered_403_for_an_object_that_is_there_raises(s3: Stubber) -> None:
    s3.add_client_error("head_object", "403", http_status_code=403)
    s3.add_response("list_objects_v2", {"Contents": [{"Key": KEY}]}, {"Bucket": BUCKET, "Prefix": KEY, "MaxKeys": 1})

    with pytest.raises(ClientError):
        objects.head(KEY)
