"""Media helpers shared by the integration modules that run real media through the handlers on moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3

from tests.support import EVENTS, FakeContext, handler_of

BUCKET = "media-platform-local-media-123456789012"
MEDIA_TABLE = "media-platform-local-MediaTable"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "media"
MP4 = (FIXTURES / "sample.mp4").read_bytes()


def new_media(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Keynote",
        "filename": "keynote.mp4",
        "content_type": "video/mp4",
        "size_bytes": len(MP4),
    } | changes


def at(media_id: str, suffix: str = "") -> dict[str, Any]:
    """The path and path parameters of a /media/{media_id} route."""
    return {"path": f"/media/{media_id}{suffix}", "path_params": {"media_id": media_id}}


def s3() -> Any:
    return boto3.client("s3", region_name="us-east-1")


def table() -> Any:
    return boto3.resource("dynamodb", region_name="us-east-1").Table(MEDIA_TABLE)


def notification(key: str, event_name: str = "ObjectCreated:Post") -> str:
    """An S3 event notification as S3 sends it to SQS: the key URL-encoded."""
    sample = json.loads(json.loads((EVENTS / "upload_processor.json").read_text())["Records"][0]["body"])
    record = sample["Records"][0]
    record["eventName"] = event_name
    record["s3"]["object"]["key"] = quote_plus(key)
    return json.dumps({"Records": [record]})


def process(*bodies: str) -> dict[str, Any]:
    """Runs the upload_processor handler on one SQS batch holding these message bodies (ids m0, m1, ...)."""
    template = json.loads((EVENTS / "upload_processor.json").read_text())["Records"][0]
    event = {"Records": [template | {"messageId": f"m{n}", "body": body} for n, body in enumerate(bodies)]}
    handler = handler_of("upload_processor")
    result: dict[str, Any] = handler(event, FakeContext())
    return result


def put_and_process(media_id: str, data: bytes, content_type: str = "video/mp4") -> dict[str, Any]:
    key = f"uploads/{media_id}"
    s3().put_object(Bucket=BUCKET, Key=key, Body=data, ContentType=content_type)
    return process(notification(key))
