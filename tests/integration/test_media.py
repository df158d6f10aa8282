"""Media uploads, verification, expiry and management through the real Lambda handlers, on moto."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.stub import Stubber

from media_platform import clients
from media_platform.idempotency import persistence_layer
from media_platform.uploads import EXPIRY_GRACE_SECONDS, MiB
from tests.integration.conftest import Invoke, Reply, Team, restored_seeded_stack
from tests.integration.media_support import (
    BUCKET,
    FIXTURES,
    MP4,
    at,
    new_media,
    notification,
    process,
    put_and_process,
    s3,
    table,
)
from tests.support import EVENTS, FakeContext, QueriesThrough, RecordedCalls, RoutedCalls, handler_of

aws, team = restored_seeded_stack()

MEDIA_OUT_FIELDS = {
    "id",
    "title",
    "description",
    "filename",
    "content_type",
    "size_bytes",
    "status",
    "owner_id",
    "created_at",
    "updated_at",
    "failure_reason",
    "detected_type",
    "etag",
}


def media_items() -> list[dict[str, Any]]:
    return list(table().scan()["Items"])


def stored(media_id: str) -> dict[str, Any]:
    item: dict[str, Any] = table().get_item(Key={"media_id": media_id})["Item"]
    return item


def versions_of(key: str) -> list[str]:
    """Every version id S3 holds for the key, delete markers included (the bucket is versioned)."""
    listed = s3().list_object_versions(Bucket=BUCKET, Prefix=key)
    return [v["VersionId"] for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])] if v["Key"] == key]


def object_exists(key: str) -> bool:
    """Any bytes at all under the key: a delete marker over older versions still counts."""
    return bool(versions_of(key))


def policy_of(upload: dict[str, Any]) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(base64.b64decode(upload["fields"]["policy"]))
    return policy


@pytest.fixture
def create(invoke: Invoke) -> Any:
    def call(token: str | None, headers: dict[str, str] | None = None, **changes: Any) -> Reply:
        return invoke("media_create", token=token, body=new_media(**changes), headers=headers)

    return call


@pytest.fixture
def ready(create: Any) -> Any:
    """Creates an asset and uploads the sample MP4 for it: returns its id, once the processor made it ready."""

    def call(token: str, title: str = "Keynote") -> str:
        media_id = str(create(token, title=title).body["media"]["id"])
        assert put_and_process(media_id, MP4) == {"batchItemFailures": []}
        assert stored(media_id)["status"] == "ready"
        return media_id

    return call


# POST /media


def test_an_editor_gets_a_presigned_post_pinned_to_a_server_made_key(create: Any, team: Team) -> None:
    reply = create(team.editor.token)

    media, upload = reply.body["media"], reply.body["upload"]
    assert reply.status == 201
    assert set(media) == MEDIA_OUT_FIELDS
    assert (media["status"], media["owner_id"], media["size_bytes"]) == ("pending_upload", team.editor.id, len(MP4))
    assert upload["method"] == "POST"
    assert upload["fields"]["key"] == f"uploads/{media['id']}"
    assert upload["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    conditions = policy_of(upload)["conditions"]
    assert {"key": f"uploads/{media['id']}"} in conditions
    assert {"Content-Type": "video/mp4"} in conditions
    assert ["content-length-range", 1, len(MP4)] in conditions
    [item] = media_items()
    assert (item["media_id"], item["object_key"], item["status"]) == (
        media["id"],
        upload["fields"]["key"],
        "pending_upload",
    )


@pytest.mark.parametrize(
    ("size", "method", "parts"),
    [(100 * MiB, "POST", None), (100 * MiB + 1, "multipart", 21), (200 * MiB, "multipart", 40)],
)
def test_uploads_over_the_post_limit_are_multipart(
    create: Any, team: Team, size: int, method: str, parts: int | None
) -> None:
    reply = create(team.editor.token, size_bytes=size)  # UploadPostMaxBytes is 100 MiB in template.yaml

    upload = reply.body["upload"]
    assert (reply.status, upload["method"]) == (201, method)
    if parts is not None:
        assert (upload["part_size"], len(upload["parts"])) == (5 * MiB, parts)
        assert stored(reply.body["media"]["id"])["upload_id"] == upload["upload_id"]


def test_multipart_can_be_asked_for_from_5_mib(create: Any, team: Team) -> None:
    reply = create(team.editor.token, size_bytes=10 * MiB, multipart=True)

    upload = reply.body["upload"]
    assert reply.status == 201
    assert (upload["method"], upload["part_size"]) == ("multipart", 5 * MiB)
    assert [p["part_number"] for p in upload["parts"]] == [1, 2]
    for part in upload["parts"]:
        url = urlsplit(part["url"])
        query = parse_qs(url.query)
        assert url.path.endswith(f"uploads/{reply.body['media']['id']}")
        assert query["uploadId"] == [upload["upload_id"]]
        assert query["partNumber"] == [str(part["part_number"])]
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "upload_id" not in reply.body["media"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"size_bytes": 5 * MiB - 1, "multipart": True}, "body.size_bytes"),
        ({"size_bytes": 50 * 1024**3 + 1}, "body.size_bytes"),
        ({"size_bytes": 0}, "body.size_bytes"),
        ({"content_type": "text/html"}, "body.content_type"),
        ({"content_type": "image/png"}, "body.content_type"),
        ({"content_type": "application/x-msdownload"}, "body.content_type"),
        ({"filename": "x" * 10_000}, "body.filename"),
        ({"owner_id": "someone-else"}, "body.owner_id"),
        ({"status": "ready"}, "body.status"),
        ({"object_key": "uploads/../../etc/passwd"}, "body.object_key"),
    ],
)
def test_a_bad_create_names_the_field_and_writes_nothing(
    create: Any, team: Team, changes: dict[str, Any], field: str
) -> None:
    reply = create(team.editor.token, **changes)

    assert reply.status == 422
    assert field in [e["field"] for e in reply.body["errors"]]
    assert media_items() == []
    assert s3().list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_viewers_and_anonymous_callers_cannot_create(create: Any, team: Team) -> None:
    assert create(team.viewer.token).status == 403
    assert create(None).status == 401
    assert media_items() == []


@pytest.mark.parametrize("filename", ["../../etc/passwd", "a\x00b.mp4", "ünïcødé 🎬.mp4", "/absolute/path.mp4"])
def test_the_filename_never_shapes_the_key(create: Any, team: Team, filename: str) -> None:
    reply = create(team.editor.token, filename=filename)

    media_id = reply.body["media"]["id"]
    assert reply.status == 201
    assert reply.body["upload"]["fields"]["key"] == f"uploads/{media_id}"
    assert {"key": f"uploads/{media_id}"} in policy_of(reply.body["upload"])["conditions"]
    assert (stored(media_id)["object_key"], stored(media_id)["filename"]) == (f"uploads/{media_id}", filename)


# Idempotency-Key


def test_a_repeated_idempotency_key_replays_the_first_answer(create: Any, team: Team) -> None:
    first = create(team.editor.token, headers={"idempotency-key": "k-1"})
    again = create(team.editor.token, headers={"idempotency-key": "k-1"})

    assert first.status == again.status == 201
    assert again.body["media"]["id"] == first.body["media"]["id"]
    assert len(media_items()) == 1


GiB = 1024**3
IDEMPOTENCY_TABLE = "media-platform-local-IdempotencyTable"


def idempotency_records() -> list[dict[str, Any]]:
    return list(boto3.client("dynamodb", region_name="us-east-1").scan(TableName=IDEMPOTENCY_TABLE)["Items"])


@pytest.mark.parametrize("headers", [None, {"idempotency-key": "k-big"}], ids=["without-key", "with-key"])
def test_an_upload_of_the_largest_size_answers_the_first_100_part_urls(
    create: Any, team: Team, headers: dict[str, str] | None
) -> None:
    # Given an upload of the largest size: 985 parts of 52 MiB (985 URLs would outgrow a DynamoDB item)
    big = {"headers": headers, "size_bytes": 50 * GiB}

    # When it is created (twice, where an Idempotency-Key makes the second a replay)
    first = create(team.editor.token, **big)
    again = create(team.editor.token, **big) if headers else first

    # Then the answer names the upload, its part size and count, and holds the first 100 parts' URLs
    assert first.status == again.status == 201
    assert again.body["media"] == first.body["media"]
    for reply in (first, again):
        upload = reply.body["upload"]
        assert (upload["upload_id"], upload["part_size"], upload["part_count"]) == (
            first.body["upload"]["upload_id"],
            52 * MiB,
            985,
        )
        assert [p["part_number"] for p in upload["parts"]] == list(range(1, 101))
        last = parse_qs(urlsplit(upload["parts"][-1]["url"]).query)
        assert (last["uploadId"], last["partNumber"]) == ([upload["upload_id"]], ["100"])
    assert len(media_items()) == 1
    assert stored(first.body["media"]["id"])["part_size"] == 52 * MiB
    # And the idempotency record stays small: no part URL is stored
    records = idempotency_records()
    assert len(records) == (1 if headers else 0)
    assert all(len(json.dumps(r)) < 4096 and "X-Amz-Signature" not in json.dumps(r) for r in records)


def failing_dynamodb(operation: str, code: str) -> Stubber:
    """DynamoDB as moto serves it, except that the next `operation` fails with `code` (after botocore's retries)."""
    stubbed = boto3.client("dynamodb", region_name="us-east-1")
    stubber = Stubber(stubbed)
    stubber.add_client_error(operation, code, http_status_code=400 if code.endswith("Exceeded") else 500)
    stubber.activate()
    clients.override("dynamodb", RoutedCalls(clients.dynamodb(), stubbed, operation))
    return stubber


def test_an_answer_the_idempotency_store_cannot_record_is_still_answered(
    create: Any, team: Team, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an idempotency store that fails to record the answer, once the asset and the upload were made
    stubber = failing_dynamodb("update_item", "InternalServerError")

    # When an upload of the largest size is created with an Idempotency-Key
    reply = create(team.editor.token, headers={"idempotency-key": "k-unrecorded"}, size_bytes=50 * GiB)

    # Then the client gets the created asset and its upload, not a 500 for completed work, and the failure is logged
    stubber.assert_no_pending_responses()
    assert reply.status == 201, reply.body
    [item] = media_items()
    assert item["media_id"] == reply.body["media"]["id"]
    assert item["upload_id"] == reply.body["upload"]["upload_id"]
    assert len(reply.body["upload"]["parts"]) == 100
    assert any(r.levelname == "ERROR" and "could not be recorded" in r.getMessage() for r in caplog.records)


def test_a_busy_idempotency_store_before_the_work_is_a_503_and_a_retry_creates_one_asset(
    create: Any, team: Team
) -> None:
    stubber = failing_dynamodb("put_item", "ProvisionedThroughputExceededException")

    busy = create(team.editor.token, headers={"idempotency-key": "k-busy"}, size_bytes=10 * MiB, multipart=True)
    clients.reset()
    again = create(team.editor.token, headers={"idempotency-key": "k-busy"}, size_bytes=10 * MiB, multipart=True)

    stubber.assert_no_pending_responses()
    assert (busy.status, busy.headers["retry-after"]) == (503, "2")
    assert again.status == 201
    assert [item["media_id"] for item in media_items()] == [again.body["media"]["id"]]
    [upload] = s3().list_multipart_uploads(Bucket=BUCKET)["Uploads"]
    assert upload["UploadId"] == again.body["upload"]["upload_id"]


@pytest.mark.parametrize(("code", "status"), [("ProvisionedThroughputExceededException", 503), ("AccessDenied", 500)])
def test_a_multipart_upload_whose_asset_cannot_be_written_is_aborted(
    create: Any, team: Team, code: str, status: int
) -> None:
    # Given a media table that refuses the new asset's write, after S3 started the multipart upload
    stubber = failing_dynamodb("put_item", code)

    reply = create(team.editor.token, size_bytes=10 * MiB, multipart=True)

    # Then the client hears the write's error, and S3 keeps no upload that no asset knows
    stubber.assert_no_pending_responses()
    assert reply.status == status
    assert media_items() == []
    assert s3().list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_the_idempotency_store_is_built_once_per_execution_environment(create: Any, team: Team) -> None:
    built_before = persistence_layer.cache_info().misses
    for n in range(3):
        assert create(team.editor.token, headers={"idempotency-key": f"k-{n}"}).status == 201

    assert persistence_layer.cache_info().misses - built_before == 1


def test_an_idempotency_key_reused_with_another_body_is_422(create: Any, team: Team) -> None:
    create(team.editor.token, headers={"idempotency-key": "k-1"})

    other = create(team.editor.token, headers={"idempotency-key": "k-1"}, title="Another title")

    assert other.status == 422
    assert [e["field"] for e in other.body["errors"]] == ["header.idempotency-key"]
    assert len(media_items()) == 1


def test_idempotency_keys_are_per_caller(create: Any, team: Team) -> None:
    mine = create(team.editor.token, headers={"idempotency-key": "shared"})
    theirs = create(team.other_editor.token, headers={"idempotency-key": "shared"})

    assert mine.status == theirs.status == 201
    assert mine.body["media"]["id"] != theirs.body["media"]["id"]
    assert theirs.body["media"]["owner_id"] == team.other_editor.id
    assert len(media_items()) == 2


# Verification (upload_processor)


@pytest.mark.parametrize(
    ("fixture", "content_type", "kind"),
    [
        ("sample.mp4", "video/mp4", "mp4"),
        ("sample.mov", "video/quicktime", "quicktime"),
        ("sample.webm", "video/webm", "webm"),
        ("sample.mp3", "audio/mpeg", "mp3"),
    ],
)
def test_a_real_upload_becomes_ready(create: Any, team: Team, fixture: str, content_type: str, kind: str) -> None:
    data = (FIXTURES / fixture).read_bytes()
    media_id = create(team.editor.token, content_type=content_type, size_bytes=len(data)).body["media"]["id"]

    result = put_and_process(media_id, data, content_type)

    item = stored(media_id)
    assert result == {"batchItemFailures": []}
    assert (item["status"], item["detected_type"]) == ("ready", kind)
    assert item["etag"] == hashlib.md5(data).hexdigest()  # noqa: S324 (S3's single-part ETag)
    assert object_exists(f"uploads/{media_id}")


@pytest.mark.parametrize("fixture", ["not-video.html", "not-video.elf"])
def test_a_renamed_non_media_file_fails_and_is_deleted(create: Any, team: Team, fixture: str) -> None:
    data = (FIXTURES / fixture).read_bytes()
    media_id = create(team.editor.token, size_bytes=len(data)).body["media"]["id"]

    put_and_process(media_id, data)

    item = stored(media_id)
    assert item["status"] == "failed"
    assert "not video/mp4" in item["failure_reason"]
    assert not object_exists(f"uploads/{media_id}")


def test_a_size_other_than_declared_fails_and_is_deleted(create: Any, team: Team) -> None:
    media_id = create(team.editor.token, size_bytes=len(MP4) + 1).body["media"]["id"]

    put_and_process(media_id, MP4)

    item = stored(media_id)
    assert item["status"] == "failed"
    assert f"{len(MP4)} bytes" in item["failure_reason"]
    assert not object_exists(f"uploads/{media_id}")


def test_a_duplicate_notification_changes_nothing(ready: Any, team: Team) -> None:
    media_id = ready(team.editor.token)
    before = stored(media_id)

    result = process(notification(f"uploads/{media_id}"))

    assert result == {"batchItemFailures": []}
    assert stored(media_id) == before
    assert versions_of(f"uploads/{media_id}") == [before["version_id"]]


def test_a_replayed_upload_cannot_replace_the_verified_bytes(ready: Any, team: Team) -> None:
    # Given media whose MP4 was verified
    media_id = ready(team.editor.token)
    key = f"uploads/{media_id}"
    before = stored(media_id)
    html = b"<html><script>alert(1)</script></html>".ljust(len(MP4), b" ")

    # When the still-valid upload URL is replayed with HTML of the same size and declared type, and S3 notifies
    s3().put_object(Bucket=BUCKET, Key=key, Body=html, ContentType="video/mp4")
    result = process(notification(key))

    # Then the asset is unchanged, the replayed version is gone, and S3 serves the verified bytes
    assert result == {"batchItemFailures": []}
    assert stored(media_id) == before
    assert versions_of(key) == [before["version_id"]]
    assert s3().get_object(Bucket=BUCKET, Key=key)["Body"].read() == MP4
    pinned = s3().get_object(Bucket=BUCKET, Key=key, VersionId=before["version_id"])
    assert pinned["Body"].read() == MP4 and pinned["ETag"].strip('"') == before["etag"]


def test_verification_pins_the_version_it_checked(create: Any, invoke: Invoke, team: Team) -> None:
    media_id = create(team.editor.token).body["media"]["id"]
    key = f"uploads/{media_id}"
    s3().put_object(Bucket=BUCKET, Key=key, Body=MP4, ContentType="video/mp4")  # the uploader posts twice
    second = s3().put_object(Bucket=BUCKET, Key=key, Body=MP4, ContentType="video/mp4")["VersionId"]

    assert process(notification(key), notification(key)) == {"batchItemFailures": []}

    item = stored(media_id)
    assert (item["status"], item["version_id"]) == ("ready", second)
    assert versions_of(key) == [second]  # the other version is not kept around
    shown = invoke("media_get", token=team.editor.token, **at(media_id)).body
    assert shown["status"] == "ready" and "version_id" not in shown


@pytest.mark.parametrize("stored_type", ["text/html", "application/octet-stream"])
def test_a_stored_content_type_other_than_declared_fails(create: Any, team: Team, stored_type: str) -> None:
    media_id = create(team.editor.token).body["media"]["id"]

    put_and_process(media_id, MP4, content_type=stored_type)

    item = stored(media_id)
    assert item["status"] == "failed" and stored_type in item["failure_reason"]
    assert not object_exists(f"uploads/{media_id}")


def test_the_s3_test_event_is_accepted(aws: object) -> None:
    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET, "RequestId": "r"})

    assert process(body) == {"batchItemFailures": []}


def test_objects_outside_the_upload_keys_are_left_alone(create: Any, team: Team) -> None:
    media_id = create(team.editor.token).body["media"]["id"]
    keys = [f"elsewhere/{media_id}", f"uploads/{media_id}/extra", f"uploads/{media_id.upper()}"]
    for key in keys:
        s3().put_object(Bucket=BUCKET, Key=key, Body=MP4)

    result = process(*[notification(key) for key in keys])

    assert result == {"batchItemFailures": []}
    assert stored(media_id)["status"] == "pending_upload"
    assert all(object_exists(key) for key in keys)


def test_an_object_for_a_settled_or_unknown_asset_is_deleted(create: Any, invoke: Invoke, team: Team) -> None:
    token = team.editor.token
    failed = create(token, size_bytes=len(MP4) + 1).body["media"]["id"]
    put_and_process(failed, MP4)  # fails: wrong size
    deleted = create(token).body["media"]["id"]
    assert invoke("media_delete", token=token, **at(deleted)).status == 204
    unknown = "0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11"

    for media_id in (failed, deleted, unknown):
        assert put_and_process(media_id, MP4) == {"batchItemFailures": []}

    assert not any(object_exists(f"uploads/{m}") for m in (failed, deleted, unknown))
    assert (stored(failed)["status"], stored(deleted)["status"]) == ("failed", "deleted")


def test_a_poison_message_fails_alone(create: Any, team: Team) -> None:
    media_id = create(team.editor.token).body["media"]["id"]
    s3().put_object(Bucket=BUCKET, Key=f"uploads/{media_id}", Body=MP4, ContentType="video/mp4")

    result = process("{not json", notification(f"uploads/{media_id}"))

    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert stored(media_id)["status"] == "ready"


# Multipart complete and abort


def test_a_completed_multipart_upload_is_verified_like_any_other(create: Any, invoke: Invoke, team: Team) -> None:
    reply = create(team.editor.token, size_bytes=10 * MiB, multipart=True)
    media_id, upload_id = reply.body["media"]["id"], reply.body["upload"]["upload_id"]
    data = MP4 + bytes(10 * MiB - len(MP4))
    key = f"uploads/{media_id}"
    parts = [
        {
            "part_number": n,
            "etag": s3().upload_part(
                Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=n, Body=data[(n - 1) * 5 * MiB : n * 5 * MiB]
            )["ETag"],
        }
        for n in (1, 2)
    ]

    completed = invoke(
        "upload_complete", token=team.editor.token, body={"parts": parts}, **at(media_id, "/upload/complete")
    )
    result = process(notification(key, "ObjectCreated:CompleteMultipartUpload"))

    assert (completed.status, completed.body["id"], completed.body["status"]) == (202, media_id, "pending_upload")
    assert result == {"batchItemFailures": []}
    item = stored(media_id)
    assert (item["status"], item["detected_type"], int(item["size_bytes"])) == ("ready", "mp4", 10 * MiB)
    assert item["etag"].endswith("-2")


@pytest.mark.parametrize("numbers", [[2, 1], [1, 3], [0, 1]])
def test_parts_numbered_out_of_order_are_422(create: Any, invoke: Invoke, team: Team, numbers: list[int]) -> None:
    media_id = create(team.editor.token, size_bytes=10 * MiB, multipart=True).body["media"]["id"]
    parts = [{"part_number": n, "etag": f'"etag-{n}"'} for n in numbers]

    reply = invoke(
        "upload_complete", token=team.editor.token, body={"parts": parts}, **at(media_id, "/upload/complete")
    )

    assert reply.status == 422
    assert stored(media_id)["status"] == "pending_upload"


def test_parts_s3_does_not_know_are_422_naming_the_parts(create: Any, invoke: Invoke, team: Team) -> None:
    media_id = create(team.editor.token, size_bytes=10 * MiB, multipart=True).body["media"]["id"]
    parts = [{"part_number": n, "etag": f'"never-uploaded-{n}"'} for n in (1, 2)]

    reply = invoke(
        "upload_complete", token=team.editor.token, body={"parts": parts}, **at(media_id, "/upload/complete")
    )

    assert reply.status == 422
    assert reply.body["detail"] == "The parts do not complete this upload."
    assert reply.body["errors"] == [
        {"field": "body.parts", "message": "The parts do not complete this upload.", "type": "value_error"}
    ]
    assert stored(media_id)["status"] == "pending_upload"


def test_complete_and_abort_refuse_an_upload_that_is_not_multipart(create: Any, invoke: Invoke, team: Team) -> None:
    media_id = create(team.editor.token).body["media"]["id"]
    parts = {"parts": [{"part_number": 1, "etag": '"e"'}]}

    completed = invoke("upload_complete", token=team.editor.token, body=parts, **at(media_id, "/upload/complete"))
    aborted = invoke("upload_abort", token=team.editor.token, **at(media_id, "/upload"))

    assert completed.status == aborted.status == 409
    assert stored(media_id)["status"] == "pending_upload"


def test_abort_fails_the_asset_and_can_be_repeated(
    create: Any, invoke: Invoke, team: Team, caplog: pytest.LogCaptureFixture
) -> None:
    media_id = create(team.editor.token, size_bytes=10 * MiB, multipart=True).body["media"]["id"]

    others = invoke("upload_abort", token=team.other_editor.token, **at(media_id, "/upload"))
    first = invoke("upload_abort", token=team.editor.token, **at(media_id, "/upload"))
    again = invoke("upload_abort", token=team.editor.token, **at(media_id, "/upload"))

    assert others.status == 404
    assert first.status == again.status == 204
    item = stored(media_id)
    assert (item["status"], item["failure_reason"]) == ("failed", "The upload was aborted.")
    assert s3().list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    # The log says what happened: an abort, not a failed verification.
    said = [r.getMessage() for r in caplog.records if r.__dict__.get("media_id") == media_id]
    assert "Upload aborted" in said and "Upload failed verification" not in said


def test_abort_reads_the_asset_once(create: Any, invoke: Invoke, team: Team) -> None:
    from media_platform import clients

    media_id = create(team.editor.token, size_bytes=10 * MiB, multipart=True).body["media"]["id"]
    recorded = RecordedCalls(clients.dynamodb())
    clients.override("dynamodb", recorded)

    assert invoke("upload_abort", token=team.editor.token, **at(media_id, "/upload")).status == 204

    media_table = "media-platform-local-MediaTable"
    assert [name for name, table in recorded.calls if table == media_table] == ["get_item", "update_item"]


# Expiry (upload_expiry)


def test_expiry_marks_only_uploads_past_their_window_and_grace(create: Any, team: Team) -> None:
    token = team.editor.token
    stale = create(token).body["media"]["id"]
    stale_multipart = create(token, size_bytes=10 * MiB, multipart=True).body["media"]["id"]
    within_grace = create(token).body["media"]["id"]
    fresh = create(token).body["media"]["id"]
    s3().put_object(Bucket=BUCKET, Key=f"uploads/{stale}", Body=MP4)  # arrived, but too late to be verified
    now = int(time.time())
    for media_id, expired_at in (
        (stale, now - EXPIRY_GRACE_SECONDS - 60),
        (stale_multipart, now - EXPIRY_GRACE_SECONDS - 60),
        (within_grace, now - EXPIRY_GRACE_SECONDS + 60),
    ):
        table().update_item(
            Key={"media_id": media_id},
            UpdateExpression="SET upload_expires_at = :t",
            ExpressionAttributeValues={":t": expired_at},
        )
    handler = handler_of("upload_expiry")

    result = handler(json.loads((EVENTS / "upload_expiry.json").read_text()), FakeContext())

    assert result == {"expired": 2}
    statuses = {m: stored(m)["status"] for m in (stale, stale_multipart, within_grace, fresh)}
    assert statuses == {
        stale: "expired",
        stale_multipart: "expired",
        within_grace: "pending_upload",
        fresh: "pending_upload",
    }
    assert s3().list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert not object_exists(f"uploads/{stale}")


# GET /media


@pytest.fixture
def library(create: Any, ready: Any, invoke: Invoke, team: Team) -> dict[str, str]:
    """One asset in each interesting state, oldest first: the editor's ready, pending and deleted; the other editor's
    ready and pending; the admin's pending."""
    names = {
        "editor_ready": ready(team.editor.token, "editor ready"),
        "editor_pending": create(team.editor.token, title="editor pending").body["media"]["id"],
        "editor_deleted": create(team.editor.token, title="editor deleted").body["media"]["id"],
        "other_ready": ready(team.other_editor.token, "other ready"),
        "other_pending": create(team.other_editor.token, title="other pending").body["media"]["id"],
        "admin_pending": create(team.admin.token, title="admin pending").body["media"]["id"],
    }
    assert invoke("media_delete", token=team.editor.token, **at(names["editor_deleted"])).status == 204
    return names


def listed(invoke: Invoke, token: str, query: str = "") -> list[str]:
    reply = invoke("media_list", token=token, query=query)
    assert reply.status == 200, reply.body
    assert all(set(item) == MEDIA_OUT_FIELDS for item in reply.body["items"])
    return [item["title"] for item in reply.body["items"]]


def test_viewers_list_only_ready_media(invoke: Invoke, team: Team, library: dict[str, str]) -> None:
    assert listed(invoke, team.viewer.token) == ["other ready", "editor ready"]
    assert listed(invoke, team.viewer.token, "status=pending_upload") == []
    assert listed(invoke, team.viewer.token, "status=deleted") == []


def test_editors_list_their_own_and_everything_ready(invoke: Invoke, team: Team, library: dict[str, str]) -> None:
    assert listed(invoke, team.editor.token) == ["other ready", "editor pending", "editor ready"]
    assert listed(invoke, team.editor.token, "status=pending_upload") == ["editor pending"]
    assert listed(invoke, team.editor.token, "status=ready") == ["other ready", "editor ready"]
    assert listed(invoke, team.editor.token, "status=deleted") == []


def test_admins_list_everything_but_deleted_unless_asked(invoke: Invoke, team: Team, library: dict[str, str]) -> None:
    everything = ["admin pending", "other pending", "other ready", "editor pending", "editor ready"]

    assert listed(invoke, team.admin.token) == everything
    assert listed(invoke, team.admin.token, "status=deleted") == ["editor deleted"]
    assert listed(invoke, team.admin.token, "status=pending_upload") == [
        "admin pending",
        "other pending",
        "editor pending",
    ]


def test_listing_pages_newest_first(create: Any, invoke: Invoke, team: Team) -> None:
    for n in range(5):
        create(team.editor.token, title=f"m{n}")

    pages, cursor = [], None
    while True:
        reply = invoke("media_list", token=team.admin.token, query="limit=2" + (f"&cursor={cursor}" if cursor else ""))
        pages.append([item["title"] for item in reply.body["items"]])
        cursor = reply.body["next_cursor"]
        if cursor is None:
            break

    assert [title for page in pages for title in page] == ["m4", "m3", "m2", "m1", "m0"]
    assert pages[:2] == [["m4", "m3"], ["m2", "m1"]]


def test_a_forged_or_mismatched_cursor_is_422(create: Any, invoke: Invoke, team: Team) -> None:
    for n in range(2):
        create(team.editor.token, title=f"m{n}")
    by_creation = invoke("media_list", token=team.admin.token, query="limit=1").body["next_cursor"]
    forged = base64.urlsafe_b64encode(json.dumps({"media_id": {"S": "x"}}).encode()).decode()

    ready_cursor = invoke("media_list", token=team.admin.token, query="limit=1&status=pending_upload").body
    for query in (
        "cursor=bm9wZQ",
        f"cursor={forged}",
        f"status=pending_upload&cursor={by_creation}",  # a cursor of another listing, validly signed
        f"status=failed&cursor={ready_cursor['next_cursor']}",  # another status: another partition
    ):
        reply = invoke("media_list", token=team.admin.token, query=query)
        assert reply.status == 422, query
        assert reply.body["errors"][0]["field"] == "query.cursor", query


def test_a_start_key_dynamodb_refuses_is_a_422_naming_the_cursor(create: Any, invoke: Invoke, team: Team) -> None:
    for n in range(2):
        create(team.editor.token, title=f"m{n}")
    cursor = invoke("media_list", token=team.admin.token, query="limit=1").body["next_cursor"]
    stubbed = boto3.client("dynamodb", region_name="us-east-1")
    stubber = Stubber(stubbed)
    stubber.add_client_error("query", "ValidationException", "The provided starting key is invalid", 400)
    stubber.activate()
    clients.override("dynamodb", QueriesThrough(boto3.client("dynamodb", region_name="us-east-1"), stubbed))

    reply = invoke("media_list", token=team.admin.token, query=f"cursor={cursor}")

    assert reply.status == 422 and reply.body["errors"][0]["field"] == "query.cursor"


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "status=nonsense"])
def test_bad_listing_parameters_are_422(invoke: Invoke, team: Team, query: str) -> None:
    assert invoke("media_list", token=team.viewer.token, query=query).status == 422


# GET, PATCH and DELETE /media/{media_id}


def test_another_editors_pending_media_is_invisible(create: Any, invoke: Invoke, team: Team) -> None:
    media_id = create(team.other_editor.token).body["media"]["id"]
    before = stored(media_id)
    token = team.editor.token

    got = invoke("media_get", token=token, **at(media_id))
    patched = invoke("media_update", token=token, body={"title": "mine now"}, **at(media_id))
    deleted = invoke("media_delete", token=token, **at(media_id))
    completed = invoke(
        "upload_complete",
        token=token,
        body={"parts": [{"part_number": 1, "etag": "e"}]},
        **at(media_id, "/upload/complete"),
    )

    assert got.status == patched.status == deleted.status == completed.status == 404
    assert stored(media_id) == before


def test_another_editors_ready_media_is_readable_but_not_changeable(ready: Any, invoke: Invoke, team: Team) -> None:
    media_id = ready(team.other_editor.token)
    before = stored(media_id)
    token = team.editor.token

    got = invoke("media_get", token=token, **at(media_id))
    patched = invoke("media_update", token=token, body={"title": "mine now"}, **at(media_id))
    deleted = invoke("media_delete", token=token, **at(media_id))

    assert (got.status, got.body["id"]) == (200, media_id)
    assert patched.status == deleted.status == 403
    assert stored(media_id) == before
    assert object_exists(f"uploads/{media_id}")


def test_viewers_read_ready_media_only_and_change_nothing(create: Any, ready: Any, invoke: Invoke, team: Team) -> None:
    ready_id = ready(team.editor.token)
    pending_id = create(team.editor.token).body["media"]["id"]
    token = team.viewer.token

    assert invoke("media_get", token=token, **at(ready_id)).status == 200
    assert invoke("media_get", token=token, **at(pending_id)).status == 404
    assert invoke("media_update", token=token, body={"title": "x"}, **at(ready_id)).status == 403
    assert invoke("media_delete", token=token, **at(ready_id)).status == 403
    assert stored(ready_id)["status"] == "ready"


def test_the_owner_and_admins_read_pending_media(create: Any, invoke: Invoke, team: Team) -> None:
    media_id = create(team.editor.token).body["media"]["id"]

    mine = invoke("media_get", token=team.editor.token, **at(media_id))
    admins = invoke("media_get", token=team.admin.token, **at(media_id))

    assert mine.status == admins.status == 200
    assert mine.body == admins.body
    assert set(mine.body) == MEDIA_OUT_FIELDS


@pytest.mark.parametrize(
    "function",
    ["media_get", "media_update", "media_delete", "upload_complete", "upload_abort", "upload_status", "upload_parts"],
)
def test_every_media_route_needs_a_token(invoke: Invoke, aws: object, function: str) -> None:
    assert invoke(function, token=None).status == 401


@pytest.mark.parametrize("media_id", ["not-a-uuid", "..", "%00", "3F6C1A52-8D0E-4B7A-9C21-5E4F7A9B0D13x", "x" * 1000])
def test_a_malformed_id_is_404(invoke: Invoke, team: Team, media_id: str) -> None:
    token = team.admin.token
    parts = {"parts": [{"part_number": 1, "etag": "e"}]}

    replies = [
        invoke("media_get", token=token, **at(media_id)),
        invoke("media_update", token=token, body={"title": "x"}, **at(media_id)),
        invoke("media_delete", token=token, **at(media_id)),
        invoke("upload_complete", token=token, body=parts, **at(media_id, "/upload/complete")),
        invoke("upload_abort", token=token, **at(media_id, "/upload")),
        invoke("upload_status", token=token, **at(media_id, "/upload")),
        invoke("upload_parts", token=token, body={"part_numbers": [1]}, **at(media_id, "/upload/parts")),
    ]

    assert [r.status for r in replies] == [404] * 7


def test_the_owner_edits_title_and_description(create: Any, invoke: Invoke, team: Team) -> None:
    media_id = create(team.editor.token, description="first").body["media"]["id"]
    before = stored(media_id)

    edited = invoke("media_update", token=team.editor.token, body={"title": "Renamed"}, **at(media_id))
    cleared = invoke("media_update", token=team.admin.token, body={"description": None}, **at(media_id))

    assert (edited.status, edited.body["title"], edited.body["description"]) == (200, "Renamed", "first")
    assert (cleared.status, cleared.body["title"], cleared.body["description"]) == (200, "Renamed", None)
    after = stored(media_id)
    assert after["title"] == "Renamed" and "description" not in after
    assert after["updated_at"] > before["updated_at"]
    assert {k: after[k] for k in ("status", "owner_id", "object_key")} == {
        k: before[k] for k in ("status", "owner_id", "object_key")
    }


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": "ready"},
        {"title": "x", "owner_id": "someone"},
        {"title": "x", "object_key": "uploads/other"},
        {"size_bytes": 1},
        {"title": None},
        {"title": ""},
    ],
)
def test_a_bad_edit_is_422_and_changes_nothing(create: Any, invoke: Invoke, team: Team, body: dict[str, Any]) -> None:
    media_id = create(team.editor.token).body["media"]["id"]
    before = stored(media_id)

    reply = invoke("media_update", token=team.editor.token, body=body, **at(media_id))

    assert reply.status == 422
    assert stored(media_id) == before


def test_delete_removes_the_object_and_repeats_harmlessly(ready: Any, invoke: Invoke, team: Team) -> None:
    media_id = ready(team.editor.token)

    first = invoke("media_delete", token=team.editor.token, **at(media_id))
    again = invoke("media_delete", token=team.editor.token, **at(media_id))
    others = invoke("media_delete", token=team.other_editor.token, **at(media_id))
    read_back = invoke("media_get", token=team.editor.token, **at(media_id))

    assert first.status == again.status == 204
    assert others.status == read_back.status == 404
    assert stored(media_id)["status"] == "deleted"
    assert not object_exists(f"uploads/{media_id}")
    assert invoke("media_get", token=team.viewer.token, **at(media_id)).status == 404


def test_an_admin_deletes_any_media(ready: Any, invoke: Invoke, team: Team) -> None:
    media_id = ready(team.editor.token)

    assert invoke("media_delete", token=team.admin.token, **at(media_id)).status == 204
    assert invoke("media_delete", token=team.admin.token, **at(media_id)).status == 204
    assert stored(media_id)["status"] == "deleted"
    assert not object_exists(f"uploads/{media_id}")


def test_editing_deleted_media_is_refused_without_a_500(create: Any, invoke: Invoke, team: Team) -> None:
    media_id = create(team.editor.token).body["media"]["id"]
    invoke("media_delete", token=team.admin.token, **at(media_id))

    reply = invoke("media_update", token=team.admin.token, body={"title": "back"}, **at(media_id))

    assert reply.status == 409
    assert stored(media_id)["title"] == "Keynote"


# AWS failures: one translator for every S3 call


def failing_s3(operation: str, code: str, *routed: str) -> Stubber:
    """S3 as moto serves it, except that `operation` fails once with `code` (botocore has retried already)."""
    stubbed = boto3.client("s3", region_name="us-east-1")
    stubber = Stubber(stubbed)
    stubber.add_client_error(operation, code, http_status_code=503 if code == "SlowDown" else 403)
    stubber.activate()
    clients.override("s3", RoutedCalls(clients.s3(), stubbed, *(routed or (operation,))))
    return stubber


def test_s3_slowdown_while_deleting_is_a_503_and_a_retry_finishes_it(ready: Any, invoke: Invoke, team: Team) -> None:
    media_id = ready(team.editor.token)
    stubber = failing_s3("list_object_versions", "SlowDown", "get_paginator")

    busy = invoke("media_delete", token=team.editor.token, **at(media_id))
    clients.reset()
    again = invoke("media_delete", token=team.editor.token, **at(media_id))

    assert busy.status == 503 and busy.headers["retry-after"] == "2"
    stubber.assert_no_pending_responses()
    assert again.status == 204 and not object_exists(f"uploads/{media_id}")


@pytest.mark.parametrize(("code", "status"), [("SlowDown", 503), ("AccessDenied", 500)])
def test_starting_a_multipart_upload_translates_only_throttling(
    invoke: Invoke, team: Team, code: str, status: int
) -> None:
    failing_s3("create_multipart_upload", code)

    reply = invoke("media_create", token=team.editor.token, body=new_media(size_bytes=10 * MiB, multipart=True))

    assert reply.status == status
    assert ("correlation_id" in reply.body) == (status == 500)  # an unexpected error is the generic 500
    assert media_items() == []


def test_s3_slowdown_while_verifying_fails_only_that_record(create: Any, team: Team) -> None:
    media_id = create(team.editor.token).body["media"]["id"]
    s3().put_object(Bucket=BUCKET, Key=f"uploads/{media_id}", Body=MP4, ContentType="video/mp4")
    failing_s3("head_object", "SlowDown")

    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET})

    result = process(notification(f"uploads/{media_id}"), test_event)

    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}  # SQS redelivers it later
    assert stored(media_id)["status"] == "pending_upload"


@pytest.mark.parametrize("code", ["403", "AccessDenied"])
def test_a_403_on_head_of_an_object_deleted_meanwhile_settles_the_record(create: Any, team: Team, code: str) -> None:
    # Given a notification for an object deleted since (on AWS, HEAD answers a missing key with 403 to a role whose
    # s3:ListBucket does not apply to the request)
    media_id = create(team.editor.token).body["media"]["id"]
    stubber = failing_s3("head_object", code)

    result = process(notification(f"uploads/{media_id}"))

    # Then listing the key shows it gone: the record is done, not retried into the dead-letter queue
    stubber.assert_no_pending_responses()
    assert result == {"batchItemFailures": []}
    assert stored(media_id)["status"] == "pending_upload"  # the expiry sweep settles it


def test_a_403_on_head_of_an_object_that_is_there_is_retried(create: Any, team: Team) -> None:
    # Given an uploaded object that the processor's role may not read (a real denial: a broken policy)
    media_id = create(team.editor.token).body["media"]["id"]
    s3().put_object(Bucket=BUCKET, Key=f"uploads/{media_id}", Body=MP4, ContentType="video/mp4")
    failing_s3("head_object", "403")
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET})

    result = process(notification(f"uploads/{media_id}"), test_event)

    # Then that record fails, so SQS retries it and, if it persists, dead-letters it for an operator
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert stored(media_id)["status"] == "pending_upload"
    assert object_exists(f"uploads/{media_id}")
