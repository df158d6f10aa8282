"""Each function of the local stack loads and runs with only its own environment from template.yaml, as on Lambda:
a variable that only another function has is not there, so a template entry missing one fails locally."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from devtools.local_stack.gateway import LoadedFunction, own_environment
from devtools.local_stack.template import TEMPLATE, Function, Template
from media_platform.settings import MissingSettings, get_settings

T = Template.load()
SPECS = {f.logical_id: f for f in T.functions()}
IDEMPOTENCY_VARIABLE = "          IDEMPOTENCY_TABLE: !Ref IdempotencyTable\n"


def environment_seen(spec: Function) -> dict[str, str]:
    seen: dict[str, Any] = {}
    function = LoadedFunction(spec=spec, app=None, handler=lambda event, context: seen.update(os.environ))
    function.invoke({})
    return seen


def test_a_function_runs_with_its_own_variables_and_without_other_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the stack knows the media create function's variables, and the process has one of them set
    with own_environment(SPECS["MediaCreateFunction"]):
        pass
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "left-over")

    # When the media get function runs
    seen = environment_seen(SPECS["MediaGetFunction"])

    # Then it has the Globals' variables, resolved to local names, and not the other function's
    assert seen["MEDIA_TABLE"] == T.physical_name("MediaTable")
    assert seen["TOKEN_ISSUER"] == "media-platform-dev"
    assert "IDEMPOTENCY_TABLE" not in seen
    # and the process's environment is as it was
    assert os.environ["IDEMPOTENCY_TABLE"] == "left-over"


def test_a_function_sees_its_own_variables_and_settings_are_read_afresh() -> None:
    get_settings()  # cached before the invocation, from the test's environment
    spec = SPECS["MediaCreateFunction"]
    seen: dict[str, Any] = {}

    def handler(event: Any, context: Any) -> None:
        seen["settings"] = get_settings()

    LoadedFunction(spec=spec, app=None, handler=handler).invoke({})

    assert seen["settings"].idempotency_table == T.physical_name("IdempotencyTable")
    assert seen["settings"].upload_url_expiry_seconds == int(T.parameters["UploadUrlExpirySeconds"])


def test_a_function_loads_with_its_own_environment() -> None:
    function = LoadedFunction.load(SPECS["MediaCreateFunction"])
    assert function.app is not None and callable(function.handler)


def test_a_function_whose_template_entry_lacks_a_variable_it_needs_fails_to_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a template whose media create function lost IDEMPOTENCY_TABLE, in a process that has it set (as the one
    # environment shared by every function used to)
    text = TEMPLATE.read_text()
    assert text.count(IDEMPOTENCY_VARIABLE) == 1
    broken = tmp_path / "template.yaml"
    broken.write_text(text.replace(IDEMPOTENCY_VARIABLE, ""))
    (spec,) = [f for f in Template.load(broken).functions() if f.logical_id == "MediaCreateFunction"]
    with own_environment(SPECS["MediaCreateFunction"]):
        pass
    monkeypatch.setenv("IDEMPOTENCY_TABLE", T.physical_name("IdempotencyTable"))

    # When the stack loads it, Then its cold start fails, naming the variable
    with pytest.raises(MissingSettings, match="IDEMPOTENCY_TABLE") as failed:
        LoadedFunction.load(spec)
    assert "while loading MediaCreateFunction" in "".join(failed.value.__notes__)
