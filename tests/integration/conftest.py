"""Handlers in-process against moto's mock_aws, with the tables and secrets that template.yaml declares."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools.local_stack.resources import provision
from devtools.local_stack.stack import stack_environment
from devtools.local_stack.template import Template
from media_platform import clients, tokens
from media_platform.settings import get_settings
from tests.support import Clock, FakeContext, handler_of, load_event


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


def call_handler(function: str, **event_changes: Any) -> Reply:
    """Calls a function's real Lambda handler with its event from events/, varied as load_event allows."""
    handler = handler_of(function)
    result = handler(load_event(function, **event_changes), FakeContext())
    body = result.get("body") or "null"
    return Reply(result["statusCode"], result.get("headers", {}), json.loads(body))


@pytest.fixture
def invoke(aws: Template) -> Invoke:
    return call_handler


PASSWORD = "correct horse battery"


def sign_up_with(invoke: Invoke, email: str, password: str = PASSWORD) -> Reply:
    return invoke("auth_signup", body={"email": email, "password": password})


def log_in_with(invoke: Invoke, email: str, password: str = PASSWORD) -> str:
    reply = invoke("auth_login", body={"email": email, "password": password})
    assert reply.status == 200, reply.body
    return str(reply.body["access_token"])


@pytest.fixture
def sign_up(invoke: Invoke) -> Callable[[str], Reply]:
    def call(email: str, password: str = PASSWORD) -> Reply:
        return sign_up_with(invoke, email, password)

    return call


@pytest.fixture
def log_in(invoke: Invoke) -> Callable[[str], str]:
    def call(email: str, password: str = PASSWORD) -> str:
        return log_in_with(invoke, email, password)

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


def seed_team(invoke: Invoke) -> Team:
    """Signed up, promoted and logged in through the real handlers, on a stack with no users yet. The first signup
    is the admin; the editors are promoted with users_update. bcrypt runs at its minimum cost: these users serve
    tests of other things."""
    from media_platform import passwords

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_COST", 4)
        names = ("admin", "editor", "other-editor", "viewer")
        ids = {name: sign_up_with(invoke, f"{name}@example.com").body["id"] for name in names}
        admin_token = log_in_with(invoke, "admin@example.com")
        for name in ("editor", "other-editor"):
            promoted = invoke(
                "users_update",
                token=admin_token,
                body={"role": "editor"},
                path=f"/users/{ids[name]}",
                path_params={"user_id": ids[name]},
            )
            assert promoted.status == 200, promoted.body
        tokens = {name: log_in_with(invoke, f"{name}@example.com") for name in names[1:]}
    return Team(
        admin=Member(ids["admin"], admin_token),
        editor=Member(ids["editor"], tokens["editor"]),
        other_editor=Member(ids["other-editor"], tokens["other-editor"]),
        viewer=Member(ids["viewer"], tokens["viewer"]),
    )


@pytest.fixture
def team(invoke: Invoke) -> Team:
    return seed_team(invoke)


class Seeded:
    """A stack with its team, and the means to bring it back to the state right after seeding: every table as it
    was then (items added since deleted, items changed since put back), every bucket and queue empty."""

    def __init__(self, template: Template, team: Team) -> None:
        self.template, self.team = template, team
        self.dynamodb: Any = boto3.client("dynamodb", region_name="us-east-1")
        self.s3: Any = boto3.client("s3", region_name="us-east-1")
        self.sqs: Any = boto3.client("sqs", region_name="us-east-1")
        tables = template.of_type("AWS::DynamoDB::Table")
        self.keys = {
            template.physical_name(t): [k["AttributeName"] for k in tables[t]["Properties"]["KeySchema"]]
            for t in tables
        }
        self.seeded = {name: self.scan(name) for name in self.keys}
        self.buckets = [template.physical_name(b) for b in template.of_type("AWS::S3::Bucket")]
        self.queues = [
            self.sqs.get_queue_url(QueueName=template.physical_name(q))["QueueUrl"]
            for q in template.of_type("AWS::SQS::Queue")
        ]

    def restore(self) -> None:
        for name, seeded in self.seeded.items():
            now = self.scan(name)
            for item in [i for i in now if i not in seeded]:
                self.dynamodb.delete_item(TableName=name, Key={k: item[k] for k in self.keys[name]})
            for item in [i for i in seeded if i not in now]:
                self.dynamodb.put_item(TableName=name, Item=item)
        for bucket in self.buckets:
            self.empty(bucket)
        for url in self.queues:
            self.drain(url)

    def scan(self, table: str) -> list[dict[str, Any]]:
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
        return [item for page in pages for item in page["Items"]]

    def empty(self, bucket: str) -> None:
        """No object, version, delete marker or multipart upload left."""
        for upload in self.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            self.s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            if entries := [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                objects = [{"Key": e["Key"], "VersionId": e["VersionId"]} for e in entries]
                self.s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})

    def drain(self, url: str) -> None:
        """Receives and deletes every message (PurgeQueue works once a minute only, in moto as in AWS)."""
        while messages := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
            self.sqs.delete_message_batch(QueueUrl=url, Entries=entries)


@contextmanager
def seeded_stack() -> Iterator[Seeded]:
    """emulated_aws() with the team seeded once: for a module whose tests share one stack, each restoring it first."""
    with emulated_aws() as template:
        yield Seeded(template, seed_team(call_handler))


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    """One seeded stack for a module that overrides `aws` (and `team`) to restore it before each test."""
    with seeded_stack() as stack:
        yield stack


def restored_seeded_stack() -> tuple[Any, Any]:
    """The `aws` and `team` fixtures of a module that shares one seeded stack (`aws, team = restored_seeded_stack()`
    at its top): one emulated stack and team serve the whole module, made once (provisioning, signups and logins
    were most of each test's setup), and every test starts from the stack as seeded: tables as they were, bucket
    and queues empty (test_seeded_stack.py shows restore() leaves nothing behind)."""

    @pytest.fixture(name="aws")
    def restored(seeded: Seeded) -> Template:
        seeded.restore()
        return seeded.template

    @pytest.fixture(name="team")
    def seeded_team(seeded: Seeded, aws: Template) -> Team:
        return seeded.team

    return restored, seeded_team


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock tokens, views and analytics read, moved by the test."""
    fake = Clock(time.time())
    monkeypatch.setattr(tokens, "clock", fake)
    return fake
