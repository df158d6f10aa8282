"""Handlers in-process against moto's mock_aws, with the tables and secrets that template.yaml declares."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from devtools.local_stack.resources import provision
from devtools.local_stack.stack import stack_environment
from devtools.local_stack.template import Template
from media_platform import clients
from media_platform.settings import get_settings
from tests.support import FakeContext, load_event


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


def provisioned(environment: pytest.MonkeyPatch) -> Template:
    """Inside a moto mock: every resource template.yaml declares, and the functions' environment set through
    `environment` (undone with it)."""
    template = Template.load()
    for name, value in stack_environment(template).items():
        environment.setenv(name, value)
    environment.delenv("AWS_ENDPOINT_URL", raising=False)
    provision(template)
    get_settings.cache_clear()
    clients.reset()
    return template


@contextmanager
def emulated_aws() -> Iterator[Template]:
    """The `aws` fixture's moto for another scope than one test: a module's, say."""
    with mock_aws(), pytest.MonkeyPatch.context() as environment:
        yield provisioned(environment)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Template]:
    with mock_aws():
        yield provisioned(monkeypatch)


Invoke = Callable[..., Reply]


@pytest.fixture
def invoke(aws: Template) -> Invoke:
    """Calls a function's real Lambda handler with its event from events/, varied as load_event allows."""

    def call(function: str, **event_changes: Any) -> Reply:
        handler = importlib.import_module(f"functions.{function}.app").lambda_handler
        result = handler(load_event(function, **event_changes), FakeContext())
        body = result.get("body") or "null"
        return Reply(result["statusCode"], result.get("headers", {}), json.loads(body))

    return call


@pytest.fixture
def sign_up(invoke: Invoke) -> Callable[[str], Reply]:
    def call(email: str, password: str = "correct horse battery") -> Reply:
        return invoke("auth_signup", body={"email": email, "password": password})

    return call


@pytest.fixture
def log_in(invoke: Invoke) -> Callable[[str], str]:
    def call(email: str, password: str = "correct horse battery") -> str:
        reply = invoke("auth_login", body={"email": email, "password": password})
        assert reply.status == 200, reply.body
        return str(reply.body["access_token"])

    return call


@dataclass
class Member:
    id: str
    token: str


@dataclass
class Team:
    """One signed-in user of each role, plus a second editor to test ownership against."""

    admin: Member
    editor: Member
    other_editor: Member
    viewer: Member


@pytest.fixture
def team(
    invoke: Invoke, sign_up: Callable[[str], Reply], log_in: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> Team:
    """Signed up, promoted and logged in through the real handlers. The first signup is the admin; the editors are
    promoted with users_update. bcrypt runs at its minimum cost here: these users serve tests of other things."""
    from media_platform import passwords

    monkeypatch.setattr(passwords, "BCRYPT_COST", 4)
    names = ("admin", "editor", "other-editor", "viewer")
    ids = {name: sign_up(f"{name}@example.com").body["id"] for name in names}
    admin_token = log_in("admin@example.com")
    for name in ("editor", "other-editor"):
        promoted = invoke(
            "users_update",
            token=admin_token,
            body={"role": "editor"},
            path=f"/users/{ids[name]}",
            path_params={"user_id": ids[name]},
        )
        assert promoted.status == 200, promoted.body
    tokens = {name: log_in(f"{name}@example.com") for name in names[1:]}
    return Team(
        admin=Member(ids["admin"], admin_token),
        editor=Member(ids["editor"], tokens["editor"]),
        other_editor=Member(ids["other-editor"], tokens["other-editor"]),
        viewer=Member(ids["viewer"], tokens["viewer"]),
    )
