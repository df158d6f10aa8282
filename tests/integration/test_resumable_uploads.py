"""Resuming uploads through the real handlers on moto: reading an upload's state (GET /media/{id}/upload), signing
parts again (POST /media/{id}/upload/parts), and how signing keeps a slow upload from the expiry sweep."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from media_platform import uploads
from media_platform.dal import media as media_table
from media_platform.uploads import EXPIRY_GRACE_SECONDS, MULTIPART_COMPLETION_GRACE_SECONDS, MiB
from tests.integration.conftest import Invoke, Reply, Team, restored_seeded_stack
from tests.integration.media_support import BUCKET, MP4, at, new_media, notification, process, put_and_process, s3
from tests.integration.media_support import table as media_items_table
from tests.support import EVENTS, Clock, FakeContext, handler_of

aws, team = restored_seeded_stack()

URL_TTL = 900  # UploadUrlExpirySeconds in template.yaml
THREE_PARTS = 10 * MiB + 1000  # two parts of 5 MiB and a short last one


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:  # this module's own: upload deadlines, not tokens
    """The clock of upload deadlines, moved by the test (URLs are still signed with the real time)."""
    now = Clock(1_800_000_000.0)
    monkeypatch.setattr(uploads, "clock", now)
    return now


def create(invoke: Invoke, token: str, **changes: Any) -> dict[str, Any]:
    reply = invoke("media_create", token=token, body=new_media(**changes))
    assert reply.status == 201, reply.body
    created: dict[str, Any] = reply.body
    return created


def multipart(invoke: Invoke, token: str, size: int = THREE_PARTS) -> dict[str, Any]:
    return create(invoke, token, size_bytes=size, multipart=True)


def state(invoke: Invoke, token: str, media_id: str) -> Reply:
    return invoke("upload_status", token=token, **at(media_id, "/upload"))


def sign(invoke: Invoke, token: str, media_id: str, numbers: Any) -> Reply:
    return invoke("upload_parts", token=token, body={"part_numbers": numbers}, **at(media_id, "/upload/parts"))


def upload_part(created: dict[str, Any], number: int, data: bytes) -> str:
    etag: str = s3().upload_part(
        Bucket=BUCKET,
        Key=f"uploads/{created['media']['id']}",
        UploadId=created["upload"]["upload_id"],
        PartNumber=number,
        Body=data,
    )["ETag"]
    return etag


def deadline(media_id: str) -> int:
    return int(media_items_table().get_item(Key={"media_id": media_id})["Item"]["upload_expires_at"])


def status(media_id: str) -> str:
    return str(media_items_table().get_item(Key={"media_id": media_id})["Item"]["status"])


def sweep() -> dict[str, int]:
    handler = handler_of("upload_expiry")
    result: dict[str, int] = handler(json.loads((EVENTS / "upload_expiry.json").read_text()), FakeContext())
    return result


# GET /media/{media_id}/upload


def test_the_state_lists_the_parts_s3_holds(invoke: Invoke, team: Team) -> None:
    # Given a three-part upload of which part 1 was sent
    created = multipart(invoke, team.editor.token)
    etag = upload_part(created, 1, MP4 + bytes(5 * MiB - len(MP4)))

    # When its owner (or an admin) reads the upload's state
    mine = state(invoke, team.editor.token, created["media"]["id"])
    admins = state(invoke, team.admin.token, created["media"]["id"])

    # Then it shows part 1 with its size and ETag, and the part size and count to send the rest with
    assert mine.status == admins.status == 200, mine.body
    assert mine.body == admins.body
    assert mine.body["method"] == "multipart"
    assert (mine.body["upload_id"], mine.body["part_size"], mine.body["part_count"]) == (
        created["upload"]["upload_id"],
        5 * MiB,
        3,
    )
    assert mine.body["parts"] == [{"part_number": 1, "size": 5 * MiB, "etag": etag}]
    assert mine.body["object_received"] is False


def test_a_completed_upload_awaiting_verification_shows_its_object_received(invoke: Invoke, team: Team) -> None:
    created = multipart(invoke, team.editor.token, size=10 * MiB)
    data = MP4 + bytes(10 * MiB - len(MP4))
    parts = [{"part_number": n, "etag": upload_part(created, n, data[(n - 1) * 5 * MiB : n * 5 * MiB])} for n in (1, 2)]
    media_id = created["media"]["id"]
    completed = invoke(
        "upload_complete", token=team.editor.token, body={"parts": parts}, **at(media_id, "/upload/complete")
    )
    assert completed.status == 202

    reply = state(invoke, team.editor.token, media_id)

    assert reply.status == 200
    assert (reply.body["object_received"], reply.body["parts"]) == (True, [])


def test_the_state_of_a_presigned_post_says_whether_the_object_arrived(invoke: Invoke, team: Team) -> None:
    media_id = create(invoke, team.editor.token)["media"]["id"]

    before = state(invoke, team.editor.token, media_id)
    s3().put_object(Bucket=BUCKET, Key=f"uploads/{media_id}", Body=MP4, ContentType="video/mp4")
    s3().put_object(Bucket=BUCKET, Key=f"uploads/{media_id}x", Body=MP4)  # a key it is a prefix of
    after = state(invoke, team.editor.token, media_id)

    assert (before.status, before.body["method"], before.body["object_received"]) == (200, "POST", False)
    assert (after.status, after.body["object_received"]) == (200, True)
    assert set(after.body) == {"method", "object_received", "expires_at"}


def test_media_with_no_upload_in_progress_is_a_409_naming_its_status(invoke: Invoke, team: Team) -> None:
    media_id = create(invoke, team.editor.token)["media"]["id"]
    assert put_and_process(media_id, MP4) == {"batchItemFailures": []}

    reply = state(invoke, team.editor.token, media_id)

    assert reply.status == 409
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.body["detail"] == "This media has no upload in progress: it is ready."


def test_a_multipart_upload_s3_aborted_is_a_409_to_create_again(invoke: Invoke, team: Team) -> None:
    # Given a pending asset whose S3 upload is gone, uncompleted (the bucket's one-day lifecycle rule, say)
    created = multipart(invoke, team.editor.token)
    media_id = created["media"]["id"]
    s3().abort_multipart_upload(Bucket=BUCKET, Key=f"uploads/{media_id}", UploadId=created["upload"]["upload_id"])

    reply = state(invoke, team.editor.token, media_id)

    assert reply.status == 409
    assert "create the media again" in reply.body["detail"]


def test_others_get_404_where_they_may_not_see_and_403_where_they_may_not_manage(invoke: Invoke, team: Team) -> None:
    pending = multipart(invoke, team.editor.token)["media"]["id"]
    ready = create(invoke, team.editor.token)["media"]["id"]
    assert put_and_process(ready, MP4) == {"batchItemFailures": []}

    assert state(invoke, team.other_editor.token, pending).status == 404
    assert sign(invoke, team.other_editor.token, pending, [1]).status == 404
    assert state(invoke, team.other_editor.token, ready).status == 403
    assert sign(invoke, team.other_editor.token, ready, [1]).status == 403
    assert state(invoke, team.viewer.token, ready).status == 403
    assert sign(invoke, team.viewer.token, pending, [1]).status == 403  # the role, before the asset is looked at


# POST /media/{media_id}/upload/parts


def test_signing_parts_gives_fresh_sigv4_urls_for_exactly_those_parts(invoke: Invoke, team: Team) -> None:
    created = multipart(invoke, team.editor.token)
    media_id, upload_id = created["media"]["id"], created["upload"]["upload_id"]

    reply = sign(invoke, team.admin.token, media_id, [3, 2])

    assert reply.status == 200, reply.body
    assert (reply.body["upload_id"], reply.body["part_size"], reply.body["part_count"]) == (upload_id, 5 * MiB, 3)
    assert [p["part_number"] for p in reply.body["parts"]] == [3, 2]
    for part in reply.body["parts"]:
        url = urlsplit(part["url"])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert url.path.endswith(f"/uploads/{media_id}")
        assert (query["uploadId"], query["partNumber"]) == (upload_id, str(part["part_number"]))
        assert (query["X-Amz-Algorithm"], query["X-Amz-Expires"]) == ("AWS4-HMAC-SHA256", str(URL_TTL))
        assert "X-Amz-Signature" in query and "Signature" not in query


@pytest.mark.parametrize(
    "numbers",
    [[], [0], [4], [1, 1], list(range(1, 102)), ["1"], [1.0], [True], None],
    ids=["none", "zero", "beyond-count", "repeated", "over-100", "string", "float", "bool", "null"],
)
def test_bad_part_numbers_are_422_and_move_no_deadline(invoke: Invoke, team: Team, numbers: Any) -> None:
    created = multipart(invoke, team.editor.token)
    media_id = created["media"]["id"]
    before = deadline(media_id)

    reply = sign(invoke, team.editor.token, media_id, numbers)

    assert reply.status == 422, reply.body
    assert any(e["field"].startswith("body.part_numbers") for e in reply.body["errors"])
    assert deadline(media_id) == before


def test_more_than_100_parts_are_signed_100_at_a_time(invoke: Invoke, team: Team) -> None:
    created = multipart(invoke, team.editor.token, size=50 * 1024**3)  # 985 parts
    media_id = created["media"]["id"]

    last = sign(invoke, team.editor.token, media_id, list(range(886, 986)))
    beyond = sign(invoke, team.editor.token, media_id, [986])

    assert last.status == 200 and [p["part_number"] for p in last.body["parts"]] == list(range(886, 986))
    assert beyond.status == 422
    assert beyond.body["errors"][0]["field"] == "body.part_numbers"


def test_signing_is_refused_with_409_unless_a_multipart_upload_is_pending(invoke: Invoke, team: Team) -> None:
    post = create(invoke, team.editor.token)["media"]["id"]
    aborted = multipart(invoke, team.editor.token)["media"]["id"]
    assert invoke("upload_abort", token=team.editor.token, **at(aborted, "/upload")).status == 204

    assert sign(invoke, team.editor.token, post, [1]).status == 409
    assert sign(invoke, team.editor.token, aborted, [1]).status == 409
    assert state(invoke, team.editor.token, aborted).status == 409


# Deadlines and the expiry sweep, on a controlled clock


def test_signing_moves_the_deadline_on_so_a_slow_upload_never_expires(invoke: Invoke, team: Team, clock: Clock) -> None:
    # Given a slow upload and an abandoned one, started at the same moment
    slow = multipart(invoke, team.editor.token)["media"]["id"]
    abandoned = multipart(invoke, team.editor.token)["media"]["id"]
    started = clock.now
    assert deadline(slow) == deadline(abandoned) == int(started) + URL_TTL + MULTIPART_COMPLETION_GRACE_SECONDS

    # When, for hours, the slow one signs its next parts before each batch of URLs expires, the sweep running often
    for _ in range(12):
        clock.now += URL_TTL - 60
        assert sign(invoke, team.editor.token, slow, [2, 3]).status == 200
        assert deadline(slow) == int(clock.now) + URL_TTL + MULTIPART_COMPLETION_GRACE_SECONDS
        sweep()

    # Then the slow upload is still pending, while the abandoned one ended expired and its S3 upload is gone
    assert (status(slow), status(abandoned)) == ("pending_upload", "expired")
    uploads_left = [u["Key"] for u in s3().list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]
    assert uploads_left == [f"uploads/{slow}"]

    # And once the slow one stops signing, it expires too
    clock.now += URL_TTL + MULTIPART_COMPLETION_GRACE_SECONDS + EXPIRY_GRACE_SECONDS + 1
    assert sweep() == {"expired": 1}
    assert status(slow) == "expired"


def test_a_signing_between_the_sweeps_query_and_its_write_keeps_the_upload(
    invoke: Invoke, team: Team, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an upload whose deadline passed, and a sweep that found it
    media_id = multipart(invoke, team.editor.token)["media"]["id"]
    clock.now += URL_TTL + MULTIPART_COMPLETION_GRACE_SECONDS + EXPIRY_GRACE_SECONDS + 1
    found = media_table.pending_expired_before

    def found_then_signed(epoch: int) -> list[Any]:
        stale = found(epoch)
        assert sign(invoke, team.editor.token, media_id, [1]).status == 200  # the client signs a part just then
        return stale

    monkeypatch.setattr(media_table, "pending_expired_before", found_then_signed)

    # When the sweep writes
    result = sweep()

    # Then the write is refused by the deadline the signing moved: the upload stays pending
    assert result == {"expired": 0}
    assert status(media_id) == "pending_upload"
    assert s3().list_multipart_uploads(Bucket=BUCKET)["Uploads"][0]["Key"] == f"uploads/{media_id}"


def test_no_signing_reaches_past_the_day_s3_keeps_a_multipart_upload(invoke: Invoke, team: Team, clock: Clock) -> None:
    media_id = multipart(invoke, team.editor.token)["media"]["id"]
    started = int(clock.now)

    clock.now = started + uploads.MULTIPART_LIFETIME_SECONDS - 100
    late = sign(invoke, team.editor.token, media_id, [1])
    clock.now = started + uploads.MULTIPART_LIFETIME_SECONDS + 1
    too_late = sign(invoke, team.editor.token, media_id, [1])

    assert late.status == 200
    assert parse_qs(urlsplit(late.body["parts"][0]["url"]).query)["X-Amz-Expires"] == ["100"]
    assert deadline(media_id) == started + uploads.MULTIPART_LIFETIME_SECONDS
    assert too_late.status == 409


def test_a_notification_after_completion_still_verifies_a_resumed_upload(invoke: Invoke, team: Team) -> None:
    # Given a resumed upload: part 1 sent, the URLs lost, parts 2 and 3 signed again and sent
    created = multipart(invoke, team.editor.token)
    media_id = created["media"]["id"]
    data = MP4 + bytes(THREE_PARTS - len(MP4))
    upload_part(created, 1, data[: 5 * MiB])
    assert sign(invoke, team.editor.token, media_id, [2, 3]).status == 200
    for n in (2, 3):
        upload_part(created, n, data[(n - 1) * 5 * MiB : n * 5 * MiB])

    # When the client completes it with the parts the state lists
    parts = [
        {"part_number": p["part_number"], "etag": p["etag"]}
        for p in state(invoke, team.editor.token, media_id).body["parts"]
    ]
    completed = invoke(
        "upload_complete", token=team.editor.token, body={"parts": parts}, **at(media_id, "/upload/complete")
    )
    result = process(notification(f"uploads/{media_id}", "ObjectCreated:CompleteMultipartUpload"))

    # Then it is verified like any upload, and S3 holds the bytes sent
    assert completed.status == 202 and result == {"batchItemFailures": []}
    assert status(media_id) == "ready"
    assert s3().get_object(Bucket=BUCKET, Key=f"uploads/{media_id}")["Body"].read() == data
