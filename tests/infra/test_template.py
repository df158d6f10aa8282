"""template.yaml's security and wiring properties, read straight from the template; then the offline linters and
checkov, run the way `make infra` runs them (slower, so last)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools.local_stack.template import ROOT, TEMPLATE, Template, load_template

DOC = load_template()
TPL = Template(DOC)
RESOURCES: dict[str, dict[str, Any]] = DOC["Resources"]
FUNCTIONS = TPL.of_type("AWS::Serverless::Function")
GLOBAL_FUNCTION: dict[str, Any] = DOC["Globals"]["Function"]
API_ID = "MediaApi"
API = RESOURCES[API_ID]["Properties"]

# Checks the template satisfies and that must therefore never be suppressed.
NEVER_SKIPPED = {"CKV_AWS_28", "CKV_AWS_45", "CKV_AWS_66", "CKV_AWS_95", "CKV_AWS_363"}
BUCKET_LIST_ACTIONS = {"s3:ListBucket", "s3:ListBucketVersions"}
CHECK_ID = re.compile(r"^CKV2?_AWS_\d+$")
CHECKOV_CONFIG = ROOT / ".checkov.yaml"
CHECKOV_CONFIG_SKIPS = set(yaml.safe_load(CHECKOV_CONFIG.read_text())["skip-check"])


def referenced_ids(value: Any) -> set[str]:
    """Logical ids an intrinsic points at: `Ref`, `Fn::GetAtt` and the `${Name}` / `${Name.Attr}` of `Fn::Sub`."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return {arg}
        if key == "Fn::GetAtt":
            return {arg[0] if isinstance(arg, list) else arg.split(".", 1)[0]}
        if key == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) else arg
            return set(re.findall(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}", text))
    return set()


def literal_text(value: Any) -> str:
    """The literal part of a resource: a plain string, or the template string of `Fn::Sub`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return str(sub[0] if isinstance(sub, list) else sub)
    return ""


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(function_id: str) -> list[dict[str, Any]]:
    """A function's inline statements and those of the stack's managed policies it attaches."""
    found: list[dict[str, Any]] = []
    for policy in FUNCTIONS[function_id]["Properties"].get("Policies", []):
        if "Ref" in policy:
            policy = RESOURCES[policy["Ref"]]["Properties"]["PolicyDocument"]
        found.extend(policy["Statement"])
    return found


def http_routes() -> dict[str, str]:
    """Route key ("POST /auth/login") → logical id of the function serving it."""
    routes: dict[str, str] = {}
    for function_id, resource in FUNCTIONS.items():
        for event in resource["Properties"]["Events"].values():
            if event["Type"] == "HttpApi":
                key = f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}"
                assert key not in routes, f"{key} is served by both {routes[key]} and {function_id}"
                routes[key] = function_id
    return routes


def test_template_declares_functions() -> None:
    assert DOC["Transform"] == "AWS::Serverless-2016-10-31"
    # One function per endpoint of the README, plus the upload processor, the expiry sweep and the daily rollup's
    # scheduled function and worker.
    assert set(FUNCTIONS) == {
        "AuthSignupFunction",
        "AuthLoginFunction",
        "AuthLogoutFunction",
        "AuthMeFunction",
        "UsersListFunction",
        "UsersUpdateFunction",
        "MediaCreateFunction",
        "MediaListFunction",
        "MediaGetFunction",
        "MediaUpdateFunction",
        "MediaDeleteFunction",
        "MediaStreamUrlFunction",
        "MediaStreamFunction",
        "MediaRevokeStreamsFunction",
        "MediaViewFunction",
        "MediaAnalyticsFunction",
        "AnalyticsTopFunction",
        "UploadCompleteFunction",
        "UploadAbortFunction",
        "UploadStatusFunction",
        "UploadPartsFunction",
        "UploadProcessorFunction",
        "UploadExpiryFunction",
        "StatsRollupFunction",
        "StatsRollupWorkerFunction",
    }


# --- functions -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_function_has_one_kind_of_trigger_wired_safely(function_id: str) -> None:
    events = list(FUNCTIONS[function_id]["Properties"]["Events"].values())
    assert events and len({e["Type"] for e in events}) == 1, function_id
    for event in events:
        props = event["Properties"]
        if event["Type"] == "HttpApi":
            assert props["ApiId"] == {"Ref": API_ID}
            assert props["Path"].startswith("/")
        elif event["Type"] == "SQS":
            # Only failed records are retried, and the queue dead-letters what keeps failing.
            assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], function_id
            (queue_id,) = referenced_ids(props["Queue"])
            redrive = RESOURCES[queue_id]["Properties"]["RedrivePolicy"]
            assert referenced_ids(redrive["deadLetterTargetArn"]), function_id
            assert int(redrive["maxReceiveCount"]) >= 1
        elif event["Type"] in {"Schedule", "ScheduleV2"}:
            assert props["RetryPolicy"]["MaximumRetryAttempts"] >= 1, function_id
            assert props["DeadLetterConfig"], function_id
        else:
            pytest.fail(f"{function_id}: unexpected trigger {event['Type']}")


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_function_code_and_handler_exist(function_id: str) -> None:
    props = FUNCTIONS[function_id]["Properties"]
    code_dir = ROOT / props["CodeUri"]
    module, attribute = GLOBAL_FUNCTION["Handler"].rsplit(".", 1)
    assert (code_dir / f"{module}.py").is_file()
    assert attribute == "lambda_handler"


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_function_block_shows_only_what_is_its_own(function_id: str) -> None:
    props = FUNCTIONS[function_id]["Properties"]
    # Runtime, architecture, handler and tracing come from Globals only, so one change covers every function.
    for key in ("Runtime", "Architectures", "Handler", "Tracing", "Layers"):
        assert key not in props, f"{function_id} overrides Globals.{key}"
    for key in ("MemorySize", "Timeout"):
        assert props.get(key) != GLOBAL_FUNCTION[key], f"{function_id} repeats Globals.{key}"
    own_variables = props.get("Environment", {}).get("Variables", {})
    repeated = set(own_variables) & set(GLOBAL_FUNCTION["Environment"]["Variables"])
    assert not repeated, f"{function_id} repeats Globals variables {repeated}"
    skips = {skip["id"] for skip in FUNCTIONS[function_id].get("Metadata", {}).get("checkov", {}).get("skip", [])}
    assert not skips & CHECKOV_CONFIG_SKIPS, f"{function_id} repeats checkov skips of .checkov.yaml"


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_function_logs_to_its_own_log_group_with_retention(function_id: str) -> None:
    log_group_ref = FUNCTIONS[function_id]["Properties"]["LoggingConfig"]["LogGroup"]
    assert isinstance(log_group_ref, dict) and set(log_group_ref) == {"Ref"}
    log_group = RESOURCES[log_group_ref["Ref"]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    users = [f for f, r in FUNCTIONS.items() if r["Properties"]["LoggingConfig"]["LogGroup"] == log_group_ref]
    assert users == [function_id], f"{log_group_ref['Ref']} is shared by {users}"


def test_log_retention_parameter_is_bounded() -> None:
    spec = DOC["Parameters"]["LogRetentionDays"]
    assert spec["Type"] == "Number"
    assert spec["AllowedValues"] and all(int(days) > 0 for days in spec["AllowedValues"])
    for name, resource in TPL.of_type("AWS::Logs::LogGroup").items():
        assert resource["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_function_policies_are_inline_statements_only(function_id: str) -> None:
    props = FUNCTIONS[function_id]["Properties"]
    assert "Role" not in props, "a hand-made role would bypass the reviewed Policies"
    policies = props.get("Policies", [])
    assert isinstance(policies, list) and policies
    for policy in policies:
        # A string is an AWS managed policy; {"DynamoDBCrudPolicy": ...} and friends are SAM policy templates.
        assert isinstance(policy, dict), f"{function_id}: {policy!r}"
        if set(policy) == {"Ref"}:  # a managed policy of this stack, reviewed like an inline one
            assert RESOURCES[policy["Ref"]]["Type"] == "AWS::IAM::ManagedPolicy", f"{function_id}: {policy!r}"
        else:
            assert set(policy) == {"Statement"}, f"{function_id}: {policy!r}"


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_function_statements_are_least_privilege(function_id: str) -> None:
    found = statements(function_id)
    assert found
    for statement in found:
        assert statement["Effect"] == "Allow"
        assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
        actions = as_list(statement["Action"])
        resources = as_list(statement["Resource"])
        assert actions and resources
        for action in actions:
            assert isinstance(action, str) and "*" not in action, f"{function_id}: wildcard action {action}"
        services = {action.split(":", 1)[0] for action in actions}
        assert len(services) == 1, f"{function_id}: one service per statement keeps resources honest"
        (service,) = services
        expected_type = {
            "dynamodb": "AWS::DynamoDB::Table",
            "secretsmanager": "AWS::SecretsManager::Secret",
            "s3": "AWS::S3::Bucket",
            "sqs": "AWS::SQS::Queue",
        }[service]
        for resource in resources:
            text = literal_text(resource)
            if service == "s3" and set(actions) <= BUCKET_LIST_ACTIONS:
                # Listing is a bucket action: the bucket itself, narrowed to the upload prefix by a condition.
                assert "Fn::GetAtt" in resource and text == "", f"{function_id}: {resource}"
                assert statement["Condition"] == {"StringLike": {"s3:prefix": "uploads/*"}}, function_id
            elif service == "s3":
                # Object actions are scoped to the upload prefix: the only wildcard is the object name.
                assert text.endswith(".Arn}/uploads/*") and text.count("*") == 1, f"{function_id}: {text}"
            else:
                assert resource != "*" and "*" not in text, f"{function_id}: wildcard {resource}"
            targets = referenced_ids(resource)
            assert targets, f"{function_id}: {resource!r} names no resource of this stack"
            assert all(RESOURCES[t]["Type"] == expected_type for t in targets), (function_id, resource)


def test_index_statements_name_a_declared_index() -> None:
    for function_id in FUNCTIONS:
        for statement in statements(function_id):
            for resource in as_list(statement["Resource"]):
                text = literal_text(resource)
                if "/index/" not in text:
                    continue
                (table_id,) = referenced_ids(resource)
                indexes = {i["IndexName"] for i in RESOURCES[table_id]["Properties"].get("GlobalSecondaryIndexes", [])}
                assert text.rsplit("/index/", 1)[1] in indexes, (function_id, text)


def test_auth_functions_reserve_concurrency() -> None:
    for route, function_id in http_routes().items():
        if route.startswith("POST /auth/"):
            props = FUNCTIONS[function_id]["Properties"]
            assert props["ReservedConcurrentExecutions"] == {"Ref": "AuthReservedConcurrency"}, function_id


# --- globals and parameters ------------------------------------------------------------------------------------


def test_globals_runtime_tracing_architecture() -> None:
    assert GLOBAL_FUNCTION["Runtime"] == "python3.13"
    assert GLOBAL_FUNCTION["Tracing"] == "Active"
    assert GLOBAL_FUNCTION["Architectures"] == [{"Ref": "Architecture"}]
    assert GLOBAL_FUNCTION["Layers"] == [{"Ref": "SharedLayer"}]
    architecture = DOC["Parameters"]["Architecture"]
    assert architecture["Default"] == "arm64"
    assert set(architecture["AllowedValues"]) == {"arm64", "x86_64"}


def test_globals_set_powertools_environment() -> None:
    variables = GLOBAL_FUNCTION["Environment"]["Variables"]
    for name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"):
        assert isinstance(variables.get(name), str) and variables[name], name


def test_the_x_ray_sdk_is_off_unless_the_parameter_turns_it_on() -> None:
    # Lambda's active tracing (Globals.Tracing) records every invocation; the Powertools Tracer, and with it the
    # X-Ray SDK's import on every cold start, is opt-in for every function at once.
    assert GLOBAL_FUNCTION["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == {"Ref": "TracerDisabled"}
    spec = DOC["Parameters"]["TracerDisabled"]
    assert spec["Default"] == "true"
    assert set(spec["AllowedValues"]) == {"true", "false"}
    for function_id, resource in FUNCTIONS.items():
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        assert "POWERTOOLS_TRACE_DISABLED" not in variables, f"{function_id} overrides the tracer switch"


# --- data ------------------------------------------------------------------------------------------------------


RETAINED_TABLES = {"UsersTable", "MediaTable"}  # the idempotency table holds one-day records only


def test_tables_are_plain_dynamodb_tables() -> None:
    # checkov runs no checks on SimpleTable, and it cannot have PITR.
    assert not TPL.of_type("AWS::Serverless::SimpleTable")
    tables = TPL.of_type("AWS::DynamoDB::Table")
    assert tables
    for name, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        if name in RETAINED_TABLES:
            assert table["DeletionPolicy"] == "Retain", name
            assert table["UpdateReplacePolicy"] == "Retain", name
    assert set(tables) >= RETAINED_TABLES
    assert RESOURCES["IdempotencyTable"]["Properties"]["TimeToLiveSpecification"]["Enabled"] is True


def test_jwt_secret_is_generated_and_long() -> None:
    props = RESOURCES["JwtSigningSecret"]["Properties"]
    assert RESOURCES["JwtSigningSecret"]["Type"] == "AWS::SecretsManager::Secret"
    assert "SecretString" not in props
    assert int(props["GenerateSecretString"]["PasswordLength"]) >= 32


# --- HTTP API --------------------------------------------------------------------------------------------------


def test_api_cors_origins_come_from_the_parameter() -> None:
    assert RESOURCES[API_ID]["Type"] == "AWS::Serverless::HttpApi"
    cors = API["CorsConfiguration"]
    assert cors["AllowOrigins"] == {"Ref": "CorsAllowedOrigins"}
    assert DOC["Parameters"]["CorsAllowedOrigins"]["Type"] == "CommaDelimitedList"
    assert "*" not in str(DOC["Parameters"]["CorsAllowedOrigins"]["Default"])
    assert "*" not in cors["AllowHeaders"] and "*" not in cors["AllowMethods"]
    assert not cors.get("AllowCredentials", False)


def test_api_throttles_by_default_and_harder_on_auth_posts() -> None:
    default = API["DefaultRouteSettings"]
    assert default["ThrottlingBurstLimit"] > 0 and default["ThrottlingRateLimit"] > 0
    route_settings: dict[str, dict[str, Any]] = API["RouteSettings"]
    routes = http_routes()
    # A RouteSettings key without a route fails the deployment ("Unable to find Route by key").
    assert set(route_settings) <= set(routes)
    auth_posts = [route for route in routes if route.startswith("POST /auth/")]
    assert auth_posts
    for route in auth_posts:
        settings = route_settings[route]
        assert 0 < settings["ThrottlingBurstLimit"] < default["ThrottlingBurstLimit"], route
        assert 0 < settings["ThrottlingRateLimit"] < default["ThrottlingRateLimit"], route


def test_api_access_logs() -> None:
    access = API["AccessLogSettings"]
    (log_group_id,) = referenced_ids(access["DestinationArn"])
    assert RESOURCES[log_group_id]["Type"] == "AWS::Logs::LogGroup"
    assert RESOURCES[log_group_id]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    log_format = json.loads(access["Format"])
    assert {"requestId", "routeKey", "status"} <= set(log_format)
    assert "authorization" not in access["Format"].lower()


def test_outputs_include_the_api_url() -> None:
    value = DOC["Outputs"]["ApiUrl"]["Value"]
    assert API_ID in referenced_ids(value)
    assert literal_text(value).startswith("https://")


def test_layer_is_built_for_python313() -> None:
    layer = RESOURCES["SharedLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == [{"Ref": "Architecture"}]


# --- suppressions ----------------------------------------------------------------------------------------------


def test_every_stack_wide_checkov_skip_says_why() -> None:
    lines = CHECKOV_CONFIG.read_text().splitlines()
    skipped = [(n, line.strip().removeprefix("- ")) for n, line in enumerate(lines) if line.strip().startswith("- CKV")]
    assert {check for _, check in skipped} == CHECKOV_CONFIG_SKIPS and skipped
    for n, check in skipped:
        assert CHECK_ID.match(check), check
        assert lines[n - 1].strip().startswith("#") and len(lines[n - 1]) >= 40, f"{check} is skipped without a reason"
        assert check not in NEVER_SKIPPED, f".checkov.yaml suppresses {check}, which the template satisfies"


def test_every_checkov_skip_says_why() -> None:
    for name, resource in RESOURCES.items():
        skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
        ids = [skip["id"] for skip in skips]
        assert len(ids) == len(set(ids)), f"{name} skips a check twice"
        for skip in skips:
            assert CHECK_ID.match(skip["id"]), (name, skip)
            assert isinstance(skip.get("comment"), str) and len(skip["comment"].strip()) >= 20, (name, skip)
            assert skip["id"] not in NEVER_SKIPPED, f"{name} suppresses {skip['id']}, which the template satisfies"
            assert skip["id"] not in CHECKOV_CONFIG_SKIPS, f"{name} repeats {skip['id']}, skipped stack-wide"


# --- the tools, offline (slower) -------------------------------------------------------------------------------

BIN = Path(sys.executable).parent


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = BIN / args[0]
    assert tool.exists(), f"{tool} is missing: run `make install`"
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run(  # noqa: S603 (fixed arguments, tools from our own venv)
        [str(tool), *args[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_sam_validate_lint() -> None:
    result = run_tool("sam", "validate", "--lint", "--template-file", str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint() -> None:
    result = run_tool("cfn-lint", str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_has_no_failed_checks() -> None:
    result = run_tool("checkov", "--config-file", str(CHECKOV_CONFIG), "-f", str(TEMPLATE), "-o", "json")
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    (cloudformation,) = [r for r in reports if r["check_type"] == "cloudformation"]
    summary = cloudformation["summary"]
    failed = cloudformation["results"].get("failed_checks", [])
    assert summary["failed"] == 0, [(c["check_id"], c["resource"]) for c in failed]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0
    assert summary["resource_count"] == len(RESOURCES), "checkov did not scan every resource"
    for check in cloudformation["results"].get("skipped_checks", []):
        assert check["check_result"].get("suppress_comment", "").strip(), check["check_id"]
    assert result.returncode == 0, result.stderr


# --- media storage --------------------------------------------------------------------------------------------

BUCKET = RESOURCES["MediaBucket"]["Properties"]


def test_the_bucket_blocks_public_access_and_is_encrypted() -> None:
    assert all(BUCKET["PublicAccessBlockConfiguration"][k] is True for k in BUCKET["PublicAccessBlockConfiguration"])
    assert len(BUCKET["PublicAccessBlockConfiguration"]) == 4
    rule = BUCKET["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert RESOURCES["MediaBucket"]["DeletionPolicy"] == "Retain"


def test_the_bucket_refuses_plain_http() -> None:
    policy = RESOURCES["MediaBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "MediaBucket"}
    (deny,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_bucket_is_versioned_so_verified_bytes_can_be_pinned() -> None:
    assert RESOURCES["MediaBucket"]["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    lifecycle = RESOURCES["MediaBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    # A noncurrent-version rule could expire the verified version while a replayed upload sits on top of it.
    assert not any("NoncurrentVersionExpiration" in rule for rule in lifecycle)


def test_the_bucket_aborts_incomplete_multipart_uploads_after_a_day() -> None:
    from media_platform.uploads import MULTIPART_LIFETIME_SECONDS

    rules = BUCKET["LifecycleConfiguration"]["Rules"]
    assert any(
        r["Status"] == "Enabled" and r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1 for r in rules
    )
    # Signing parts moves an upload's deadline on, never past the day S3 keeps it.
    assert MULTIPART_LIFETIME_SECONDS == 24 * 3600


def test_the_upload_processor_may_list_the_upload_prefix_so_a_deleted_object_is_told_from_a_denial() -> None:
    listing = [s for s in statements("UploadProcessorFunction") if "s3:ListBucket" in as_list(s["Action"])]
    assert [s["Condition"] for s in listing] == [{"StringLike": {"s3:prefix": "uploads/*"}}]


def test_bucket_cors_names_the_configured_origins_and_only_upload_and_playback_methods() -> None:
    (rule,) = BUCKET["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == {"Ref": "CorsAllowedOrigins"}
    assert set(rule["AllowedMethods"]) == {"POST", "PUT", "GET", "HEAD"}
    assert "ETag" in rule["ExposedHeaders"]
    assert "Range" in rule["AllowedHeaders"]


def test_uploads_notify_the_queue_that_feeds_the_processor() -> None:
    (notification,) = BUCKET["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert referenced_ids(notification["Queue"]) == {"UploadsQueue"}
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "uploads/"}]
    processor_queue = FUNCTIONS["UploadProcessorFunction"]["Properties"]["Events"]["Uploads"]["Properties"]["Queue"]
    assert referenced_ids(processor_queue) == {"UploadsQueue"}


def test_only_the_media_bucket_may_send_to_the_queue() -> None:
    (statement,) = RESOURCES["UploadsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    source = literal_text(statement["Condition"]["ArnEquals"]["aws:SourceArn"])
    # The queue policy names the bucket by the same pattern the bucket's name uses (a Ref would be circular).
    assert source == "arn:${AWS::Partition}:s3:::" + literal_text(BUCKET["BucketName"])


def test_upload_limits_and_expiry_are_parameters_with_the_documented_defaults() -> None:
    params = DOC["Parameters"]
    assert int(params["UploadPostMaxBytes"]["Default"]) == 100 * 1024**2
    assert int(params["UploadMaxBytes"]["Default"]) == 50 * 1024**3
    assert int(params["UploadUrlExpirySeconds"]["Default"]) == 15 * 60


# --- the daily rollup -----------------------------------------------------------------------------------------

ROLLUP = FUNCTIONS["StatsRollupFunction"]["Properties"]
ROLLUP_WORKER = FUNCTIONS["StatsRollupWorkerFunction"]["Properties"]


def test_the_rollup_runs_daily_after_midnight_utc_with_retries_and_a_dead_letter_queue() -> None:
    (event,) = ROLLUP["Events"].values()
    props = event["Properties"]
    assert event["Type"] == "ScheduleV2"
    assert re.fullmatch(r"cron\(\d{1,2} 0 \* \* \? \*\)", props["ScheduleExpression"]), props["ScheduleExpression"]
    assert props.get("ScheduleExpressionTimezone", "UTC") == "UTC"
    assert json.loads(props["Input"]) == {}  # the scheduled run: yesterday and the day before
    assert referenced_ids(props["DeadLetterConfig"]["Arn"]) == {"RollupScheduleDeadLetterQueue"}
    assert referenced_ids(ROLLUP["DeadLetterQueue"]["TargetArn"]) == {"RollupScheduleDeadLetterQueue"}


def test_the_rollup_only_sends_work_items_and_the_worker_reads_them_from_its_queue() -> None:
    # The scheduled function reads nothing: it may send to the work queue, and that is all.
    assert [(s["Action"], referenced_ids(s["Resource"])) for s in statements("StatsRollupFunction")] == [
        (["sqs:SendMessage"], {"RollupQueue"})
    ]
    assert ROLLUP["Environment"]["Variables"]["ROLLUP_QUEUE_URL"] == {"Ref": "RollupQueue"}
    (event,) = ROLLUP_WORKER["Events"].values()
    assert event["Type"] == "SQS" and referenced_ids(event["Properties"]["Queue"]) == {"RollupQueue"}
    granted = {
        (a, t)
        for s in statements("StatsRollupWorkerFunction")
        for a in s["Action"]
        for t in referenced_ids(s["Resource"])
    }
    assert granted == {
        ("dynamodb:Query", "ViewsTable"),
        ("dynamodb:PutItem", "DailyStatsTable"),
        ("dynamodb:UpdateItem", "DailyStatsTable"),
        ("dynamodb:Query", "DailyStatsTable"),
    }
    # A work item becomes visible again only after the worker's whole timeout could have passed.
    assert RESOURCES["RollupQueue"]["Properties"]["VisibilityTimeout"] >= 6 * ROLLUP_WORKER["Timeout"]


def test_rollup_failures_and_dead_letters_raise_alarms() -> None:
    alarms = TPL.of_type("AWS::CloudWatch::Alarm").values()
    watched = {
        (a["Properties"]["MetricName"], *referenced_ids(a["Properties"]["Dimensions"][0]["Value"])) for a in alarms
    }
    assert {
        ("Errors", "StatsRollupFunction"),
        ("Errors", "StatsRollupWorkerFunction"),
        ("ApproximateNumberOfMessagesVisible", "RollupDeadLetterQueue"),
        ("ApproximateNumberOfMessagesVisible", "RollupScheduleDeadLetterQueue"),
    } <= watched
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"], "an alarm nobody hears"
