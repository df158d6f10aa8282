"""The artifact `make build-host` produces (.aws-sam/build): each function imports and answers from it alone, in a
clean interpreter laid out like Lambda's, and the layer ships compiled bytecode and no development packages."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import platform
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from moto.server import ThreadedMotoServer

from devtools.local_stack import resources
from devtools.local_stack.template import ROOT, Function, Template, load_template

BUILD = ROOT / ".aws-sam" / "build"
BUILT_TEMPLATE = BUILD / "template.yaml"
EVENTS = ROOT / "events"
REGION = "us-east-1"
VENV_SITE = Path(sysconfig.get_paths()["purelib"])
STDLIB = [Path(sysconfig.get_paths()[key]) for key in ("stdlib", "platstdlib")]
# What the python3.13 runtime ships besides the standard library (import name → distribution directory prefix).
# The stand-in runtime holds these, taken from the venv, and nothing else: the whole venv would also offer awscrt,
# pyOpenSSL, cryptography, certifi and orjson, which botocore and Powertools pick up when present and Lambda lacks.
RUNTIME_PROVIDED = {
    "boto3": "boto3",
    "botocore": "botocore",
    "s3transfer": "s3transfer",
    "jmespath": "jmespath",
    "dateutil": "python_dateutil",
    "six": "six",
    "urllib3": "urllib3",
}
# Development packages that must stay out of the layer: import name → distribution name.
FORBIDDEN_IN_LAYER = {
    "boto3": "boto3",
    "moto": "moto",
    "pytest": "pytest",
    "_pytest": "pytest",
    "samcli": "aws-sam-cli",
    "awscrt": "awscrt",
    "OpenSSL": "pyopenssl",
    "mypy": "mypy",
}

pytestmark = pytest.mark.skipif(
    not BUILT_TEMPLATE.exists(), reason="no built artifact (.aws-sam/build/template.yaml): run `make build-host` first"
)

TEMPLATE = Template.load()
FUNCTIONS = {function.logical_id: function for function in TEMPLATE.functions()}

# Runs in the clean interpreter: import the handler as Lambda would, optionally invoke it, report where code came from.
PROBE = """
import importlib, json, sys
from types import SimpleNamespace
config = json.loads(sys.argv[1])
sys.path[:0] = [config["function_dir"], config["layer_dir"]]
sys.path.append(config["runtime_dir"])
module = importlib.import_module(config["module"])
handler = getattr(module, config["attribute"])
report = {"callable": callable(handler), "module_file": module.__file__}
if config["event"] is not None:
    context = SimpleNamespace(
        function_name=config["function_name"],
        function_version="$LATEST",
        memory_limit_in_mb=config["memory_mb"],
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:" + config["function_name"],
        aws_request_id="00000000-0000-4000-8000-000000000000",
        log_group_name="/aws/lambda/" + config["function_name"],
        get_remaining_time_in_millis=lambda: 10000,
    )
    report["response"] = handler(config["event"], context)
import boto3
report["boto3_file"] = boto3.__file__
report["modules"] = {
    name: getattr(mod, "__file__", None) for name, mod in list(sys.modules.items()) if "." not in name
}
with open(config["report"], "w") as out:
    json.dump(report, out)
"""


def _built_code_uris() -> dict[str, str]:
    built = load_template(BUILT_TEMPLATE)["Resources"]
    return {name: r["Properties"].get("CodeUri") or r["Properties"].get("ContentUri") for name, r in built.items()}


@pytest.fixture(scope="module")
def artifact(runtime_dir: Path) -> dict[str, Path]:
    """Logical id → built directory (functions), "SharedLayer" → the layer's python/ directory, and "runtime" → the
    stand-in for the runtime's packages."""
    uris = _built_code_uris()
    dirs = {name: BUILD / uris[name] for name in FUNCTIONS}
    dirs["SharedLayer"] = BUILD / uris["SharedLayer"] / "python"
    dirs["runtime"] = runtime_dir
    machine = platform.machine()
    foreign = [
        so.name
        for so in dirs["SharedLayer"].rglob("*.so")
        if any(arch in so.name for arch in ("x86_64", "aarch64")) and machine not in so.name
    ]
    if foreign:
        pytest.skip(f"artifact built for another architecture than {machine} ({foreign[0]}): run `make build-host`")
    return dirs


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in for the Lambda runtime's own packages (boto3 and its dependencies), linked from the venv."""
    runtime = tmp_path_factory.mktemp("lambda-runtime")
    for name, dist_prefix in RUNTIME_PROVIDED.items():
        found = [VENV_SITE / name, VENV_SITE / f"{name}.py", *VENV_SITE.glob(f"{dist_prefix}-*.dist-info")]
        present = [path for path in found if path.exists()]
        assert len(present) == 2, f"{name} is not installed in the venv as expected: {present}"
        for path in present:
            (runtime / path.name).symlink_to(path)
    return runtime


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    """An emulator holding template.yaml's tables and secret, under the names the functions' environment gives."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        # moto keeps its state per process: forget what earlier suites (the local stack) created in it.
        httpx.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("AWS_ENDPOINT_URL", url)
            resources.provision(TEMPLATE, REGION)
        yield url
    finally:
        server.stop()


def event_for(function: Function) -> dict[str, Any] | None:
    path = EVENTS / f"{Path(function.code_uri).name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def expected_status(function_id: str, event: dict[str, Any]) -> int:
    """What each event of events/ gets from a fresh emulator: the placeholder token in a protected route's event (a
    Bearer header, or the stream route's `?token=`) is refused (after the signing key was read from Secrets Manager);
    signup creates the first account; login runs first (functions go in sorted order), so its account does not
    exist yet."""
    if "authorization" in event["headers"] or "token=" in event.get("rawQueryString", ""):
        return 401
    return {"AuthSignupFunction": 201, "AuthLoginFunction": 401}[function_id]


def run_from_artifact(
    function: Function, dirs: dict[str, Path], endpoint: str, tmp_path: Path, event: dict[str, Any] | None
) -> dict[str, Any]:
    """Imports (and, given an event, invokes) the handler with sys.path as Lambda lays it out: the function, the layer,
    then the runtime's packages."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "POWERTOOLS_TRACE_DISABLED": "true",
        **function.environment,
    }
    report_path = tmp_path / f"{function.logical_id}-{len(list(tmp_path.iterdir()))}.json"
    config = {
        "function_dir": str(dirs[function.logical_id]),
        "layer_dir": str(dirs["SharedLayer"]),
        "runtime_dir": str(dirs["runtime"]),
        "module": function.handler.rsplit(".", 1)[0],
        "attribute": function.attribute,
        "event": event,
        "function_name": function.logical_id,
        "memory_mb": function.memory_mb,
        "report": str(report_path),
    }
    # -I: no PYTHON* variables, user site or script directory; -S: no site-packages until the probe adds them;
    # -B: never write bytecode into the artifact.
    result = subprocess.run(  # noqa: S603 (our own interpreter and probe)
        [sys.executable, "-I", "-S", "-B", "-c", PROBE, json.dumps(config)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report: dict[str, Any] = json.loads(report_path.read_text())
    return report


def assert_code_origin(report: dict[str, Any], function_dir: Path, dirs: dict[str, Path]) -> None:
    assert Path(report["module_file"]).parent == function_dir
    assert Path(report["modules"]["media_platform"]).is_relative_to(dirs["SharedLayer"])
    assert Path(report["boto3_file"]).is_relative_to(dirs["runtime"])
    allowed = [function_dir, dirs["SharedLayer"], dirs["runtime"], *STDLIB]
    strays = {
        name: file
        for name, file in report["modules"].items()
        if file and not any(Path(file).is_relative_to(root) for root in allowed)
    }
    assert not strays, f"imported from outside the artifact and the runtime: {strays}"


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_function_imports_and_answers_from_the_artifact(
    function_id: str, artifact: dict[str, Path], aws_endpoint: str, tmp_path: Path
) -> None:
    function = FUNCTIONS[function_id]
    event = event_for(function)
    report = run_from_artifact(function, artifact, aws_endpoint, tmp_path, event)
    assert report["callable"]
    assert_code_origin(report, artifact[function_id], artifact)
    if event is None:
        return
    response = report["response"]
    if "requestContext" in event:  # an HTTP API event
        assert response["statusCode"] == expected_status(function_id, event), response
        assert not response.get("isBase64Encoded")
        json.loads(response["body"])
    elif "Records" in event:  # SQS: every record settled, none reported failed
        assert response == {"batchItemFailures": []}, response
    else:  # a schedule
        assert isinstance(response, dict) and response, response


def test_signup_login_me_from_the_artifact(artifact: dict[str, Path], aws_endpoint: str, tmp_path: Path) -> None:
    """The artifact's functions, wired by template.yaml's environment, work together against the tables and secret."""
    credentials = {"email": "artifact-check@example.com", "password": "a long enough passphrase"}
    signup = event_for(FUNCTIONS["AuthSignupFunction"])
    login = event_for(FUNCTIONS["AuthLoginFunction"])
    me = event_for(FUNCTIONS["AuthMeFunction"])
    assert signup and login and me, "events/auth_signup.json, auth_login.json and auth_me.json are needed"
    signup["body"] = login["body"] = json.dumps(credentials)

    created = run_from_artifact(FUNCTIONS["AuthSignupFunction"], artifact, aws_endpoint, tmp_path, signup)["response"]
    assert created["statusCode"] == 201, created

    token = run_from_artifact(FUNCTIONS["AuthLoginFunction"], artifact, aws_endpoint, tmp_path, login)["response"]
    assert token["statusCode"] == 200, token
    access_token = json.loads(token["body"])["access_token"]

    me["headers"]["authorization"] = f"Bearer {access_token}"
    found = run_from_artifact(FUNCTIONS["AuthMeFunction"], artifact, aws_endpoint, tmp_path, me)["response"]
    assert found["statusCode"] == 200, found
    assert json.loads(found["body"])["email"] == credentials["email"]


def test_layer_has_no_development_packages(artifact: dict[str, Path]) -> None:
    layer = artifact["SharedLayer"]
    top_level = {path.name.removesuffix(".py") for path in layer.iterdir()}
    assert not top_level & set(FORBIDDEN_IN_LAYER), sorted(top_level & set(FORBIDDEN_IN_LAYER))
    distributions = {
        (dist.metadata["Name"] or "").lower().replace("_", "-")
        for dist in importlib.metadata.distributions(path=[str(layer)])
    }
    assert not distributions & set(FORBIDDEN_IN_LAYER.values()), sorted(
        distributions & set(FORBIDDEN_IN_LAYER.values())
    )
    assert "botocore" in distributions, "sanity: the layer's distributions were read"


def _assert_unchecked_hash_pyc(source: Path) -> None:
    pyc = Path(importlib.util.cache_from_source(str(source)))
    assert pyc.is_file(), f"{source} has no compiled {pyc.name}"
    data = pyc.read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER, f"{pyc} is for another Python"
    assert int.from_bytes(data[4:8], "little") == 0b01, f"{pyc} is not an unchecked-hash pyc"
    # An unchecked pyc is trusted blindly at import: it must match the source it was shipped with.
    assert data[8:16] == importlib.util.source_hash(source.read_bytes()), f"{pyc} is stale"


def test_layer_code_is_compiled_unchecked_hash(artifact: dict[str, Path]) -> None:
    sources = sorted((artifact["SharedLayer"] / "media_platform").rglob("*.py"))
    assert sources
    for source in sources:
        _assert_unchecked_hash_pyc(source)


def test_function_code_is_compiled_unchecked_hash(artifact: dict[str, Path]) -> None:
    for function_id, function in FUNCTIONS.items():
        module = function.handler.rsplit(".", 1)[0]
        _assert_unchecked_hash_pyc(artifact[function_id] / f"{module}.py")
