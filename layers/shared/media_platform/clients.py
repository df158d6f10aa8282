"""The one place that creates AWS clients: lazily, once per execution environment, overridable in tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

from media_platform.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

_overrides: dict[str, Any] = {}
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
    _overrides.clear()
    _dynamodb.cache_clear()
    _s3.cache_clear()
    _secrets.cache_clear()
    _secretsmanager.cache_clear()
    _sqs.cache_clear()


def dynamodb() -> Any:
    return _overrides.get("dynamodb") or _dynamodb()


def s3() -> Any:
    return _overrides.get("s3") or _s3()


def sqs() -> Any:
    return _overrides.get("sqs") or _sqs()


def secrets() -> SecretsProvider:
    return _overrides.get("secrets") or _secrets(_environment.get())


@cache
def _dynamodb() -> Any:
    import boto3
    from botocore.config import Config

    return _created(boto3.client("dynamodb", region_name=get_settings().region, config=Config(**_CLIENT_CONFIG)))


@cache
def _s3() -> Any:
    import boto3
    from botocore.config import Config

    # SigV4, or boto3 presigns with SigV2. Virtual-hosted addressing on AWS; the local emulator answers on an IP
    # address, where only path-style URLs resolve.
    style = "path" if get_settings().local_endpoint else "virtual"
    config = Config(signature_version="s3v4", s3={"addressing_style": style}, **_CLIENT_CONFIG)  # type: ignore[arg-type]
    return _created(boto3.client("s3", region_name=get_settings().region, config=config))


@cache
def _sqs() -> Any:
    import boto3
    from botocore.config import Config

    return _created(boto3.client("sqs", region_name=get_settings().region, config=Config(**_CLIENT_CONFIG)))


@cache
def _secrets(environment: str) -> SecretsProvider:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=_secretsmanager())


@cache
def _secretsmanager() -> Any:
    import boto3
    from botocore.config import Config

    client = boto3.client("secretsmanager", region_name=get_settings().region, config=Config(**_CLIENT_CONFIG))
    return _created(client)
