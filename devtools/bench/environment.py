"""The functions' environment for in-process measurements, and moto with template.yaml's resources: each undone
afterwards, settings and clients forgotten on the way in and out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from devtools.local_stack.environ import restored


@contextmanager
def function_environment(values: dict[str, str]) -> Iterator[None]:
    """`values` set and AWS_ENDPOINT_URL unset (clients reach moto in-process or the fakes), then all put back."""
    from media_platform import clients
    from media_platform.settings import get_settings

    with restored([*values, "AWS_ENDPOINT_URL"]):
        os.environ.update(values)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        get_settings.cache_clear()
        clients.reset()
        try:
            yield
        finally:
            get_settings.cache_clear()
            clients.reset()


@contextmanager
def emulated_stack() -> Iterator[Any]:
    """moto in-process with template.yaml's resources and the functions' environment; yields the template."""
    from moto import mock_aws

    from devtools.local_stack.resources import provision
    from devtools.local_stack.stack import LOCAL_ENV, stack_environment
    from devtools.local_stack.template import Template

    template = Template.load()
    # moto removes the credentials it set when it stops: the environment is set inside it and put back first
    with mock_aws(), function_environment({**stack_environment(template), **LOCAL_ENV}):
        provision(template)
        yield template
