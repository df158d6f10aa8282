"""The media bucket: presigning uploads (no network call), and reading, completing and deleting objects."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from media_platform import clients
from media_platform.dal.dynamo import error_code
from media_platform.errors import InvalidInput, ServiceBusy
from media_platform.settings import get_settings


def _bucket() -> str:
    return get_settings().media_bucket


def presigned_post(key: str, content_type: str, size_bytes: int, expires_in: int) -> dict[str, Any]:
    """A POST policy pinned to this key, this exact Content-Type and 1..size_bytes bytes."""
    post: dict[str, Any] = clients.s3().generate_presigned_post(
        Bucket=_bucket(),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, size_bytes]],
        ExpiresIn=expires_in,
    )
    return post


def start_multipart(key: str, content_type: str) -> str:
    try:
        upload = clients.s3().create_multipart_upload(Bucket=_bucket(), Key=key, ContentType=content_type)
    except (ClientError, BotoCoreError) as exc:
        raise ServiceBusy("Storage is unavailable; retry shortly.", retry_after=2) from exc
    return str(upload["UploadId"])


def presigned_part_url(key: str, upload_id: str, part_number: int, expires_in: int) -> str:
    url: str = clients.s3().generate_presigned_url(
        "upload_part",
        Params={"Bucket": _bucket(), "Key": key, "UploadId": upload_id, "PartNumber": part_number},
        ExpiresIn=expires_in,
    )
    return url


def complete_multipart(key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
    try:
        clients.s3().complete_multipart_upload(
            Bucket=_bucket(),
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": number, "ETag": etag} for number, etag in parts]},
        )
    except ClientError as exc:
        if error_code(exc) in {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "NoSuchUpload"}:
            raise InvalidInput("The parts do not complete this upload.", field="body.parts") from exc
        raise


def abort_multipart(key: str, upload_id: str) -> None:
    try:
        clients.s3().abort_multipart_upload(Bucket=_bucket(), Key=key, UploadId=upload_id)
    except ClientError as exc:
        if error_code(exc) != "NoSuchUpload":  # already aborted or completed: nothing left to abort
            raise


def head(key: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = clients.s3().head_object(Bucket=_bucket(), Key=key)
    except ClientError as exc:
        if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return found


def read_head(key: str, length: int) -> bytes:
    body = clients.s3().get_object(Bucket=_bucket(), Key=key, Range=f"bytes=0-{length - 1}")["Body"]
    data: bytes = body.read()
    return data


def delete(key: str) -> None:
    clients.s3().delete_object(Bucket=_bucket(), Key=key)  # idempotent: deleting a missing key succeeds
