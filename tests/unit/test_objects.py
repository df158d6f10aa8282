"""dal/objects.py against a stubbed S3 client (botocore's Stubber): no network, no emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, quote, urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

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


FROZEN = datetime(2026, 12, 2, 5, 30, 0, tzinfo=UTC)


@pytest.fixture
def frozen_signing_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.auth
    import botocore.compat
    import botocore.signers

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: FROZEN)
    for module in (botocore.signers, botocore.compat):  # a POST policy's expiration
        monkeypatch.setattr(module, "get_current_datetime", lambda: FROZEN)
    # The client's path would sign through awscrt where it is installed (not in Lambda): compare like with like.
    monkeypatch.setitem(botocore.auth.AUTH_TYPE_MAPS, "s3v4-query", botocore.auth.S3SigV4QueryAuth)


def query_of(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query, keep_blank_values=True)


@pytest.mark.parametrize(
    ("region", "config", "endpoint"),
    [
        pytest.param("us-east-1", {"addressing_style": "virtual"}, None, id="virtual-us-east-1"),
        pytest.param("eu-west-1", {"addressing_style": "virtual"}, None, id="virtual-eu-west-1"),
        pytest.param("us-east-1", {"addressing_style": "path"}, "http://127.0.0.1:4566", id="path-local"),
    ],
)
@pytest.mark.parametrize("bucket", [BUCKET, "media.with.dots"])
@pytest.mark.parametrize("token", [None, "session-token/with+chars="], ids=["static", "session"])
def test_presigned_urls_are_the_ones_the_client_would_sign(
    frozen_signing_clock: None,
    monkeypatch: pytest.MonkeyPatch,
    region: str,
    config: dict[str, str],
    endpoint: str | None,
    token: str | None,
    bucket: str,
) -> None:
    monkeypatch.setenv("MEDIA_BUCKET", bucket)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret/example+key")
    if token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    else:
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    clients.reset()  # a session that reads these credentials
    client = boto3.Session().client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        config=Config(signature_version="s3v4", s3=config),  # type: ignore[arg-type]
    )
    clients.override("s3", client)
    key = "uploads/0b9b2b1e ~é+%/name.mp4"
    disposition = "inline; filename=\"a b.mp4\"; filename*=UTF-8''a%20b%C3%A9.mp4"

    ours = objects.presigned_get(key, "v-1", "video/mp4", disposition, 900)
    theirs = client.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket,
            "Key": key,
            "VersionId": "v-1",
            "ResponseContentType": "video/mp4",
            "ResponseContentDisposition": disposition,
        },
        ExpiresIn=900,
    )
    part = objects.presigned_part_url(key, "upload/1+2", 7, 600)
    their_part = client.generate_presigned_url(
        "upload_part", Params={"Bucket": bucket, "Key": key, "UploadId": "upload/1+2", "PartNumber": 7}, ExpiresIn=600
    )

    post = objects.presigned_post(key, "video/mp4", 100 * MiB, 900)
    their_post = client.generate_presigned_post(
        bucket,
        key,
        Fields={"Content-Type": "video/mp4"},
        Conditions=[{"Content-Type": "video/mp4"}, ["content-length-range", 1, 100 * MiB]],
        ExpiresIn=900,
    )

    assert query_of(ours) == query_of(theirs)
    assert post == their_post
    assert query_of(part) == query_of(their_part)


def botocore_signed(presigner: clients.S3Presigner, method: str, url: str, params: dict[str, str], expires: int) -> str:
    """The URL botocore's own S3 query signer makes of the same request."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method=method, url=url, params=params)
    credentials = presigner._credentials.get_frozen_credentials()
    S3SigV4QueryAuth(credentials, "s3", presigner._region, expires).add_auth(request)
    return str(request.url)


def botocore_post(
    presigner: clients.S3Presigner,
    bucket: str,
    key: str,
    conditions: list[Any],
    expires: int,
    now: datetime = FROZEN,
) -> dict[str, Any]:
    """The POST botocore's own S3SigV4PostAuth signs, with the policy generate_presigned_post would give it."""
    from botocore.auth import S3SigV4PostAuth
    from botocore.awsrequest import AWSRequest

    expiration = (now + timedelta(seconds=expires)).strftime("%Y-%m-%dT%H:%M:%SZ")
    request = AWSRequest(method="POST", url=presigner._post_url(bucket))
    request.context["s3-presign-post-fields"] = {"Content-Type": "video/mp4", "key": key}
    request.context["s3-presign-post-policy"] = {
        "expiration": expiration,
        "conditions": [*conditions, {"bucket": bucket}, {"key": key}],
    }
    credentials = presigner._credentials.get_frozen_credentials()
    S3SigV4PostAuth(credentials, "s3", presigner._region).add_auth(request)
    return {"url": request.url, "fields": request.context["s3-presign-post-fields"]}


# Parameter names and values with what SigV4 must escape or sort with care: `=`, `&`, `%`, `+`, `/`, spaces,
# non-ASCII, names that are prefixes of others ("a" and "a-b" sort differently as strings than as pairs).
TEXT = st.text(alphabet=st.sampled_from("aZ09-_.~ =&%+/?#é漢😀\"';"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    key=st.text(alphabet=st.sampled_from("aZ09-_.~ /%+é漢😀?#"), min_size=1, max_size=20),
    params=st.dictionaries(st.text(alphabet=st.sampled_from("ab-X."), min_size=1, max_size=4), TEXT, max_size=4),
    method=st.sampled_from(["GET", "PUT"]),
    expires=st.integers(min_value=1, max_value=604800),
    endpoint=st.sampled_from(
        ["https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:4566", "http://LocalHost:80", "http://[::1]:4566"]
    ),
    token=st.sampled_from([None, "token/+="]),
)
def test_presigned_urls_and_posts_are_the_ones_botocores_signers_make(
    key: str, params: dict[str, str], method: str, expires: int, endpoint: str, token: str | None
) -> None:
    from botocore.credentials import Credentials

    client = boto3.client(
        "s3",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    presigner = clients.S3Presigner(client)
    presigner._credentials = Credentials("AKIDEXAMPLE", "secret/key+", token)
    frozen = mock.patch("botocore.auth.get_current_datetime", lambda: FROZEN)
    with frozen, mock.patch("botocore.compat.get_current_datetime", lambda: FROZEN):
        ours = presigner.url(method, "media-test-bucket", key, params, expires)
        url = presigner._bucket_url("media-test-bucket") + quote(key, safe="/~")
        assert ours == botocore_signed(presigner, method, url, params, expires)
        conditions = [{"Content-Type": "video/mp4"}, ["content-length-range", 1, expires]]
        post = presigner.post("media-test-bucket", key, {"Content-Type": "video/mp4"}, conditions, expires)
        assert post == botocore_post(presigner, "media-test-bucket", key, conditions, expires)


def test_the_signatures_timestamps_move_with_the_clock() -> None:
    """The presigner formats its timestamps once a second: within a second, across one, and back again, each URL and
    POST is still the one botocore signs at that moment."""
    from botocore.credentials import Credentials

    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="s")
    presigner = clients.S3Presigner(client)
    presigner._credentials = Credentials("AKIDEXAMPLE", "secret/key+")
    url = presigner._bucket_url("media-test-bucket") + "k"
    conditions = [{"Content-Type": "video/mp4"}]
    start = datetime(2026, 12, 31, 23, 59, 59, 400_000, tzinfo=UTC)
    dates = []
    for moment in (start, start + timedelta(milliseconds=500), start + timedelta(seconds=1), start):
        now = lambda moment=moment: moment  # noqa: E731
        with (
            mock.patch("botocore.auth.get_current_datetime", now),
            mock.patch("botocore.compat.get_current_datetime", now),
        ):
            ours = presigner.url("GET", "media-test-bucket", "k", {}, 60)
            assert ours == botocore_signed(presigner, "GET", url, {}, 60)
            post = presigner.post("media-test-bucket", "k", {"Content-Type": "video/mp4"}, conditions, 60)
            assert post == botocore_post(presigner, "media-test-bucket", "k", conditions, 60, now=moment)
        dates.append(parse_qs(urlsplit(ours).query)["X-Amz-Date"][0])

    assert dates == ["20261231T235959Z", "20261231T235959Z", "20270101T000000Z", "20261231T235959Z"]
