"""Creates in the emulator every table and secret that template.yaml declares (buckets and queues join them with
the media issue). Used by the local stack (moto server) and by the handler tests (moto's mock_aws) alike."""

from __future__ import annotations

import secrets
import string
from typing import Any

import boto3

from tests.local_stack.template import Template

_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode")


def create_tables(template: Template, region: str = "us-east-1") -> dict[str, str]:
    client = boto3.client("dynamodb", region_name=region)
    names = {}
    for logical_id, resource in template.of_type("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        name = template.physical_name(logical_id)
        client.create_table(TableName=name, **{k: props[k] for k in _TABLE_KEYS if k in props})
        if ttl := props.get("TimeToLiveSpecification"):
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        names[logical_id] = name
    return names


def _generated_secret(spec: dict[str, Any]) -> str:
    length = int(spec.get("PasswordLength", 32))
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += string.punctuation
    return "".join(secrets.choice(alphabet) for _ in range(length))


def create_secrets(template: Template, region: str = "us-east-1") -> dict[str, str]:
    client = boto3.client("secretsmanager", region_name=region)
    names = {}
    for logical_id, resource in template.of_type("AWS::SecretsManager::Secret").items():
        props = resource["Properties"]
        name = template.physical_name(logical_id)
        value = props.get("SecretString") or _generated_secret(props.get("GenerateSecretString", {}))
        client.create_secret(Name=name, SecretString=value)
        names[logical_id] = name
    return names


def provision(template: Template, region: str = "us-east-1") -> None:
    create_tables(template, region)
    create_secrets(template, region)
