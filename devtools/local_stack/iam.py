"""IAM, locally: moto checks no permission, so a call a function's role does not allow passes here and fails on AWS.

This module reads each function's policy from template.yaml (inline statements and the managed policies it
references, resolved to the names the local stack provisions), maps every AWS call to the IAM actions and resources
AWS authorizes it by (the Service Authorization Reference's exceptions included: ListObjectsV2 is s3:ListBucket,
a versioned GET is s3:GetObjectVersion, a transaction is one action per item...), and checks the calls each function
makes against its own policy. A presigned URL or POST calls no API when it is made, but S3 authorizes it with the
signer's permissions when it is used: it is checked as the request it signs."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from devtools.local_stack.template import Template

# The function whose code is running: set by whatever invokes a handler (the local stack's LoadedFunction.invoke,
# the handler tests). Calls made outside any function (provisioning, test set-up) are not checked.
current_function: ContextVar[str | None] = ContextVar("iam_current_function", default=None)


@contextmanager
def acting_as(logical_id: str) -> Iterator[None]:
    token = current_function.set(logical_id)
    try:
        yield
    finally:
        current_function.reset(token)


class UnsupportedPolicy(ValueError):
    """template.yaml grants in a form this checker cannot read (an AWS managed policy, a SAM policy template...)."""


class UnmappedCall(LookupError):
    """An AWS operation this module does not know the IAM actions of: add it to `requests_for`."""


@dataclass(frozen=True)
class Request:
    """What IAM authorizes: one action on one resource, with the condition keys the request carries."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        keys = "".join(f" ({k}={v})" for k, v in self.context)
        return f"{self.action} on {self.resource}{keys}"


@cache
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM's wildcards: `*` any run of characters (slashes included), `?` any one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{regex}$", re.IGNORECASE if ignore_case else 0)


def matches(glob: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_pattern(glob, ignore_case).match(value))


def _equals(want: str, got: str) -> bool:
    return got == want


def _differs(want: str, got: str) -> bool:
    return got != want


def _like(want: str, got: str) -> bool:
    return matches(want, got)


def _unlike(want: str, got: str) -> bool:
    return not matches(want, got)


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": _equals,
    "StringLike": _like,
    "StringNotEquals": _differs,
    "StringNotLike": _unlike,
}


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (operator, key, values)
    source: str = "inline"  # where the statement comes from: "inline" or a managed policy's logical id

    def covers(self, action: str, resource: str) -> bool:
        return any(matches(a, action, ignore_case=True) for a in self.actions) and any(
            matches(r, resource) for r in self.resources
        )

    def conditions_hold(self, context: dict[str, str]) -> bool:
        for operator, key, values in self.condition:
            negated = "Not" in operator
            if key not in context:
                if not negated:  # a positive operator on a key the request lacks is false, as in IAM
                    return False
                continue
            test = _OPERATORS[operator]
            hold = all(test(v, context[key]) for v in values) if negated else any(test(v, context[key]) for v in values)
            if not hold:
                return False
        return True

    def applies(self, request: Request) -> bool:
        return self.covers(request.action, request.resource) and self.conditions_hold(dict(request.context))


@dataclass(frozen=True)
class Grant:
    """One action (pattern) on one resource (pattern) that a statement allows, for the report of unused ones."""

    action: str
    resource: str
    statement: Statement

    def __str__(self) -> str:
        conditions = "".join(f" if {key} {op} {'|'.join(values)}" for op, key, values in self.statement.condition)
        via = "" if self.statement.source == "inline" else f" (via {self.statement.source})"
        return f"{self.action} on {self.resource}{conditions}{via}"

    def used_by(self, request: Request) -> bool:
        return (
            matches(self.action, request.action, ignore_case=True)
            and matches(self.resource, request.resource)
            and self.statement.conditions_hold(dict(request.context))
        )


@dataclass
class Policy:
    function: str
    statements: list[Statement] = field(default_factory=list)

    def allows(self, request: Request) -> bool:
        applying = [s for s in self.statements if s.applies(request)]
        return any(s.effect == "Allow" for s in applying) and not any(s.effect == "Deny" for s in applying)

    def grants(self) -> list[Grant]:
        return [
            Grant(action, resource, s)
            for s in self.statements
            if s.effect == "Allow"
            for action in s.actions
            for resource in s.resources
        ]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _kind(template: Template, logical_id: str) -> str | None:
    return template.resources.get(logical_id, {}).get("Type")


def _resolve(template: Template, value: Any) -> str:
    """A policy's Resource or condition value, resolved to the local ARN. A secret's Ref is its ARN (not its name,
    which is what the template's resolve gives for environment variables)."""
    if (
        isinstance(value, dict)
        and set(value) == {"Ref"}
        and _kind(template, value["Ref"]) == "AWS::SecretsManager::Secret"
    ):
        return template.arn(value["Ref"])
    return str(template.resolve(value))


def _statements(template: Template, document: dict[str, Any], source: str) -> list[Statement]:
    found = []
    for raw in _listed(document.get("Statement", [])):
        if unknown := set(raw) - {"Sid", "Effect", "Action", "Resource", "Condition"}:
            raise UnsupportedPolicy(f"{source}: statement keys {sorted(unknown)} are not checked locally")
        condition = []
        for operator, keys in raw.get("Condition", {}).items():
            if operator not in _OPERATORS:
                raise UnsupportedPolicy(f"{source}: condition operator {operator} is not checked locally")
            for key, values in keys.items():
                condition.append((operator, key, tuple(_resolve(template, v) for v in _listed(values))))
        found.append(
            Statement(
                effect=raw["Effect"],
                actions=tuple(str(a) for a in _listed(raw["Action"])),
                resources=tuple(_resolve(template, r) for r in _listed(raw["Resource"])),
                condition=tuple(condition),
                source=source,
            )
        )
    return found


def function_policies(template: Template) -> dict[str, Policy]:
    """Each function's policy as template.yaml gives it: its `Policies` (inline statements and `!Ref`s to
    AWS::IAM::ManagedPolicy resources). Anything else fails loudly rather than being read as "allows nothing"."""
    policies = {}
    for logical_id, resource in template.of_type("AWS::Serverless::Function").items():
        props = resource["Properties"]
        if "Role" in props:
            raise UnsupportedPolicy(f"{logical_id}: a Role is not checked locally, only Policies")
        policy = Policy(logical_id)
        for item in _listed(props.get("Policies", [])):
            if isinstance(item, dict) and "Statement" in item:
                policy.statements += _statements(template, item, "inline")
            elif isinstance(item, dict) and set(item) == {"Ref"}:
                managed = template.resources.get(item["Ref"], {})
                if managed.get("Type") != "AWS::IAM::ManagedPolicy":
                    raise UnsupportedPolicy(f"{logical_id}: !Ref {item['Ref']} is not a managed policy of the template")
                policy.statements += _statements(template, managed["Properties"]["PolicyDocument"], item["Ref"])
            else:
                raise UnsupportedPolicy(f"{logical_id}: policy {item!r} is not checked locally")
        policies[logical_id] = policy
    return policies


# How AWS authorizes each operation: https://docs.aws.amazon.com/service-authorization/latest/reference/ (the
# "API operations" tables of list_amazons3.html, list_amazondynamodb.html) and each operation's Permissions section.
_S3_BUCKET_LISTS = {
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
}
_S3_OBJECT = {
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListParts": "s3:ListMultipartUploadParts",
}
_S3_VERSIONED = {  # operation → (action, action when the request names a VersionId)
    "GetObject": ("s3:GetObject", "s3:GetObjectVersion"),
    "HeadObject": ("s3:GetObject", "s3:GetObjectVersion"),
    "DeleteObject": ("s3:DeleteObject", "s3:DeleteObjectVersion"),
}
_DYNAMODB_TRANSACT = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_SQS_BATCH = {
    "SendMessageBatch": "sqs:SendMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}


def requests_for(service: str, operation: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    """The IAM requests one call makes (one or more: a transaction is authorized item by item)."""
    if service == "s3":
        return _s3(operation, params)
    if service == "dynamodb":
        return _dynamodb(operation, params, f"arn:aws:dynamodb:{region}:{account}:table/")
    if service == "sqs":
        return _sqs(operation, params, region, account)
    if service == "secretsmanager" and "SecretId" in params:
        secret = str(params["SecretId"])
        arn = secret if secret.startswith("arn:") else f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}"
        return [Request(f"secretsmanager:{operation}", arn)]
    raise UnmappedCall(f"{service}:{operation}")


def _s3(operation: str, params: dict[str, Any]) -> list[Request]:
    if "Bucket" not in params:  # ListBuckets and the like: account-level actions no function here needs
        raise UnmappedCall(f"s3:{operation}")
    bucket = f"arn:aws:s3:::{params['Bucket']}"
    if operation in _S3_BUCKET_LISTS:
        context = tuple((f"s3:{k.lower()}", str(params[k])) for k in ("Prefix", "Delimiter") if k in params)
        return [Request(_S3_BUCKET_LISTS[operation], bucket, context)]
    if operation in _S3_OBJECT:
        return [Request(_S3_OBJECT[operation], f"{bucket}/{params['Key']}")]
    if operation in _S3_VERSIONED:
        plain, versioned = _S3_VERSIONED[operation]
        return [Request(versioned if params.get("VersionId") else plain, f"{bucket}/{params['Key']}")]
    if operation == "DeleteObjects":
        plain, versioned = _S3_VERSIONED["DeleteObject"]
        return [
            Request(versioned if entry.get("VersionId") else plain, f"{bucket}/{entry['Key']}")
            for entry in params["Delete"]["Objects"]
        ]
    raise UnmappedCall(f"s3:{operation}")


def _dynamodb(operation: str, params: dict[str, Any], tables: str) -> list[Request]:
    def arn(name: str) -> str:
        return name if name.startswith("arn:") else tables + name

    if operation == "TransactWriteItems":
        return [
            Request(f"dynamodb:{_DYNAMODB_TRANSACT[kind]}", arn(spec["TableName"]))
            for item in params["TransactItems"]
            for kind, spec in item.items()
        ]
    if operation == "TransactGetItems":
        return [Request("dynamodb:GetItem", arn(item["Get"]["TableName"])) for item in params["TransactItems"]]
    if operation in {"BatchWriteItem", "BatchGetItem"}:
        # These two have IAM actions of their own (the reference's DynamoDB table), on every table they touch.
        return [Request(f"dynamodb:{operation}", arn(name)) for name in params["RequestItems"]]
    if "TableName" not in params:
        raise UnmappedCall(f"dynamodb:{operation}")
    resource = arn(params["TableName"])
    if operation in {"Query", "Scan"} and params.get("IndexName"):
        resource += f"/index/{params['IndexName']}"
    return [Request(f"dynamodb:{operation}", resource)]


def _sqs(operation: str, params: dict[str, Any], region: str, account: str) -> list[Request]:
    if "QueueUrl" in params:
        owner, name = str(params["QueueUrl"]).rstrip("/").split("/")[-2:]
    elif "QueueName" in params:
        owner, name = str(params.get("QueueOwnerAWSAccountId", account)), str(params["QueueName"])
    else:
        raise UnmappedCall(f"sqs:{operation}")
    return [Request(_SQS_BATCH.get(operation, f"sqs:{operation}"), f"arn:aws:sqs:{region}:{owner}:{name}")]


@dataclass(frozen=True)
class Checked:
    function: str
    operation: str  # "s3:ListObjectsV2", or "s3:presigned UploadPart" for a URL
    request: Request
    allowed: bool

    def __str__(self) -> str:
        return f"{self.function} {self.operation}: {self.request}"


class PolicyCheck:
    """Records every call the functions make through media_platform.clients and checks it against the calling
    function's policy: a denied call raises AccessDenied as AWS would, and stays on record for the test to fail."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.policies = function_policies(template)
        self.checked: list[Checked] = []
        # Calls through media_platform.clients made outside any function (tests calling the layer directly): not
        # checked, since no policy applies; counted, so the report can say how much went unchecked.
        self.outside_functions: Counter[str] = Counter()
        self._lock = threading.Lock()

    def instrument(self, client: Any) -> None:
        """A media_platform.clients hook: every call of this client (and every URL it presigns) is checked."""
        from media_platform.clients import S3Presigner

        if isinstance(client, S3Presigner):
            self._check_presigner(client)
            return
        client.meta.events.register("before-parameter-build.*.*", self._before_parameter_build)
        if client.meta.service_model.signing_name == "s3":
            self._check_presigned_posts(client)

    def denied(self, since: int = 0) -> list[Checked]:
        with self._lock:
            return [c for c in self.checked[since:] if not c.allowed]

    def unused(self) -> dict[str, list[Grant]]:
        """Per function, what its policy grants that no checked call needed."""
        with self._lock:
            made: dict[str, list[Request]] = {}
            for c in self.checked:
                if c.allowed:
                    made.setdefault(c.function, []).append(c.request)
        return {
            function: [g for g in policy.grants() if not any(g.used_by(r) for r in made.get(function, []))]
            for function, policy in sorted(self.policies.items())
        }

    def check(self, function: str, operation: str, requests: list[Request]) -> None:
        policy = self.policies.get(function) or Policy(function)
        results = [Checked(function, operation, r, policy.allows(r)) for r in requests]
        with self._lock:
            self.checked += results
        if denied := [c for c in results if not c.allowed]:
            message = f"{function}'s policy in template.yaml does not allow {denied[0].request} ({operation})"
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": message}}, operation.split(":")[-1])

    def _before_parameter_build(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        function = current_function.get()
        service, presigned = model.service_model.signing_name, bool(context.get("is_presign_request"))
        if function is None:
            with self._lock:
                self.outside_functions[f"{service}:{model.name}"] += 1
            return
        if presigned and model.name == "CreateBucket":
            return  # generate_presigned_post names this operation to build its URL; the POST is checked below
        requests = requests_for(service, model.name, params, self.template.REGION, self.template.ACCOUNT_ID)
        self.check(function, f"{service}:{'presigned ' if presigned else ''}{model.name}", requests)

    def _check_presigner(self, presigner: Any) -> None:
        """media_platform.clients.S3Presigner signs without the client: a URL is checked as the request it signs
        (a GET naming a version as s3:GetObjectVersion, a part URL as s3:PutObject), a POST as s3:PutObject."""
        url, post = presigner.url, presigner.post

        def checked_url(method: str, bucket: str, key: str, params: dict[str, str], expires_in: int) -> str:
            if function := current_function.get():
                operation = "UploadPart" if "partNumber" in params else {"GET": "GetObject", "PUT": "PutObject"}[method]
                api = {"Bucket": bucket, "Key": key} | (
                    {"VersionId": params["versionId"]} if "versionId" in params else {}
                )
                self.check(function, f"s3:presigned {operation}", requests_for("s3", operation, api, "", ""))
            return str(url(method, bucket, key, params, expires_in))

        def checked_post(bucket: str, key: str, *args: Any, **kwargs: Any) -> Any:
            if function := current_function.get():
                requests = requests_for("s3", "PutObject", {"Bucket": bucket, "Key": key}, "", "")
                self.check(function, "s3:presigned POST", requests)
            return post(bucket, key, *args, **kwargs)

        presigner.url, presigner.post = checked_url, checked_post

    def _check_presigned_posts(self, client: Any) -> None:
        """A presigned POST uploads the object as s3:PutObject, with the signer's permissions."""
        presign = client.generate_presigned_post

        def checked_post(Bucket: str, Key: str, *args: Any, **kwargs: Any) -> Any:
            if function := current_function.get():
                requests = requests_for("s3", "PutObject", {"Bucket": Bucket, "Key": Key}, "", "")
                self.check(function, "s3:presigned POST", requests)
            return presign(Bucket, Key, *args, **kwargs)

        client.generate_presigned_post = checked_post
