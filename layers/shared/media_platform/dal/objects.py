"""The media bucket: presigning uploads (no network call), and reading, completing and deleting objects.

The bucket is versioned: verification pins the version it checked, and deleting removes every version."""

from __future__ import annotations

from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from media_platform import clients
from media_platform.dal.aws_errors import busy_on_throttle, error_code
from media_platform.settings import get_settings


class PartsRejected(Exception):
    """S3 would not complete the multipart upload from these parts: unknown or mismatched parts, a part under 5 MiB
    but the last, or the upload is gone."""


class UploadGone(Exception):
    """S3 no longer has this multipart upload: it was completed or aborted."""


class Part(NamedTuple):
    number: int
    size: int
    etag: str


# HEAD answers with a bare status, so botocore names the error by it: 403 where the caller may not list the bucket.
DENIED_CODES = {"403", "AccessDenied", "Forbidden"}


class ObjectsNotDeleted(RuntimeError):
    """S3 refused to delete some versions; the caller fails and is retried."""


def _bucket() -> str:
    return get_settings().resource("media_bucket")


def presigned_post(key: str, content_type: str, size_bytes: int, expires_in: int) -> dict[str, Any]:
    """A POST policy pinned to this key, this exact Content-Type and 1..size_bytes bytes."""
    return clients.s3_presigner().post(
        _bucket(),
        key,
        fields={"Content-Type": content_type},
        conditions=[{"Content-Type": content_type}, ["content-length-range", 1, size_bytes]],
        expires_in=expires_in,
    )


def presigned_get(key: str, version_id: str, content_type: str, disposition: str, expires_in: int) -> str:
    """A SigV4 GET of exactly this version, answering with this Content-Type and Content-Disposition. S3 serves
    Range requests on it, so a player seeks without coming back to the API."""
    params = {
        "response-content-disposition": disposition,
        "response-content-type": content_type,
        "versionId": version_id,
    }
    return clients.s3_presigner().url("GET", _bucket(), key, params, expires_in)


def start_multipart(key: str, content_type: str) -> str:
    with busy_on_throttle():
        upload = clients.s3().create_multipart_upload(Bucket=_bucket(), Key=key, ContentType=content_type)
    return str(upload["UploadId"])


def presigned_part_url(key: str, upload_id: str, part_number: int, expires_in: int) -> str:
    params = {"partNumber": str(part_number), "uploadId": upload_id}
    return clients.s3_presigner().url("PUT", _bucket(), key, params, expires_in)


def list_parts(key: str, upload_id: str) -> list[Part]:
    """Every part S3 holds of the upload, by part number; ListParts answers 1,000 at most a page. UploadGone when
    the upload was completed or aborted."""
    found: list[Part] = []
    try:
        with busy_on_throttle():
            pages = clients.s3().get_paginator("list_parts").paginate(Bucket=_bucket(), Key=key, UploadId=upload_id)
            for page in pages:
                found += [Part(int(p["PartNumber"]), int(p["Size"]), str(p["ETag"])) for p in page.get("Parts", [])]
    except ClientError as exc:
        if error_code(exc) == "NoSuchUpload":
            raise UploadGone(upload_id) from exc
        raise
    return found


def exists(key: str) -> bool:
    """Whether the key has a current object, read by listing the one key (s3:ListBucket under its prefix)."""
    with busy_on_throttle():
        listed = clients.s3().list_objects_v2(Bucket=_bucket(), Prefix=key, MaxKeys=1)
    # Keys sort by their bytes, so the key itself comes before any longer key it is a prefix of.
    return any(entry["Key"] == key for entry in listed.get("Contents", []))


def complete_multipart(key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
    """Raises PartsRejected when S3 refuses these parts."""
    try:
        with busy_on_throttle():
            clients.s3().complete_multipart_upload(
                Bucket=_bucket(),
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": number, "ETag": etag} for number, etag in parts]},
            )
    except ClientError as exc:
        if error_code(exc) in {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "NoSuchUpload"}:
            raise PartsRejected() from exc
        raise


def abort_multipart(key: str, upload_id: str) -> None:
    try:
        with busy_on_throttle():
            clients.s3().abort_multipart_upload(Bucket=_bucket(), Key=key, UploadId=upload_id)
    except ClientError as exc:
        if error_code(exc) != "NoSuchUpload":  # already aborted or completed: nothing left to abort
            raise


def head(key: str) -> dict[str, Any] | None:
    """The current version's metadata (`VersionId`, `ContentLength`, `ContentType`, `ETag`), or None when there is
    no object. S3 answers a HEAD of a missing key with 404 only to a caller whose s3:ListBucket covers the key (the
    processor's grant, narrowed to `uploads/*` by s3:prefix), and with 403 to anyone else: should the grant ever
    not apply, a 403 is checked by listing the key. Gone means None; still there means the denial is real, and it
    is raised (the record is retried, then dead-lettered for an operator)."""
    try:
        with busy_on_throttle():
            found: dict[str, Any] = clients.s3().head_object(Bucket=_bucket(), Key=key)
    except ClientError as exc:
        if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
            return None
        if error_code(exc) in DENIED_CODES and not exists(key):
            return None
        raise
    return found


def read_head(key: str, version_id: str, length: int) -> bytes:
    """The first bytes of exactly this version, whatever has been uploaded over it since."""
    with busy_on_throttle():
        body = clients.s3().get_object(Bucket=_bucket(), Key=key, VersionId=version_id, Range=f"bytes=0-{length - 1}")
        data: bytes = body["Body"].read()
    return data


def _versions(key: str) -> list[str]:
    """Every version id of the key, delete markers included (the bucket is versioned)."""
    found: list[str] = []
    with busy_on_throttle():
        for page in clients.s3().get_paginator("list_object_versions").paginate(Bucket=_bucket(), Prefix=key):
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if entry["Key"] == key:
                    found.append(str(entry["VersionId"]))
    return found


def _delete_versions(key: str, version_ids: list[str]) -> None:
    for start in range(0, len(version_ids), 1000):  # DeleteObjects takes at most 1,000 keys
        batch = [{"Key": key, "VersionId": v} for v in version_ids[start : start + 1000]]
        with busy_on_throttle():
            answer = clients.s3().delete_objects(Bucket=_bucket(), Delete={"Objects": batch, "Quiet": True})
        if answer.get("Errors"):
            raise ObjectsNotDeleted(f"{len(answer['Errors'])} versions of an object could not be deleted")


def delete(key: str) -> None:
    """Removes the object for good: every version, not just a delete marker over them."""
    _delete_versions(key, _versions(key))


def keep_only(key: str, version_id: str) -> int:
    """Deletes every version of the key but `version_id`; returns how many went."""
    others = [v for v in _versions(key) if v != version_id]
    _delete_versions(key, others)
    return len(others)
