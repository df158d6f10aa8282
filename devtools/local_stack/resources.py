"""Creates in the emulator every table, secret, queue and bucket that template.yaml declares.
Used by the local stack (moto server) and by the handler tests (moto's mock_aws) alike."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

import boto3

from devtools.local_stack.template import Template

_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode")


def create_tables(template: Template, region: str = "us-east-1") -> dict[str, str]:
    client: Any = boto3.client("dynamodb", region_name=region)
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
    client: Any = boto3.client("secretsmanager", region_name=region)
    names = {}
    for logical_id, resource in template.of_type("AWS::SecretsManager::Secret").items():
        props = resource["Properties"]
        name = template.physical_name(logical_id)
        value = props.get("SecretString") or _generated_secret(props.get("GenerateSecretString", {}))
        client.create_secret(Name=name, SecretString=value)
        names[logical_id] = name
    return names


def create_queues(template: Template, region: str = "us-east-1") -> dict[str, str]:
    """Dead-letter queues first, so the queues that redrive to them can name them."""
    client: Any = boto3.client("sqs", region_name=region)
    queues = template.of_type("AWS::SQS::Queue")
    ordered = sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1].get("Properties", {}))
    urls = {}
    for logical_id, resource in ordered:
        props = resource.get("Properties", {})
        attributes = {k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props}
        if redrive := props.get("RedrivePolicy"):
            target = template.resolve(redrive["deadLetterTargetArn"])
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": target, "maxReceiveCount": str(redrive["maxReceiveCount"])}
            )
        urls[logical_id] = client.create_queue(QueueName=template.physical_name(logical_id), Attributes=attributes)[
            "QueueUrl"
        ]
    return urls


def create_buckets(template: Template, region: str = "us-east-1") -> dict[str, str]:
    """Buckets with the template's versioning, CORS, lifecycle and notifications (S3 -> SQS is delivered by moto)."""
    client: Any = boto3.client("s3", region_name=region)
    names = {}
    for logical_id, resource in template.of_type("AWS::S3::Bucket").items():
        props = resource.get("Properties", {})
        name = template.physical_name(logical_id)
        client.create_bucket(Bucket=name)
        if versioning := props.get("VersioningConfiguration"):
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
        if cors := props.get("CorsConfiguration"):
            client.put_bucket_cors(
                Bucket=name, CORSConfiguration={"CORSRules": [_cors_rule(template, r) for r in cors["CorsRules"]]}
            )
        if lifecycle := props.get("LifecycleConfiguration"):
            client.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in lifecycle["Rules"]]}
            )
        if notifications := props.get("NotificationConfiguration"):
            queues = [_queue_notification(template, n) for n in notifications.get("QueueConfigurations", [])]
            client.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"QueueConfigurations": queues}
            )
        names[logical_id] = name
    return names


def bucket_cors_rules(template: Template) -> dict[str, list[dict[str, Any]]]:
    """Every bucket of the template with its CORS rules in the S3 API's shape (none: no CORS configuration)."""
    found = {}
    for logical_id, resource in template.of_type("AWS::S3::Bucket").items():
        rules = resource.get("Properties", {}).get("CorsConfiguration", {}).get("CorsRules", [])
        found[template.physical_name(logical_id)] = [_cors_rule(template, r) for r in rules]
    return found


def _cors_rule(template: Template, rule: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {
        "AllowedOrigins": template.resolve_list(rule["AllowedOrigins"]),
        "AllowedMethods": rule["AllowedMethods"],
    }
    for source, target in (("AllowedHeaders", "AllowedHeaders"), ("ExposedHeaders", "ExposeHeaders")):
        if source in rule:
            converted[target] = rule[source]
    if "MaxAge" in rule:
        converted["MaxAgeSeconds"] = int(rule["MaxAge"])
    return converted


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {"ID": rule.get("Id", "rule"), "Status": rule["Status"], "Filter": {"Prefix": ""}}
    if abort := rule.get("AbortIncompleteMultipartUpload"):
        converted["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(abort["DaysAfterInitiation"])}
    if expiration := rule.get("ExpirationInDays"):
        converted["Expiration"] = {"Days": int(expiration)}
    return converted


def _queue_notification(template: Template, notification: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {"QueueArn": template.resolve(notification["Queue"]), "Events": [notification["Event"]]}
    rules = notification.get("Filter", {}).get("S3Key", {}).get("Rules", [])
    if rules:
        converted["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}
    return converted


def provision(template: Template, region: str = "us-east-1") -> None:
    create_tables(template, region)
    create_secrets(template, region)
    create_queues(template, region)
    create_buckets(template, region)
