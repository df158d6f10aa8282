"""Each function imports from its own CodeUri plus the shared layer, as Lambda lays them out, without a build.

The handler tests and the local stack import `functions.<name>.app` with the repository root on sys.path, where every
function's folder and the dev tools are importable: a function that imports something outside its CodeUri and the
layer passes there and fails its cold start on AWS. test_built_artifact.py checks the built artifact the same way
(after `make build-host`); this check runs from the sources, in one clean interpreter, function after function."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from devtools.local_stack.stack import LOCAL_ENV
from devtools.local_stack.template import ROOT, Template
from tests.infra.test_built_artifact import STDLIB, VENV_SITE

LAYER = ROOT / "layers" / "shared"

# Runs in `python -I -S`: for each function, only its CodeUri, the layer and the venv's packages (standing in for the
# layer's dependencies and the runtime's boto3) on sys.path, only its environment set, and module `app` imported by
# that name as Lambda imports it. The modules an earlier function imported from its own folder are forgotten first.
PROBE = """
import importlib, json, os, sys
config = json.loads(sys.argv[1])
stdlib = list(sys.path)
failures, origins = {}, {}
for function in config["functions"]:
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(config["functions_root"]):
            del sys.modules[name]
    sys.path[:] = [function["dir"], config["layer"], *stdlib, config["site"]]
    os.environ.clear()
    os.environ.update(function["env"])
    if "media_platform.settings" in sys.modules:
        sys.modules["media_platform.settings"].get_settings.cache_clear()
    try:
        module = importlib.import_module(function["module"])
        origins[function["id"]] = module.__file__
        if not callable(getattr(module, function["attribute"], None)):
            failures[function["id"]] = "no callable " + function["attribute"]
    except Exception as error:
        failures[function["id"]] = type(error).__name__ + ": " + str(error)
files = {name: getattr(m, "__file__", None) for name, m in list(sys.modules.items())}
print(json.dumps({"failures": failures, "origins": origins, "files": files}))
"""


def test_every_function_imports_from_its_code_uri_and_the_layer_alone() -> None:
    functions = Template.load().functions()
    config = {
        "functions_root": str(ROOT / "functions"),
        "layer": str(LAYER),
        "site": str(VENV_SITE),
        "functions": [
            {
                "id": f.logical_id,
                "dir": str(ROOT / f.code_uri),
                "module": f.handler.rsplit(".", 1)[0],
                "attribute": f.attribute,
                "env": {**LOCAL_ENV, "AWS_LAMBDA_FUNCTION_NAME": f.logical_id, **f.environment},
            }
            for f in functions
        ],
    }

    result = subprocess.run(  # noqa: S603 (our own interpreter and probe)
        [sys.executable, "-I", "-S", "-B", "-c", PROBE, json.dumps(config)],
        cwd=LAYER,  # not the repository root: nothing may come from there
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["failures"] == {}
    for f in functions:
        assert Path(report["origins"][f.logical_id]).parent == ROOT / f.code_uri, f.logical_id
    allowed = [LAYER, ROOT / "functions", VENV_SITE, *STDLIB]
    strays = {n: p for n, p in report["files"].items() if p and not any(Path(p).is_relative_to(r) for r in allowed)}
    assert not strays, f"imported from outside the functions, the layer and the packages: {strays}"


def test_a_function_importing_from_outside_its_code_uri_fails(tmp_path: Path) -> None:
    """The probe does catch it: a function folder whose app imports the dev tools (importable only from the root)."""
    code = tmp_path / "functions" / "stray"
    code.mkdir(parents=True)
    (code / "app.py").write_text("from devtools.local_stack import template\nlambda_handler = print\n")
    config = {
        "functions_root": str(tmp_path / "functions"),
        "layer": str(LAYER),
        "site": str(VENV_SITE),
        "functions": [{"id": "Stray", "dir": str(code), "module": "app", "attribute": "lambda_handler", "env": {}}],
    }

    result = subprocess.run(  # noqa: S603 (our own interpreter and probe)
        [sys.executable, "-I", "-S", "-B", "-c", PROBE, json.dumps(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert json.loads(result.stdout.splitlines()[-1])["failures"] == {
        "Stray": "ModuleNotFoundError: No module named 'devtools'"
    }
