"""A WSGI front for the emulator's S3 that answers as S3 does where moto does not (shared/NOTES.md): a browser-form
POST is refused unless its policy's signature, expiry and every condition hold; a presigned (SigV4 query) request
is refused once expired or when its signature does not match; and every response of a bucket carries the CORS
headers of that bucket's rules, the POST's included. Refusals use S3's status codes and XML error codes.

Only path-style requests to the buckets it is given pass through its checks; everything else (DynamoDB, SQS, ...)
goes straight to moto, and so do requests signed in the Authorization header (the functions' own S3 calls)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote
from xml.sax.saxutils import escape

from werkzeug.formparser import parse_form_data

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_PRESIGNED_EXPIRY = 604800  # a week: SigV4's limit
# Form fields no policy condition has to name (S3's rule); the rest must each be covered by a condition.
UNCOVERED_FIELDS = {"file", "policy", "x-amz-signature", "signature", "awsaccesskeyid"}
CORS_VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


class S3Refusal(Exception):
    """S3's answer to a request it refuses: status, error code, message and the code's extra elements."""

    def __init__(self, status: int, code: str, message: str, **details: object) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details

    def body(self) -> bytes:
        extra = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in self.details.items())
        request_id = uuid.uuid4().hex[:16].upper()
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>{extra}"
            f"<RequestId>{request_id}</RequestId><HostId>local</HostId></Error>"
        ).encode()


def _access_denied(message: str) -> S3Refusal:
    return S3Refusal(403, "AccessDenied", message)


def _policy_refusal(reason: str) -> S3Refusal:
    return _access_denied(f"Invalid according to Policy: {reason}")


SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)


@dataclass(frozen=True)
class CorsRule:
    """One rule of a bucket's CORS configuration, in the S3 API's shape (GetBucketCors / PutBucketCors)."""

    allowed_origins: Sequence[str]
    allowed_methods: Sequence[str]
    allowed_headers: Sequence[str] = ()
    expose_headers: Sequence[str] = ()
    max_age: int | None = None

    @classmethod
    def from_api(cls, rule: Mapping[str, Any]) -> CorsRule:
        return cls(
            allowed_origins=list(rule["AllowedOrigins"]),
            allowed_methods=[m.upper() for m in rule["AllowedMethods"]],
            allowed_headers=list(rule.get("AllowedHeaders", [])),
            expose_headers=list(rule.get("ExposeHeaders", [])),
            max_age=rule.get("MaxAgeSeconds"),
        )

    def matches(self, origin: str, method: str, headers: Sequence[str] = ()) -> bool:
        return (
            any(_wildcard(pattern, origin) for pattern in self.allowed_origins)
            and method.upper() in self.allowed_methods
            and all(any(_wildcard(p.lower(), h.lower()) for p in self.allowed_headers) for h in headers)
        )

    def headers(self, origin: str) -> list[tuple[str, str]]:
        wildcard = "*" in self.allowed_origins
        found = [("Access-Control-Allow-Origin", "*" if wildcard else origin)]
        found.append(("Access-Control-Allow-Methods", ", ".join(self.allowed_methods)))
        if not wildcard:
            found.append(("Access-Control-Allow-Credentials", "true"))
        if self.expose_headers:
            found.append(("Access-Control-Expose-Headers", ", ".join(self.expose_headers)))
        if self.max_age is not None:
            found.append(("Access-Control-Max-Age", str(self.max_age)))
        return found


def _wildcard(pattern: str, value: str) -> bool:
    """S3's CORS patterns: literal text with `*` standing for any run of characters."""
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), value) is not None


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sigv4_signature(secret: str, scope: str, string_to_sign: str) -> str:
    """`scope` is the credential's `date/region/service/aws4_request`."""
    date, region, service, _ = scope.split("/")
    return hmac.new(_signing_key(secret, date, region, service), string_to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class S3Front:
    """Wraps moto's WSGI app. `buckets` maps every bucket to its CORS rules (none: no CORS configuration);
    `secrets` maps access key ids to secret keys; `clock` is now, injectable for tests."""

    app: WSGIApp
    buckets: Mapping[str, Sequence[CorsRule]]
    secrets: Mapping[str, str]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    region: str = "us-east-1"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        bucket = self._bucket_of(environ)
        if bucket is None:
            return self.app(environ, start_response)
        origin, method = environ.get("HTTP_ORIGIN"), environ["REQUEST_METHOD"]
        if origin and method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            return self._preflight(bucket, environ, start_response)
        cors = self._cors_headers(bucket, origin, method)
        try:
            self._check(environ, bucket)
        except S3Refusal as refusal:
            body = refusal.body()
            headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(body))), *cors]
            start_response(f"{refusal.status} {_REASONS.get(refusal.status, 'Error')}", headers)
            return [body]

        def with_cors(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if not _is_cors_header(k)]
            return start_response(status, kept + cors, exc_info)

        return self.app(environ, with_cors)

    def _bucket_of(self, environ: Mapping[str, Any]) -> str | None:
        first = str(environ.get("PATH_INFO", "")).lstrip("/").split("/", 1)[0]
        return first if first in self.buckets else None

    # --- CORS -------------------------------------------------------------------------------------------------------

    def _cors_headers(self, bucket: str, origin: str | None, method: str) -> list[tuple[str, str]]:
        rules = self.buckets[bucket]
        if not rules:
            return []
        headers = [("Vary", CORS_VARY)]
        if origin:
            rule = next((r for r in rules if r.matches(origin, method)), None)
            headers += rule.headers(origin) if rule else []
        return headers

    def _preflight(self, bucket: str, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin, method = environ["HTTP_ORIGIN"], environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"]
        requested = [h.strip() for h in environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "").split(",") if h.strip()]
        rules = self.buckets[bucket]
        rule = next((r for r in rules if r.matches(origin, method, requested)), None)
        if rule is None:
            reason = (
                "This CORS request is not allowed. This is usually because the evalution of Origin, request method / "
                "Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the "
                "resource's CORS spec."
                if rules
                else "CORS is not enabled for this bucket."
            )
            body = S3Refusal(403, "AccessForbidden", f"CORSResponse: {reason}", Method=method, ResourceType="OBJECT")
            data = body.body()
            start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(data)))])
            return [data]
        headers = [("Vary", CORS_VARY), *rule.headers(origin), ("Content-Length", "0")]
        if requested:
            headers.append(("Access-Control-Allow-Headers", ", ".join(h.lower() for h in requested)))
        start_response("200 OK", headers)
        return [b""]

    # --- authentication ---------------------------------------------------------------------------------------------

    def _check(self, environ: dict[str, Any], bucket: str) -> None:
        path = str(environ.get("PATH_INFO", "")).strip("/")
        content_type = str(environ.get("CONTENT_TYPE", "")).lower()
        if environ["REQUEST_METHOD"] == "POST" and path == bucket and content_type.startswith("multipart/form-data"):
            self._check_form(environ, bucket)
        elif "X-Amz-Algorithm=" in str(environ.get("QUERY_STRING", "")):
            self._check_presigned(environ)
        elif not environ.get("HTTP_AUTHORIZATION"):
            raise _access_denied("Access Denied")  # anonymous: the bucket blocks public access

    def _check_form(self, environ: dict[str, Any], bucket: str) -> None:
        stream = environ["wsgi.input"]
        chunked = environ.get("wsgi.input_terminated")  # werkzeug's server: a chunked body, read to its end
        body = stream.read() if chunked else stream.read(int(environ.get("CONTENT_LENGTH") or 0))
        # moto reads the same bytes again, now of a known length
        environ.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
        environ.pop("wsgi.input_terminated", None)
        form = _parse_form(environ, body)
        if "policy" not in form.fields:
            raise _access_denied("Access Denied")  # anonymous: the bucket blocks public access
        if "key" not in form.fields:
            raise S3Refusal(
                400,
                "InvalidArgument",
                "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the "
                "fields.",
                ArgumentName="key",
            )
        if form.file_size is None:
            raise S3Refusal(400, "InvalidArgument", "POST requires exactly one file upload per request.")
        self._check_form_signature(form.fields)
        PostPolicy.decode(form.fields["policy"]).check(form.values, bucket, form.file_size, self.clock())

    def _check_form_signature(self, fields: Mapping[str, str]) -> None:
        if fields.get("x-amz-algorithm") == "AWS4-HMAC-SHA256" and "x-amz-signature" in fields:
            access_key, scope = self._credential(fields.get("x-amz-credential", ""), fields.get("x-amz-date", ""))
            secret = self._secret(access_key)
            expected = sigv4_signature(secret, scope, fields["policy"])
            given = fields["x-amz-signature"]
        elif fields.get("x-amz-algorithm", "AWS4-HMAC-SHA256") != "AWS4-HMAC-SHA256":
            raise S3Refusal(400, "InvalidArgument", "Unsupported signing algorithm", ArgumentName="x-amz-algorithm")
        elif "signature" in fields and "awsaccesskeyid" in fields:
            # SigV2: buckets created since 24 June 2020 take SigV4 only, and boto3 falls back to SigV2 silently.
            raise S3Refusal(
                400,
                "InvalidRequest",
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
            )
        else:
            raise S3Refusal(
                400,
                "InvalidArgument",
                "Bucket POST must contain a field named 'X-Amz-Signature'.  If it is specified, please check the "
                "order of the fields.",
                ArgumentName="X-Amz-Signature",
            )
        if not hmac.compare_digest(expected, given):
            raise S3Refusal(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH)

    def _credential(self, credential: str, amz_date: str) -> tuple[str, str]:
        """The access key and the scope `date/region/s3/aws4_request`, refused where S3 refuses them."""
        access_key, _, scope = credential.partition("/")
        parts = scope.split("/")
        if len(parts) != 4 or parts[3] != "aws4_request" or not amz_date.startswith(parts[0]):
            raise S3Refusal(
                400,
                "AuthorizationQueryParametersError",
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "
                '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
            )
        if parts[1] != self.region:
            raise S3Refusal(
                400,
                "AuthorizationQueryParametersError",
                f"Error parsing the X-Amz-Credential parameter; the region '{parts[1]}' is wrong; expecting "
                f"'{self.region}'",
                Region=self.region,
            )
        return access_key, scope

    def _secret(self, access_key: str) -> str:
        if access_key not in self.secrets:
            raise S3Refusal(
                403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
            )
        return self.secrets[access_key]

    def _check_presigned(self, environ: dict[str, Any]) -> None:
        pairs = parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
        query = dict(pairs)
        names = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders")
        if any(name not in query for name in (*names, "X-Amz-Expires")):
            raise S3Refusal(
                400,
                "AuthorizationQueryParametersError",
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            )
        if query["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
            raise S3Refusal(400, "AuthorizationQueryParametersError", "X-Amz-Algorithm only supports AWS4-HMAC-SHA256")
        try:
            expires = int(query["X-Amz-Expires"])
            signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError as exc:
            raise S3Refusal(
                400, "AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed"
            ) from exc
        if not 0 <= expires <= MAX_PRESIGNED_EXPIRY:
            raise S3Refusal(
                400,
                "AuthorizationQueryParametersError",
                f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGNED_EXPIRY} seconds",
            )
        now = self.clock()
        if now > signed_at + timedelta(seconds=expires):
            raise S3Refusal(
                403,
                "AccessDenied",
                "Request has expired",
                **{
                    "X-Amz-Expires": expires,
                    "Expires": _iso(signed_at + timedelta(seconds=expires)),
                    "ServerTime": _iso(now),
                },
            )
        access_key, scope = self._credential(query["X-Amz-Credential"], query["X-Amz-Date"])
        secret = self._secret(access_key)
        canonical = canonical_query_request(environ, pairs, query["X-Amz-SignedHeaders"].split(";"))
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", query["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        if not hmac.compare_digest(sigv4_signature(secret, scope, to_sign), query["X-Amz-Signature"]):
            raise S3Refusal(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH)


def canonical_query_request(environ: Mapping[str, Any], pairs: list[tuple[str, str]], signed: list[str]) -> str:
    """SigV4's canonical request of a presigned (query-string) S3 request, from what the server received."""
    raw_path = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").split("?", 1)[0]
    path = unquote(raw_path) if raw_path else str(environ.get("PATH_INFO", "/")).encode("latin-1").decode()
    query = sorted((_uri(k), _uri(v)) for k, v in pairs if k != "X-Amz-Signature")
    headers = "".join(f"{name}:{_header(environ, name)}\n" for name in signed)
    payload = dict(pairs).get("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
    return "\n".join(
        [
            str(environ["REQUEST_METHOD"]),
            quote(path, safe="/~"),
            "&".join(f"{k}={v}" for k, v in query),
            headers,
            ";".join(signed),
            payload,
        ]
    )


def _uri(value: str) -> str:
    return quote(value, safe="-_.~")


def _header(environ: Mapping[str, Any], name: str) -> str:
    key = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}.get(
        name, "HTTP_" + name.upper().replace("-", "_")
    )
    return " ".join(str(environ.get(key, "")).split())


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_cors_header(name: str) -> bool:
    return name.lower().startswith("access-control-") or name.lower() == "vary"


_REASONS = {400: "Bad Request", 403: "Forbidden"}


@dataclass(frozen=True)
class Form:
    values: dict[str, list[str]]  # names lower-cased, as S3 compares them; every value sent under each
    file_size: int | None

    @property
    def fields(self) -> dict[str, str]:
        return {name: values[0] for name, values in self.values.items()}


def _parse_form(environ: Mapping[str, Any], body: bytes) -> Form:
    copy = {**environ, "wsgi.input": io.BytesIO(body)}
    _, form, files = parse_form_data(copy)
    values: dict[str, list[str]] = {}
    for name, value in form.items(multi=True):
        if name.lower() != "file":
            values.setdefault(name.lower(), []).append(value)
    if "file" in files:
        stream = files["file"].stream
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        return Form(values, size)
    return Form(values, len(form["file"].encode()) if "file" in form else None)


@dataclass(frozen=True)
class PostPolicy:
    expiration: datetime
    conditions: list[Any]

    @classmethod
    def decode(cls, policy: str) -> PostPolicy:
        try:
            document = json.loads(base64.b64decode(policy, validate=True))
            expiration = datetime.fromisoformat(document["expiration"])
            conditions = document["conditions"]
            if expiration.tzinfo is None or not isinstance(conditions, list):
                raise ValueError("expiration needs a time zone; conditions a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise S3Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from exc
        return cls(expiration, conditions)

    def check(self, fields: Mapping[str, list[str]], bucket: str, file_size: int, now: datetime) -> None:
        """Expiry, then every condition in order, then that every form field is covered by one (as S3 does). A
        field sent twice (or in two cases: `key` and `Key`) must meet its condition with every value, so no
        second value can slip past the policy into what moto stores."""
        if now > self.expiration:
            raise _policy_refusal("Policy expired.")
        covered: set[str] = set()
        for condition in self.conditions:
            covered |= _check_condition(condition, fields, bucket, file_size)
        extra = [name for name in fields if name not in covered | UNCOVERED_FIELDS and not name.startswith("x-ignore-")]
        if extra:
            raise _policy_refusal(f"Extra input fields: {', '.join(extra)}")


def _check_condition(condition: Any, fields: Mapping[str, list[str]], bucket: str, file_size: int) -> set[str]:
    """Refuses when the condition fails; else the field names it covers."""
    if isinstance(condition, dict):
        for name, expected in condition.items():
            _match(["eq", f"${name}", expected], fields, bucket)
        return {name.lower() for name in condition}
    if not isinstance(condition, list) or len(condition) != 3:
        raise S3Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {json.dumps(condition)}")
    operator = str(condition[0]).lower()
    if operator == "content-length-range":
        low, high = int(condition[1]), int(condition[2])
        if file_size > high:
            message = "Your proposed upload exceeds the maximum allowed size"
            raise S3Refusal(400, "EntityTooLarge", message, ProposedSize=file_size, MaxSizeAllowed=high)
        if file_size < low:
            message = "Your proposed upload is smaller than the minimum allowed size"
            raise S3Refusal(400, "EntityTooSmall", message, ProposedSize=file_size, MinSizeAllowed=low)
        return set()
    if operator not in {"eq", "starts-with"} or not str(condition[1]).startswith("$"):
        raise S3Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {json.dumps(condition)}")
    _match(condition, fields, bucket)
    return {str(condition[1])[1:].lower()}


def _match(condition: list[Any], fields: Mapping[str, list[str]], bucket: str) -> None:
    operator, name, expected = str(condition[0]).lower(), str(condition[1])[1:].lower(), str(condition[2])
    actual = [bucket] if name == "bucket" else fields.get(name, [])
    holds = bool(actual) and all(v == expected if operator == "eq" else v.startswith(expected) for v in actual)
    if not holds:
        raise _policy_refusal(f"Policy Condition failed: {json.dumps([operator, '$' + name, expected])}")
