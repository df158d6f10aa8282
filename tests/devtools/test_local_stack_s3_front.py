"""The local stack's S3 front on its own: a recording stand-in for moto behind it, requests signed by boto3 the way
the product signs them (SigV4, path style), and a clock the test sets."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import boto3
import pytest
from botocore.config import Config
from werkzeug.datastructures import MultiDict
from werkzeug.test import Client, EnvironBuilder, TestResponse

from devtools.local_stack.s3_front import CorsRule, S3Front

ENDPOINT = "http://s3.local:5000"
BUCKET, OTHER_BUCKET = "media-bucket", "other-bucket"
ALLOWED, FOREIGN = "http://localhost:3000", "https://evil.example"
KEY = "uploads/3f0c"
RULE = CorsRule.from_api(
    {
        "AllowedOrigins": [ALLOWED],
        "AllowedMethods": ["POST", "PUT", "GET", "HEAD"],
        "AllowedHeaders": ["Content-Type", "Range", "x-amz-*"],
        "ExposeHeaders": ["ETag", "Content-Range"],
        "MaxAgeSeconds": 3000,
    }
)


class Moto:
    """Stands in for moto: records what reached it and answers 204, with moto's own CORS header."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.bodies.append(environ["wsgi.input"].read())
        start_response("204 No Content", [("Access-Control-Allow-Origin", "*"), ("ETag", '"e"')])
        return [b""]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def moto() -> Moto:
    return Moto()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def s3(moto: Moto, clock: Clock) -> Client:
    front = S3Front(moto, {BUCKET: [RULE], OTHER_BUCKET: []}, {"local": "local"}, clock=clock)
    return Client(front)


def signer(signature_version: str = "s3v4", secret: str = "local", region: str = "us-east-1") -> Any:
    config = Config(signature_version=signature_version, s3={"addressing_style": "path"})
    return boto3.client(
        "s3",
        region_name=region,
        endpoint_url=ENDPOINT,
        aws_access_key_id="local",
        aws_secret_access_key=secret,
        config=config,
    )


def presigned_post(size: int = 10, expires_in: int = 900, **options: Any) -> dict[str, Any]:
    """The POST the product signs (media_platform.dal.objects.presigned_post)."""
    post: dict[str, Any] = (options.pop("client", None) or signer()).generate_presigned_post(
        Bucket=BUCKET,
        Key=KEY,
        Fields={"Content-Type": "video/mp4"},
        Conditions=[{"Content-Type": "video/mp4"}, ["content-length-range", 1, size]],
        ExpiresIn=expires_in,
    )
    return post


def send(
    s3: Client, fields: dict[str, str], data: bytes = b"0123456789", bucket: str = BUCKET, **headers: str
) -> TestResponse:
    form: dict[str, Any] = {**fields, "file": (io.BytesIO(data), "clip.mp4", "video/mp4")}
    return s3.post(f"/{bucket}", data=form, base_url=ENDPOINT, headers=headers)


def error(response: TestResponse) -> dict[str, str]:
    root = ElementTree.fromstring(response.data)  # noqa: S314 (the front's own answer)
    return {child.tag: child.text or "" for child in root}


def expiration(post: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(json.loads(base64.b64decode(post["fields"]["policy"]))["expiration"])


def other_last_digit(signed: str) -> str:
    return signed[:-1] + ("1" if signed.endswith("0") else "0")


def resign(fields: dict[str, str], policy: dict[str, Any]) -> dict[str, str]:
    """Replaces the policy without re-signing it: what a client tampering with the policy can do."""
    return {**fields, "policy": base64.b64encode(json.dumps(policy).encode()).decode()}


# --- the presigned POST --------------------------------------------------------------------------------------------


def test_the_form_the_product_signs_is_passed_on_unchanged(s3: Client, moto: Moto) -> None:
    response = send(s3, presigned_post()["fields"])

    assert response.status_code == 204
    assert len(moto.bodies) == 1 and b"0123456789" in moto.bodies[0]


def test_a_sigv2_form_is_refused_as_s3_refuses_it_for_a_bucket_created_since_2020(s3: Client, moto: Moto) -> None:
    fields = presigned_post(client=signer("s3"))["fields"]
    assert "signature" in fields

    response = send(s3, fields)

    assert response.status_code == 400 and b"<Code>InvalidRequest</Code>" in response.data
    assert moto.bodies == []


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda f: {**f, "x-amz-signature": "0" * 64}, id="zeroed signature"),
        pytest.param(lambda f: {**f, "x-amz-signature": other_last_digit(f["x-amz-signature"])}, id="one digit"),
        pytest.param(
            lambda f: resign(f, {**json.loads(base64.b64decode(f["policy"])), "conditions": []}), id="edited policy"
        ),
    ],
)
def test_a_tampered_signature_or_policy_is_signature_does_not_match(s3: Client, moto: Moto, tamper: Any) -> None:
    response = send(s3, tamper(presigned_post()["fields"]))

    assert response.status_code == 403 and error(response)["Code"] == "SignatureDoesNotMatch"
    assert moto.bodies == []


def test_another_secret_or_an_unknown_access_key_is_refused(s3: Client) -> None:
    wrong_secret = send(s3, presigned_post(client=signer(secret="guess"))["fields"])
    fields = presigned_post()["fields"]
    unknown_key = send(s3, {**fields, "x-amz-credential": "AKIA" + fields["x-amz-credential"][5:]})

    assert (wrong_secret.status_code, error(wrong_secret)["Code"]) == (403, "SignatureDoesNotMatch")
    assert (unknown_key.status_code, error(unknown_key)["Code"]) == (403, "InvalidAccessKeyId")


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        ({"key": "uploads/another-asset"}, f'["eq", "$key", "{KEY}"]'),
        ({"key": "elsewhere/3f0c"}, f'["eq", "$key", "{KEY}"]'),
        ({"Content-Type": "text/html"}, '["eq", "$content-type", "video/mp4"]'),
    ],
)
def test_a_field_the_policy_pins_cannot_change(s3: Client, moto: Moto, change: dict[str, str], failed: str) -> None:
    response = send(s3, {**presigned_post()["fields"], **change})

    assert response.status_code == 403
    assert error(response)["Code"] == "AccessDenied"
    assert error(response)["Message"] == f"Invalid according to Policy: Policy Condition failed: {failed}"
    assert moto.bodies == []


@pytest.mark.parametrize("second", ["content-type", "Content-Type"])
def test_a_second_value_of_a_pinned_field_cannot_slip_past_the_policy(s3: Client, moto: Moto, second: str) -> None:
    # Given the signed form with a second Content-Type first in the body, in either spelling of its name
    fields = presigned_post()["fields"]
    form = MultiDict([(second, "text/html"), *fields.items(), ("file", (io.BytesIO(b"1"), "clip", "text/html"))])

    response = s3.post(f"/{BUCKET}", data=form, base_url=ENDPOINT)

    assert response.status_code == 403 and "$content-type" in error(response)["Message"]
    assert moto.bodies == []


def test_the_policy_holds_for_its_own_bucket_only(s3: Client) -> None:
    response = send(s3, presigned_post()["fields"], bucket=OTHER_BUCKET)

    assert response.status_code == 403 and '"$bucket"' in error(response)["Message"]


def test_starts_with_conditions_hold_for_the_prefix_only(s3: Client) -> None:
    post = signer().generate_presigned_post(
        Bucket=BUCKET, Key="uploads/${filename}", Conditions=[["starts-with", "$key", "uploads/"]]
    )

    inside = send(s3, {**post["fields"], "key": "uploads/a"})
    outside = send(s3, {**post["fields"], "key": "private/a"})

    assert inside.status_code == 204
    assert outside.status_code == 403 and '["starts-with", "$key", "uploads/"]' in error(outside)["Message"]


def test_a_field_no_condition_covers_is_refused_unless_x_ignore(s3: Client, moto: Moto) -> None:
    fields = presigned_post()["fields"]

    extra = send(s3, {**fields, "x-amz-meta-owner": "someone"})
    ignored = send(s3, {**fields, "x-ignore-note": "anything"})

    assert extra.status_code == 403
    assert error(extra)["Message"] == "Invalid according to Policy: Extra input fields: x-amz-meta-owner"
    assert ignored.status_code == 204 and len(moto.bodies) == 1


def test_a_body_outside_the_length_range_is_too_large_or_too_small(s3: Client, moto: Moto) -> None:
    fields = presigned_post(size=10)["fields"]

    exact = send(s3, fields, b"x" * 10)
    large = send(s3, fields, b"x" * 11)
    small = send(s3, fields, b"")

    assert exact.status_code == 204
    assert (large.status_code, error(large)["Code"]) == (400, "EntityTooLarge")
    assert (error(large)["ProposedSize"], error(large)["MaxSizeAllowed"]) == ("11", "10")
    assert (small.status_code, error(small)["Code"]) == (400, "EntityTooSmall")
    assert (error(small)["ProposedSize"], error(small)["MinSizeAllowed"]) == ("0", "1")
    assert len(moto.bodies) == 1


def test_the_policy_is_good_until_its_expiration_and_expired_a_second_later(s3: Client, clock: Clock) -> None:
    post = presigned_post(expires_in=900)

    clock.now = expiration(post)
    at_expiry = send(s3, post["fields"])
    clock.now = expiration(post) + timedelta(seconds=1)
    after = send(s3, post["fields"])

    assert at_expiry.status_code == 204
    assert after.status_code == 403
    assert error(after) | {"RequestId": ""} == {
        "Code": "AccessDenied",
        "Message": "Invalid according to Policy: Policy expired.",
        "RequestId": "",
        "HostId": "local",
    }


@pytest.mark.parametrize(
    ("drop", "status", "code"),
    [("policy", 403, "AccessDenied"), ("key", 400, "InvalidArgument"), ("x-amz-signature", 400, "InvalidArgument")],
)
def test_a_form_missing_what_s3_requires_is_refused(s3: Client, moto: Moto, drop: str, status: int, code: str) -> None:
    fields = {k: v for k, v in presigned_post()["fields"].items() if k != drop}

    response = send(s3, fields)

    assert (response.status_code, error(response)["Code"]) == (status, code)
    assert moto.bodies == []


def test_a_form_without_a_file_is_refused(s3: Client) -> None:
    response = s3.post(
        f"/{BUCKET}", data={**presigned_post()["fields"], "x": (io.BytesIO(b"1"), "x")}, base_url=ENDPOINT
    )

    assert (response.status_code, error(response)["Code"]) == (400, "InvalidArgument")


# --- presigned URLs ------------------------------------------------------------------------------------------------


def presigned(operation: str = "get_object", expires_in: int = 600, region: str = "us-east-1", **params: Any) -> str:
    url: str = signer(region=region).generate_presigned_url(
        operation, Params={"Bucket": BUCKET, "Key": KEY, **params}, ExpiresIn=expires_in
    )
    return url


def get(s3: Client, url: str, method: str = "GET", **headers: str) -> TestResponse:
    parts = urlsplit(url)
    return s3.open(
        parts.path, method=method, query_string=parts.query, base_url=ENDPOINT, headers=headers, data=b"part"
    )


def signed_at(url: str) -> datetime:
    stamp = dict(p.split("=", 1) for p in urlsplit(url).query.split("&"))["X-Amz-Date"]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def test_a_presigned_get_works_until_it_expires(s3: Client, clock: Clock) -> None:
    url = presigned(expires_in=600, VersionId="v1", ResponseContentDisposition="attachment; filename*=UTF-8''a%20b")

    clock.now = signed_at(url) + timedelta(seconds=600)
    at_expiry = get(s3, url)
    clock.now = signed_at(url) + timedelta(seconds=601)
    after = get(s3, url)

    assert at_expiry.status_code == 204
    assert after.status_code == 403
    assert (error(after)["Code"], error(after)["Message"]) == ("AccessDenied", "Request has expired")
    assert error(after)["X-Amz-Expires"] == "600"


def test_a_presigned_part_upload_is_checked_like_a_get(s3: Client, moto: Moto) -> None:
    url = presigned("upload_part", UploadId="u-1", PartNumber=3)

    assert get(s3, url, method="PUT").status_code == 204
    assert moto.bodies == [b"part"]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda u: u.replace(KEY, "uploads/other"), id="another key"),
        pytest.param(lambda u: u.replace("X-Amz-Expires=600", "X-Amz-Expires=6000"), id="a longer expiry"),
        pytest.param(other_last_digit, id="the signature"),
    ],
)
def test_a_tampered_presigned_url_is_signature_does_not_match(s3: Client, moto: Moto, tamper: Any) -> None:
    response = get(s3, tamper(presigned()))

    assert (response.status_code, error(response)["Code"]) == (403, "SignatureDoesNotMatch")
    assert moto.bodies == []


def test_a_presigned_url_signed_for_another_host_does_not_match(s3: Client) -> None:
    response = get(s3, presigned(), Host="elsewhere.local:5000")

    assert (response.status_code, error(response)["Code"]) == (403, "SignatureDoesNotMatch")


def test_a_credential_for_another_region_is_refused_as_s3_does(s3: Client) -> None:
    query = get(s3, presigned(region="eu-west-1"))
    form = send(s3, presigned_post(client=signer(region="eu-west-1"))["fields"])

    for response in (query, form):
        assert (response.status_code, error(response)["Code"]) == (400, "AuthorizationQueryParametersError")
        assert error(response)["Region"] == "us-east-1"
        assert "the region 'eu-west-1' is wrong; expecting 'us-east-1'" in error(response)["Message"]


def test_an_expiry_over_a_week_is_refused(s3: Client) -> None:
    url = presigned().replace("X-Amz-Expires=600", "X-Amz-Expires=604801")

    response = get(s3, url)

    assert (response.status_code, error(response)["Code"]) == (400, "AuthorizationQueryParametersError")


# --- CORS ----------------------------------------------------------------------------------------------------------


def test_the_post_answers_the_allowed_origin_with_the_buckets_cors_headers(s3: Client) -> None:
    response = send(s3, presigned_post()["fields"], Origin=ALLOWED)

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Access-Control-Expose-Headers"] == "ETag, Content-Range"
    assert response.headers["Access-Control-Allow-Methods"] == "POST, PUT, GET, HEAD"
    assert "Origin" in response.headers["Vary"]
    assert response.headers.getlist("Access-Control-Allow-Origin") == [ALLOWED]  # moto's "*" is gone


def test_another_origin_gets_no_cors_headers(s3: Client) -> None:
    response = send(s3, presigned_post()["fields"], Origin=FOREIGN)

    assert response.status_code == 204  # stored: CORS only keeps the page from reading the answer
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_a_refusal_carries_the_cors_headers_so_the_page_can_read_it(s3: Client) -> None:
    response = send(s3, presigned_post(size=2)["fields"], Origin=ALLOWED)

    assert response.status_code == 400 and response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_a_bucket_without_cors_rules_answers_no_cors_headers(s3: Client) -> None:
    response = get(s3, f"{ENDPOINT}/{OTHER_BUCKET}/x", Origin=ALLOWED)

    assert "Access-Control-Allow-Origin" not in response.headers and "Vary" not in response.headers


@pytest.mark.parametrize(
    ("origin", "method", "headers", "allowed"),
    [
        (ALLOWED, "PUT", "content-type, x-amz-date", True),
        (ALLOWED, "POST", "", True),
        (ALLOWED, "DELETE", "", False),
        (ALLOWED, "PUT", "authorization", False),
        (FOREIGN, "PUT", "", False),
    ],
)
def test_preflights_follow_the_rules(s3: Client, origin: str, method: str, headers: str, allowed: bool) -> None:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers

    response = get(s3, f"{ENDPOINT}/{BUCKET}/{KEY}", method="OPTIONS", **asked)

    if allowed:
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == origin
        assert response.headers["Access-Control-Max-Age"] == "3000"
        assert response.headers.get("Access-Control-Allow-Headers", "") == headers
    else:
        assert (response.status_code, error(response)["Code"]) == (403, "AccessForbidden")
        assert "Access-Control-Allow-Origin" not in response.headers


def test_requests_to_other_services_pass_untouched(s3: Client, moto: Moto) -> None:
    response = s3.post("/", data="Action=ListQueues", base_url=ENDPOINT, headers={"Origin": ALLOWED})

    assert response.headers.getlist("Access-Control-Allow-Origin") == ["*"]
    assert moto.bodies == [b"Action=ListQueues"]


def test_a_preflight_to_a_bucket_without_cors_rules_is_refused(s3: Client) -> None:
    asked = {"Origin": ALLOWED, "Access-Control-Request-Method": "PUT"}

    response = get(s3, f"{ENDPOINT}/{OTHER_BUCKET}/x", method="OPTIONS", **asked)

    assert (response.status_code, error(response)["Code"]) == (403, "AccessForbidden")
    assert "CORS is not enabled for this bucket" in error(response)["Message"]


def test_a_chunked_form_is_checked_whole(moto: Moto, clock: Clock) -> None:
    # Given a form sent chunked: no Content-Length, the server marks the body as read to its end
    fields = presigned_post(size=10)["fields"]
    form: dict[str, Any] = {**fields, "file": (io.BytesIO(b"x" * 11), "clip.mp4", "video/mp4")}
    environ = EnvironBuilder(path=f"/{BUCKET}", method="POST", data=form, base_url=ENDPOINT).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    answered: list[str] = []
    front = S3Front(moto, {BUCKET: [RULE]}, {"local": "local"}, clock=clock)

    body = b"".join(front(environ, lambda status, headers, exc_info=None: answered.append(status)))

    assert answered == ["400 Bad Request"] and b"<Code>EntityTooLarge</Code>" in body


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
def test_an_unsigned_request_is_refused_as_a_bucket_blocking_public_access_refuses_it(
    s3: Client, moto: Moto, method: str
) -> None:
    anonymous = get(s3, f"{ENDPOINT}/{BUCKET}/{KEY}", method=method)

    assert anonymous.status_code == 403
    if method != "HEAD":
        assert error(anonymous)["Code"] == "AccessDenied"
    assert moto.bodies == []
