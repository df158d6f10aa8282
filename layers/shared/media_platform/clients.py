"""The one place that creates AWS clients: lazily, once per execution environment, overridable in tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote, urlsplit

from media_platform.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

_overrides: dict[str, Any] = {}
_presigner: S3Presigner | None = None
# Called with every client created here (the local stack registers its IAM check); none on Lambda.
_client_hooks: list[Callable[[Any], None]] = []
# On Lambda each function has its own process. Locally one process hosts them all: each function still keeps its
# own cached secrets, so one that may not read a secret cannot use what another one read.
_environment: ContextVar[str] = ContextVar("execution_environment", default="")

# Short timeouts and standard retries: an API call should fail fast into a 503, not hang the function.
_CLIENT_CONFIG: dict[str, Any] = {
    "connect_timeout": 2,
    "read_timeout": 5,
    "retries": {"max_attempts": 3, "mode": "standard"},
}


def override(name: str, client: Any) -> None:
    """Swap in a client (a fake, a Stubber-wrapped client) for tests."""
    _overrides[name] = client


def on_create(hook: Callable[[Any], None]) -> None:
    """Have `hook` see every client created from now on (until `forget_hook`)."""
    _client_hooks.append(hook)


def forget_hook(hook: Callable[[Any], None]) -> None:
    _client_hooks.remove(hook)


@contextmanager
def execution_environment(name: str) -> Iterator[None]:
    """Runs the block as function `name`'s execution environment: its own cached secrets (local stack only)."""
    token = _environment.set(name)
    try:
        yield
    finally:
        _environment.reset(token)


def _created(client: Any) -> Any:
    for hook in _client_hooks:
        hook(client)
    return client


def reset() -> None:
    """Forget every created and overridden client (tests call this after starting a mock)."""
    global _presigner
    _overrides.clear()
    _presigner = None
    _session.cache_clear()
    _dynamodb.cache_clear()
    _s3.cache_clear()
    _secrets.cache_clear()
    _secretsmanager.cache_clear()
    _sqs.cache_clear()


def dynamodb() -> Any:
    return _overrides.get("dynamodb") or _dynamodb()


def s3() -> Any:
    return _overrides.get("s3") or _s3()


def s3_presigner() -> S3Presigner:
    """The presigner of the current S3 client (the overridden one in tests)."""
    global _presigner
    client = s3()
    if _presigner is None or _presigner.client is not client:
        _presigner = _created(S3Presigner(client))
    return _presigner


class S3Presigner:
    """Presigns S3 object requests with SigV4 (query parameters for URLs, a signed policy for POSTs),
    without what `generate_presigned_url` does around it on every call (endpoint rules, parameter validation, event
    hooks) and with the day's signing key derived once: a stream redirect's URL is a tenth of the work. The bucket's
    URL follows the client's endpoint, addressing style (virtual-hosted on AWS, path-style locally) and region;
    tests/unit/test_objects.py holds the URLs and POSTs to the client's own and to botocore's signer."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._region: str = client.meta.region_name
        # The session's, which made the client (the layer's clients all come from it); refreshable, frozen per
        # signature. None: no credentials anywhere, as boto3 would say on its first signature.
        self._credentials = _session().get_credentials()
        if self._credentials is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()
        self._endpoint = urlsplit(client.meta.endpoint_url)
        self._path_style = (client.meta.config.s3 or {}).get("addressing_style") == "path"
        self._addresses: dict[str, tuple[SplitResult, str]] = {}

    def url(self, method: str, bucket: str, key: str, params: dict[str, str], expires_in: int) -> str:
        """As botocore's S3SigV4QueryAuth signs it (the URL's own parameters, then the auth parameters, then the
        signature): the canonical request names only the host, with an unsigned payload."""
        from botocore import compat  # botocore's clock, which the tests freeze

        credentials = self._credentials.get_frozen_credentials()
        timestamp = _formatted(compat.get_current_datetime(), _AMZ_DATE)
        scope = f"{timestamp[:8]}/{self._region}/s3/aws4_request"
        signed_params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{credentials.access_key}/{scope}",
            "X-Amz-Date": timestamp,
            "X-Amz-Expires": str(expires_in),
            "X-Amz-SignedHeaders": "host",
        }
        if credentials.token is not None:
            signed_params["X-Amz-Security-Token"] = credentials.token
        pairs = [(_uri_encode(name), _uri_encode(value)) for name, value in (*params.items(), *signed_params.items())]
        base, host = self._bucket_address(bucket)
        path = base.path + quote(key, safe="/~")
        canonical_query = "&".join(f"{name}={value}" for name, value in sorted(pairs))
        canonical_request = f"{method}\n{path}\n{canonical_query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD"
        digest = hashlib.sha256(canonical_request.encode()).hexdigest()
        string_to_sign = f"AWS4-HMAC-SHA256\n{timestamp}\n{scope}\n{digest}"
        key_of_day = _signing_key(credentials.secret_key, timestamp[:8], self._region)
        signature = hmac.new(key_of_day, string_to_sign.encode(), hashlib.sha256).hexdigest()
        query = "&".join(f"{name}={value}" for name, value in pairs)
        return f"{base.scheme}://{base.netloc}{path}?{query}&X-Amz-Signature={signature}"

    def post(
        self, bucket: str, key: str, fields: dict[str, str], conditions: list[Any], expires_in: int
    ) -> dict[str, Any]:
        """A presigned POST of exactly this key, as `generate_presigned_post` and botocore's S3SigV4PostAuth build
        it: the caller's conditions, then the bucket and key, then the signature's own fields; the policy's base64
        signed with the day's key."""
        from botocore import compat  # botocore's clock, which the tests freeze

        now = compat.get_current_datetime()
        timestamp = _formatted(now, _AMZ_DATE)
        credentials = self._credentials.get_frozen_credentials()
        signed = {
            "x-amz-algorithm": "AWS4-HMAC-SHA256",
            "x-amz-credential": f"{credentials.access_key}/{timestamp[:8]}/{self._region}/s3/aws4_request",
            "x-amz-date": timestamp,
        }
        if credentials.token is not None:
            signed["x-amz-security-token"] = credentials.token
        expiration = _formatted(now + timedelta(seconds=expires_in), "%Y-%m-%dT%H:%M:%SZ")
        policy_conditions = [*conditions, {"bucket": bucket}, {"key": key}, *({k: v} for k, v in signed.items())]
        policy = base64.b64encode(json.dumps({"expiration": expiration, "conditions": policy_conditions}).encode())
        key_of_day = _signing_key(credentials.secret_key, timestamp[:8], self._region)
        signature = hmac.new(key_of_day, policy, hashlib.sha256).hexdigest()
        signed_fields = {**fields, "key": key, **signed, "policy": policy.decode(), "x-amz-signature": signature}
        return {"url": self._post_url(bucket), "fields": signed_fields}

    def _bucket_url(self, bucket: str) -> str:
        """The bucket's address in the client's addressing style: `https://bucket.s3...amazonaws.com/` on AWS,
        `http://host:port/bucket/` on the emulator. Derived, not presigned, so the local IAM check sees only the URLs
        the functions hand out."""
        from botocore.utils import check_dns_name

        scheme, host = self._endpoint.scheme, self._endpoint.netloc
        # As botocore: a name that cannot be one DNS label of a TLS host (dots, capitals) falls back to path-style.
        if self._path_style or "." in bucket or not check_dns_name(bucket):
            return f"{scheme}://{host}/{bucket}/"
        return f"{scheme}://{bucket}.{host}/"

    def _bucket_address(self, bucket: str) -> tuple[SplitResult, str]:
        """The bucket's URL, split, and the host header it signs (lower case, no default port), once per bucket."""
        address = self._addresses.get(bucket)
        if address is None:
            url = urlsplit(self._bucket_url(bucket))
            host = f"[{url.hostname}]" if ":" in (url.hostname or "") else str(url.hostname)  # IPv6 in brackets
            if url.port is not None and url.port != {"http": 80, "https": 443}.get(url.scheme):
                host += f":{url.port}"
            address = self._addresses[bucket] = (url, host)
        return address

    def _post_url(self, bucket: str) -> str:
        url = self._bucket_url(bucket)
        return url.removesuffix("/") if url.endswith(f"/{bucket}/") else url


_AMZ_DATE = "%Y%m%dT%H%M%SZ"


def _formatted(moment: datetime, pattern: str) -> str:
    """strftime to the second, formatted once a second: the URLs signed in one second share their timestamps."""
    return _formatted_second(moment.replace(microsecond=0), pattern)


@lru_cache(maxsize=8)
def _formatted_second(second: datetime, pattern: str) -> str:
    return second.strftime(pattern)


@lru_cache(maxsize=1024)
def _uri_encode(value: str) -> str:
    """SigV4's URI encoding: everything but letters, digits and `-_.~`, as UTF-8 percent-escapes. Cached: most of a
    URL's parameters (names, credential scope, session token, a media item's type and filename) repeat."""
    return quote(value, safe="-_.~")


@lru_cache(maxsize=4)
def _signing_key(secret_key: str, day: str, region: str) -> bytes:
    """SigV4's key for S3 in this region on this day (yyyymmdd): the same all day, so derived once."""
    key = f"AWS4{secret_key}".encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sqs() -> Any:
    return _overrides.get("sqs") or _sqs()


def secrets() -> SecretsProvider:
    return _overrides.get("secrets") or _secrets(_environment.get())


@cache
def _session() -> Any:
    """The one boto3 session: every client is made from it, and presigned URLs sign with its credentials."""
    import boto3

    return boto3.Session()


@cache
def _dynamodb() -> Any:
    from botocore.config import Config

    return _created(_session().client("dynamodb", region_name=get_settings().region, config=Config(**_CLIENT_CONFIG)))


@cache
def _s3() -> Any:
    from botocore.config import Config

    # SigV4, or boto3 presigns with SigV2. Virtual-hosted addressing on AWS; the local emulator answers on an IP
    # address, where only path-style URLs resolve.
    style = "path" if get_settings().local_endpoint else "virtual"
    config = Config(signature_version="s3v4", s3={"addressing_style": style}, **_CLIENT_CONFIG)  # type: ignore[arg-type]
    return _created(_session().client("s3", region_name=get_settings().region, config=config))


@cache
def _sqs() -> Any:
    from botocore.config import Config

    return _created(_session().client("sqs", region_name=get_settings().region, config=Config(**_CLIENT_CONFIG)))


@cache
def _secrets(environment: str) -> SecretsProvider:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=_secretsmanager())


@cache
def _secretsmanager() -> Any:
    from botocore.config import Config

    client = _session().client("secretsmanager", region_name=get_settings().region, config=Config(**_CLIENT_CONFIG))
    return _created(client)
