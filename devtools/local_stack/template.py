"""Reads template.yaml: functions, their routes and environment, and the resources to create locally."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devtools.local_stack.cors import CorsConfig

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """A YAML loader that reads CloudFormation's short tags (`!Ref`, `!Sub`, `!GetAtt`, ...) as their long form."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 (a SafeLoader subclass)
    return document


@dataclass(frozen=True)
class Route:
    method: str
    path: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", self.path)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")


@dataclass
class Function:
    logical_id: str
    code_uri: str
    handler: str
    environment: dict[str, Any]
    routes: list[Route] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    memory_mb: int = 128

    @property
    def module(self) -> str:
        """The handler's module as an import path from the repository root (`functions.auth_login.app`)."""
        return ".".join([*Path(self.code_uri).parts, self.handler.rsplit(".", 1)[0]])

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


class Template:
    def __init__(self, document: dict[str, Any], stack_name: str = "media-platform-local") -> None:
        self.document = document
        self.stack_name = stack_name
        self.resources: dict[str, dict[str, Any]] = document.get("Resources", {})
        self.parameters = {name: spec.get("Default") for name, spec in document.get("Parameters", {}).items()}

    @classmethod
    def load(cls, path: Path = TEMPLATE) -> Template:
        return cls(load_template(path))

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r.get("Type") == resource_type}

    ACCOUNT_ID = "123456789012"  # moto's default account
    REGION = "us-east-1"
    _NAME_PROPERTIES = ("BucketName", "QueueName", "TableName", "Name")

    def physical_name(self, logical_id: str) -> str:
        """The resource's own name where the template sets one, else stack name + logical id."""
        props = self.resources.get(logical_id, {}).get("Properties", {})
        for prop in self._NAME_PROPERTIES:
            if prop in props:
                return str(self.resolve(props[prop]))
        return f"{self.stack_name}-{logical_id}"

    def arn(self, logical_id: str) -> str:
        name = self.physical_name(logical_id)
        kind = self.resources[logical_id]["Type"]
        if kind == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{self.REGION}:{self.ACCOUNT_ID}:{name}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{name}"
        if kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{self.REGION}:{self.ACCOUNT_ID}:table/{name}"
        if kind == "AWS::SecretsManager::Secret":
            # AWS appends six random characters to a secret's ARN; locally the ARN ends with the name, as the
            # local IAM check reads a call by name (the functions pass SecretId as the name).
            return f"arn:aws:secretsmanager:{self.REGION}:{self.ACCOUNT_ID}:secret:{name}"
        return f"arn:aws:local:{self.REGION}:{self.ACCOUNT_ID}:{name}"

    def queue_url(self, logical_id: str) -> str:
        """The queue's URL as AWS writes it; the emulator finds the queue by the name at its end, on any endpoint."""
        return f"https://sqs.{self.REGION}.amazonaws.com/{self.ACCOUNT_ID}/{self.physical_name(logical_id)}"

    def resolve_list(self, value: Any) -> list[str]:
        """A list property, or a CommaDelimitedList parameter referenced with !Ref."""
        if isinstance(value, dict) and "Ref" in value and isinstance(self.parameters.get(value["Ref"]), (list, str)):
            default = self.parameters[value["Ref"]]
            return default if isinstance(default, list) else [v.strip() for v in str(default).split(",")]
        return [str(self.resolve(v)) for v in value]

    def resolve(self, value: Any) -> Any:
        """Resolves the intrinsics used in environment variables to local names and parameter defaults."""
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                if arg in self.parameters:
                    return self._parameter(arg)
                pseudo = {
                    "AWS::StackName": self.stack_name,
                    "AWS::Region": self.REGION,
                    "AWS::AccountId": self.ACCOUNT_ID,
                    "AWS::Partition": "aws",
                    "AWS::URLSuffix": "amazonaws.com",
                }
                if self.resources.get(arg, {}).get("Type") == "AWS::SQS::Queue":
                    return self.queue_url(arg)  # a queue's Ref is its URL
                return pseudo.get(arg) or self.physical_name(arg)
            if key == "Fn::Sub":
                return re.sub(r"\$\{([\w:.]+)\}", lambda m: str(self._sub_variable(m.group(1))), arg)
            if key == "Fn::GetAtt":
                return self.arn(arg[0])
        return value

    def _sub_variable(self, name: str) -> Any:
        if name.endswith(".Arn"):
            return self.arn(name.removesuffix(".Arn"))
        return self.resolve({"Ref": name})

    def http_api_cors(self) -> CorsConfig | None:
        """The HTTP API's `CorsConfiguration`, its origins resolved like every parameter here (None: no CORS)."""
        for resource in self.of_type("AWS::Serverless::HttpApi").values():
            cors = resource.get("Properties", {}).get("CorsConfiguration")
            if isinstance(cors, dict):  # the object form; this template uses no other
                return CorsConfig.from_properties(cors, self.resolve_list(cors.get("AllowOrigins", [])))
        return None

    def allow_origins(self, origins: list[str]) -> None:
        """Adds origins to the parameter that the HTTP API's AllowOrigins names, so the bucket's CORS rules, which name
        the same parameter, allow them as well (the local stack's own origins)."""
        for resource in self.of_type("AWS::Serverless::HttpApi").values():
            cors = resource.get("Properties", {}).get("CorsConfiguration")
            reference = cors.get("AllowOrigins") if isinstance(cors, dict) else None
            if isinstance(reference, dict) and reference.get("Ref") in self.parameters:
                name = reference["Ref"]
                current = self.resolve_list(reference)
                self.parameters[name] = current + [o for o in origins if o not in current]

    def _parameter(self, name: str) -> str:
        value = self.parameters[name]
        return ",".join(value) if isinstance(value, list) else str(value)

    def functions(self) -> list[Function]:
        globals_ = self.document.get("Globals", {}).get("Function", {})
        global_env = globals_.get("Environment", {}).get("Variables", {})
        found = []
        for name, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource["Properties"]
            env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
            function = Function(
                logical_id=name,
                code_uri=props["CodeUri"].rstrip("/"),
                handler=props.get("Handler", globals_.get("Handler")),
                environment={k: str(self.resolve(v)) for k, v in env.items()},
                events=props.get("Events", {}),
                memory_mb=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
            )
            for event in function.events.values():
                if event["Type"] == "HttpApi":
                    function.routes.append(Route(event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
            found.append(function)
        return found
