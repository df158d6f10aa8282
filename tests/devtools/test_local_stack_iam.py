"""The local IAM check: template.yaml's policies read and matched as IAM would, AWS calls mapped to the actions and
resources AWS authorizes them by, and a call a policy does not allow refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from devtools.local_stack.iam import (
    PolicyCheck,
    Request,
    Statement,
    UnmappedCall,
    UnsupportedPolicy,
    acting_as,
    function_policies,
    matches,
    requests_for,
)
from devtools.local_stack.template import TEMPLATE, Template, load_template
from media_platform import clients
from media_platform.dal import objects
from tests.integration.conftest import provisioned

T = Template.load()
POLICIES = function_policies(T)
BUCKET = T.physical_name("MediaBucket")
BUCKET_ARN = T.arn("MediaBucket")
MEDIA = T.arn("MediaTable")
USERS = T.arn("UsersTable")
REGION, ACCOUNT = T.REGION, T.ACCOUNT_ID


def allows(function: str, action: str, resource: str, **context: str) -> bool:
    return POLICIES[function].allows(Request(action, resource, tuple(context.items())))


def test_a_call_the_policy_names_is_allowed() -> None:
    assert allows("MediaGetFunction", "dynamodb:GetItem", MEDIA)


def test_another_action_on_the_same_resource_is_denied() -> None:
    assert not allows("MediaGetFunction", "dynamodb:PutItem", MEDIA)


def test_the_same_action_on_another_resource_is_denied() -> None:
    assert not allows("MediaGetFunction", "dynamodb:GetItem", T.arn("ViewsTable"))


def test_actions_match_without_case_and_resources_with_it() -> None:
    assert allows("MediaGetFunction", "DynamoDB:getitem", MEDIA)
    assert not allows("MediaGetFunction", "dynamodb:GetItem", MEDIA.upper())


def test_a_resource_wildcard_covers_every_key_under_its_prefix_and_nothing_else() -> None:
    assert allows("UploadProcessorFunction", "s3:GetObject", f"{BUCKET_ARN}/uploads/a/b.mp4")
    assert not allows("UploadProcessorFunction", "s3:GetObject", f"{BUCKET_ARN}/other/a.mp4")
    assert not allows("UploadProcessorFunction", "s3:GetObject", f"{BUCKET_ARN}/uploads")


def test_iam_wildcards_are_star_and_question_mark_only() -> None:
    assert matches("s3:Get*", "s3:GetObjectVersion")
    assert matches("table/T?", "table/T1") and not matches("table/T?", "table/T12")
    assert not matches("table/[ab]", "table/a")  # not a character class: only * and ? are special
    assert matches("table/[ab]", "table/[ab]")


def test_the_s3_prefix_condition_limits_listing_to_the_uploads_prefix() -> None:
    assert allows("UploadStatusFunction", "s3:ListBucket", BUCKET_ARN, **{"s3:prefix": "uploads/abc"})
    assert not allows("UploadStatusFunction", "s3:ListBucket", BUCKET_ARN, **{"s3:prefix": "private/abc"})
    assert not allows("UploadStatusFunction", "s3:ListBucket", BUCKET_ARN)  # no prefix: the condition fails


def test_a_managed_policy_referenced_by_the_function_grants_what_it_says() -> None:
    assert allows("AuthMeFunction", "secretsmanager:GetSecretValue", T.arn("JwtSigningSecret"))
    assert not allows("AuthMeFunction", "secretsmanager:GetSecretValue", T.arn("ViewerKeySecret"))
    assert allows("MediaViewFunction", "secretsmanager:GetSecretValue", T.arn("ViewerKeySecret"))


def test_an_explicit_deny_wins_and_negated_conditions_hold_without_their_key() -> None:
    allow = Statement("Allow", ("s3:*",), ("*",))
    deny = Statement("Deny", ("s3:DeleteObject",), ("*",), (("StringNotLike", "s3:prefix", ("keep/*",)),))
    assert allow.applies(Request("s3:DeleteObject", "arn:aws:s3:::b/k"))
    assert deny.applies(Request("s3:DeleteObject", "arn:aws:s3:::b/k"))
    assert not deny.applies(Request("s3:DeleteObject", "arn:aws:s3:::b/k", (("s3:prefix", "keep/x"),)))


def test_s3_operations_map_to_the_actions_aws_authorizes_them_by() -> None:
    def action(operation: str, **params: Any) -> list[str]:
        return [r.action for r in requests_for("s3", operation, {"Bucket": "b", "Key": "k", **params}, REGION, ACCOUNT)]

    assert action("ListObjectsV2") == ["s3:ListBucket"]
    assert action("ListObjectVersions") == ["s3:ListBucketVersions"]
    assert action("ListParts", UploadId="u") == ["s3:ListMultipartUploadParts"]
    assert action("HeadObject") == ["s3:GetObject"]
    assert action("GetObject", VersionId="v") == ["s3:GetObjectVersion"]
    for operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        assert action(operation) == ["s3:PutObject"]
    assert action("AbortMultipartUpload", UploadId="u") == ["s3:AbortMultipartUpload"]
    assert action("DeleteObject") == ["s3:DeleteObject"]
    assert action("DeleteObjects", Delete={"Objects": [{"Key": "a", "VersionId": "1"}, {"Key": "b"}]}) == [
        "s3:DeleteObjectVersion",
        "s3:DeleteObject",
    ]
    listing = requests_for("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "uploads/x"}, REGION, ACCOUNT)
    assert listing == [Request("s3:ListBucket", "arn:aws:s3:::b", (("s3:prefix", "uploads/x"),))]


def test_a_transaction_is_authorized_item_by_item_on_each_items_table() -> None:
    items = [
        {"Put": {"TableName": "Users", "Item": {}}},
        {"Update": {"TableName": "Media", "Key": {}}},
        {"Delete": {"TableName": "Users", "Key": {}}},
        {"ConditionCheck": {"TableName": "Media", "Key": {}}},
    ]
    requests = requests_for("dynamodb", "TransactWriteItems", {"TransactItems": items}, REGION, ACCOUNT)
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/"
    assert requests == [
        Request("dynamodb:PutItem", table + "Users"),
        Request("dynamodb:UpdateItem", table + "Media"),
        Request("dynamodb:DeleteItem", table + "Users"),
        Request("dynamodb:ConditionCheckItem", table + "Media"),
    ]


def test_the_signup_transaction_is_within_the_signup_policy_and_a_condition_check_is_not() -> None:
    users = T.physical_name("UsersTable")
    puts = [{"Put": {"TableName": users, "Item": {}}}, {"Put": {"TableName": users, "Item": {}}}]
    checks = [{"ConditionCheck": {"TableName": users, "Key": {}}}]
    policy = POLICIES["AuthSignupFunction"]
    signup = requests_for("dynamodb", "TransactWriteItems", {"TransactItems": puts}, REGION, ACCOUNT)
    assert all(policy.allows(r) for r in signup)
    check = requests_for("dynamodb", "TransactWriteItems", {"TransactItems": checks}, REGION, ACCOUNT)
    assert not policy.allows(check[0])


def test_dynamodb_queries_on_an_index_and_batches_and_sqs_batches() -> None:
    query = requests_for("dynamodb", "Query", {"TableName": "Media", "IndexName": "ByStatus"}, REGION, ACCOUNT)
    assert query[0].resource.endswith(":table/Media/index/ByStatus")
    batch = requests_for("dynamodb", "BatchWriteItem", {"RequestItems": {"A": [], "B": []}}, REGION, ACCOUNT)
    assert [(r.action, r.resource.rsplit("/", 1)[1]) for r in batch] == [
        ("dynamodb:BatchWriteItem", "A"),
        ("dynamodb:BatchWriteItem", "B"),
    ]
    url = T.queue_url("RollupQueue")
    (send,) = requests_for("sqs", "SendMessageBatch", {"QueueUrl": url, "Entries": []}, REGION, ACCOUNT)
    assert send == Request("sqs:SendMessage", T.arn("RollupQueue"))
    assert POLICIES["StatsRollupFunction"].allows(send)


def test_an_operation_without_a_known_mapping_is_refused_rather_than_guessed() -> None:
    with pytest.raises(UnmappedCall):
        requests_for("s3", "CopyObject", {"Bucket": "b", "Key": "k"}, REGION, ACCOUNT)
    with pytest.raises(UnmappedCall):
        requests_for("kms", "Decrypt", {}, REGION, ACCOUNT)
    with pytest.raises(UnmappedCall):
        requests_for("s3", "ListBuckets", {}, REGION, ACCOUNT)


def test_a_policy_form_the_check_cannot_read_fails_loudly(tmp_path: Path) -> None:
    document = load_template(TEMPLATE)
    document["Resources"]["MediaGetFunction"]["Properties"]["Policies"].append("AmazonS3ReadOnlyAccess")
    with pytest.raises(UnsupportedPolicy, match="MediaGetFunction"):
        function_policies(Template(document))


@pytest.fixture
def s3_presigner() -> Any:
    """A client that signs locally (no call is made), checked by a PolicyCheck of its own."""
    client = boto3.client(
        "s3", region_name=REGION, config=Config(signature_version="s3v4"), endpoint_url="http://127.0.0.1:9"
    )
    check = PolicyCheck(T)
    check.instrument(client)
    return client, check


def test_presigned_urls_and_posts_are_checked_as_the_requests_they_sign(s3_presigner: Any) -> None:
    client, check = s3_presigner
    key = "uploads/m1"
    with acting_as("MediaStreamFunction"):
        client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key, "VersionId": "v1"})
    with acting_as("UploadPartsFunction"):
        params = {"Bucket": BUCKET, "Key": key, "UploadId": "u", "PartNumber": 1}
        client.generate_presigned_url("upload_part", Params=params)
    with acting_as("MediaCreateFunction"):
        client.generate_presigned_post(BUCKET, key, ExpiresIn=60)

    assert [(c.function, c.operation, c.request.action, c.allowed) for c in check.checked] == [
        ("MediaStreamFunction", "s3:presigned GetObject", "s3:GetObjectVersion", True),
        ("UploadPartsFunction", "s3:presigned UploadPart", "s3:PutObject", True),
        ("MediaCreateFunction", "s3:presigned POST", "s3:PutObject", True),
    ]
    assert {c.request.resource for c in check.checked} == {f"{BUCKET_ARN}/{key}"}


def test_the_layers_own_presigner_is_checked_as_the_requests_it_signs(s3_presigner: Any) -> None:
    from media_platform.clients import S3Presigner

    client, _ = s3_presigner
    check, presigner = PolicyCheck(T), S3Presigner(client)
    check.instrument(presigner)
    key = "uploads/m1"
    with acting_as("MediaStreamFunction"):
        presigner.url("GET", BUCKET, key, {"versionId": "v1", "response-content-type": "video/mp4"}, 60)
    with acting_as("UploadPartsFunction"):
        presigner.url("PUT", BUCKET, key, {"partNumber": "1", "uploadId": "u"}, 60)
    with acting_as("MediaCreateFunction"):
        presigner.post(BUCKET, key, {}, [], 60)
    with acting_as("MediaGetFunction"), pytest.raises(ClientError, match="AccessDenied"):
        presigner.url("GET", BUCKET, key, {}, 60)

    assert [(c.function, c.operation, c.request.action, c.allowed) for c in check.checked] == [
        ("MediaStreamFunction", "s3:presigned GetObject", "s3:GetObjectVersion", True),
        ("UploadPartsFunction", "s3:presigned UploadPart", "s3:PutObject", True),
        ("MediaCreateFunction", "s3:presigned POST", "s3:PutObject", True),
        ("MediaGetFunction", "s3:presigned GetObject", "s3:GetObject", False),
    ]


def test_a_function_may_not_presign_what_its_own_role_could_not_do(s3_presigner: Any) -> None:
    client, check = s3_presigner
    with acting_as("MediaGetFunction"), pytest.raises(ClientError, match="AccessDenied"):
        client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "uploads/m1"})
    with acting_as("MediaStreamFunction"), pytest.raises(ClientError, match="MediaStreamFunction"):
        client.generate_presigned_post(BUCKET, "uploads/m1")
    assert [c.request.action for c in check.denied()] == ["s3:GetObject", "s3:PutObject"]


def test_calls_outside_any_function_are_not_checked(s3_presigner: Any) -> None:
    client, check = s3_presigner
    client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "anything"})
    assert check.checked == []
    assert check.outside_functions == {"s3:GetObject": 1}


def test_permissions_no_call_needed_are_reported_per_function() -> None:
    check = PolicyCheck(T)
    check.check("MediaGetFunction", "dynamodb:GetItem", [Request("dynamodb:GetItem", MEDIA)])

    unused = check.unused()

    assert [str(g) for g in unused["MediaGetFunction"]] == [
        f"secretsmanager:GetSecretValue on {T.arn('JwtSigningSecret')} (via JwtSigningKeyReadPolicy)",
        f"dynamodb:GetItem on {USERS}",
    ]


@pytest.fixture
def emulated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mock_aws():
        provisioned(monkeypatch)
        yield


# The upload status function's s3:ListBucket statement, as template.yaml writes it.
LIST_BUCKET_STATEMENT = """\
            # Whether a presigned POST's object arrived: the one key, listed under its prefix.
            - Effect: Allow
              Action:
                - s3:ListBucket
              Resource: !GetAtt MediaBucket.Arn
              Condition:
                StringLike:
                  s3:prefix: uploads/*
"""


def _without_list_bucket(tmp_path: Path) -> Path:
    """A copy of template.yaml whose upload status function lost its s3:ListBucket statement."""
    text = TEMPLATE.read_text()
    assert text.count(LIST_BUCKET_STATEMENT) == 1
    copy = tmp_path / "template.yaml"
    copy.write_text(text.replace(LIST_BUCKET_STATEMENT, ""))
    return copy


def test_a_permission_removed_from_the_template_makes_the_real_call_fail(emulated: None, tmp_path: Path) -> None:
    # Given the upload status function's policy without s3:ListBucket, checking every client made from now on
    check = PolicyCheck(Template.load(_without_list_bucket(tmp_path)))
    clients.on_create(check.instrument)
    try:
        # When it checks whether a presigned POST's object arrived (a ListObjectsV2 of the one key)
        with acting_as("UploadStatusFunction"), pytest.raises(ClientError) as refused:
            objects.exists("uploads/m1")
    finally:
        clients.forget_hook(check.instrument)

    # Then the call is refused as AWS would refuse it, naming what is missing, and stays on record
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert "s3:ListBucket" in str(refused.value) and "UploadStatusFunction" in str(refused.value)
    assert [c.request.action for c in check.denied()] == ["s3:ListBucket"]


def test_the_same_call_passes_with_the_template_as_it_is(emulated: None) -> None:
    check = PolicyCheck(T)
    clients.on_create(check.instrument)
    try:
        with acting_as("UploadStatusFunction"):
            assert objects.exists("uploads/m1") is False
    finally:
        clients.forget_hook(check.instrument)
    assert [(c.request.action, c.allowed) for c in check.checked] == [("s3:ListBucket", True)]
