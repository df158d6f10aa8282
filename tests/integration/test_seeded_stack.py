"""The stack that test_media.py's tests share: Seeded.restore() brings back exactly the state right after seeding,
whatever a test left behind, so sharing one stack keeps the tests as isolated as a fresh stack each."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.conftest import Seeded, call_handler, seeded_stack

MiB = 1024**2
NEW_MEDIA = {"title": "Keynote", "filename": "keynote.mp4", "content_type": "video/mp4", "size_bytes": 10 * MiB}


def tables(stack: Seeded) -> dict[str, list[str]]:
    return {name: sorted(json.dumps(item, sort_keys=True) for item in stack.scan(name)) for name in stack.keys}


def leftovers(stack: Seeded) -> dict[str, Any]:
    """Whatever the buckets and queues hold."""
    s3, sqs = stack.s3, stack.sqs
    held: dict[str, Any] = {}
    for bucket in stack.buckets:
        versions = s3.list_object_versions(Bucket=bucket)
        held[bucket] = [
            *versions.get("Versions", []),
            *versions.get("DeleteMarkers", []),
            *s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []),
        ]
    for url in stack.queues:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        held[url] = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
    return {where: what for where, what in held.items() if what}


def test_restore_undoes_everything_a_test_leaves_behind() -> None:
    with seeded_stack() as stack:
        # Given the stack as a test finds it
        stack.restore()
        seeded = tables(stack)
        assert leftovers(stack) == {}

        # When a test writes to every table, changes a seeded user, and leaves objects, versions, a delete marker,
        # a multipart upload and queue messages behind
        team = stack.team
        created = call_handler(
            "media_create",
            token=team.editor.token,
            body=NEW_MEDIA | {"multipart": True},
            headers={"idempotency-key": "k"},
        )
        assert created.status == 201
        assert (
            call_handler("auth_login", body={"email": "viewer@example.com", "password": "wrong password"}).status == 401
        )
        users = next(name for name in stack.keys if name.endswith("UsersTable"))
        stack.dynamodb.update_item(
            TableName=users,
            Key={"pk": {"S": f"USER#{team.viewer.id}"}},
            UpdateExpression="SET #role = :admin",
            ExpressionAttributeNames={"#role": "role"},
            ExpressionAttributeValues={":admin": {"S": "admin"}},
        )
        for name in stack.keys:  # the view log and the daily stats, written by no handler this test runs
            if name.endswith(("ViewsTable", "DailyStatsTable")):
                item = {"pk": {"S": "VIEWS#2026-01-01#000"}, "sk": {"S": "left#behind"}, "day": {"S": "2026-01-01"}}
                stack.dynamodb.put_item(TableName=name, Item=item)
        [bucket] = stack.buckets
        for body in (b"first", b"second"):
            stack.s3.put_object(Bucket=bucket, Key=f"uploads/{created.body['media']['id']}", Body=body)
        stack.s3.delete_object(Bucket=bucket, Key="uploads/elsewhere")
        assert all(tables(stack)[name] != seeded[name] for name in seeded)
        uploads_queue = next(url for url in stack.queues if url.endswith("-UploadsQueue"))
        assert set(leftovers(stack)) == {bucket, uploads_queue}

        stack.restore()

        # Then it is back as seeded
        assert tables(stack) == seeded
        assert leftovers(stack) == {}
