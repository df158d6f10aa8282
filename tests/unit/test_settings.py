"""Settings read their variables by one rule, and every function fails at init, naming the variable, when the
environment lacks a resource it may touch; the resources it may touch are read from its IAM policies."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest

from devtools.local_stack.template import ROOT, Template
from media_platform import settings as settings_module
from media_platform.settings import MissingSettings, Settings, get_settings

TEMPLATE = Template.load()
FUNCTIONS = {f.logical_id: f for f in TEMPLATE.functions()}
GLOBAL_VARIABLES = TEMPLATE.document["Globals"]["Function"]["Environment"]["Variables"]
# The variables that name a resource of the stack (USERS_TABLE → UsersTable, ...), from Globals and functions alike.
RESOURCE_VARIABLES = {
    name: value["Ref"]
    for resource in [{"Properties": {"Environment": {"Variables": GLOBAL_VARIABLES}}}, *TEMPLATE.resources.values()]
    for name, value in resource.get("Properties", {}).get("Environment", {}).get("Variables", {}).items()
    if isinstance(value, dict) and value.get("Ref") in TEMPLATE.resources
}


def referenced(value: Any) -> set[str]:
    """Every logical id that a policy names, through Ref, GetAtt or Sub."""
    text = json.dumps(value)
    return {logical_id for logical_id in TEMPLATE.resources if f'"{logical_id}"' in text or f"${{{logical_id}" in text}


def may_touch(logical_id: str) -> set[str]:
    found: set[str] = set()
    for policy in TEMPLATE.resources[logical_id]["Properties"]["Policies"]:
        if "Ref" in policy:  # one of the stack's managed policies
            policy = TEMPLATE.resources[policy["Ref"]]["Properties"]["PolicyDocument"]
        found |= referenced(policy)
    return found


def load_function(logical_id: str) -> None:
    """Runs the function's module from scratch, as a cold start does."""
    function = FUNCTIONS[logical_id]
    get_settings.cache_clear()
    spec = importlib.util.spec_from_file_location(f"cold_start_{logical_id}", ROOT / function.code_uri / "app.py")
    assert spec and spec.loader
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch):
    def set_for(logical_id: str, without: str | None = None) -> None:
        for name in RESOURCE_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in FUNCTIONS[logical_id].environment.items():
            if name != without:
                monkeypatch.setenv(name, value)

    return set_for


def test_each_setting_reads_its_own_name_in_upper_case() -> None:
    names = {field: Settings.env_name(field) for field in Settings.model_fields}

    assert names.pop("region") == "AWS_REGION" and names.pop("local_endpoint") == "AWS_ENDPOINT_URL"
    assert all(name == field.upper() for field, name in names.items())
    loaded = Settings.from_environ({"USERS_TABLE": "users", "LOGIN_MAX_FAILURES": "7", "users_table": "ignored"})
    assert loaded.users_table == "users" and loaded.login_max_failures == 7


def test_a_resource_that_is_not_set_is_refused_by_name_not_passed_on_as_empty() -> None:
    with pytest.raises(MissingSettings, match="MEDIA_BUCKET"):
        Settings.from_environ({"MEDIA_BUCKET": ""}).resource("media_bucket")


def test_an_invalid_value_fails_init_with_the_variable_named(monkeypatch, caplog) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "many")
    get_settings.cache_clear()

    with pytest.raises(MissingSettings, match="LOGIN_MAX_FAILURES"):
        settings_module.require()
    (line,) = [r for r in caplog.records if hasattr(r, "invalid_variables")]
    assert line.levelname == "ERROR" and line.invalid_variables == ["LOGIN_MAX_FAILURES"]


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_a_function_starts_with_the_environment_the_template_gives_it(logical_id, environment) -> None:
    environment(logical_id)

    load_function(logical_id)


@pytest.mark.parametrize(
    ("logical_id", "variable"),
    [(f, v) for f in sorted(FUNCTIONS) for v, res in sorted(RESOURCE_VARIABLES.items()) if res in may_touch(f)],
)
def test_a_function_fails_init_naming_a_missing_resource_it_may_touch(logical_id, variable, environment, caplog):
    environment(logical_id, without=variable)

    with pytest.raises(MissingSettings, match=variable):
        load_function(logical_id)
    (line,) = [r for r in caplog.records if hasattr(r, "missing_variables")]
    assert line.levelname == "ERROR" and line.missing_variables == [variable]


@pytest.mark.parametrize(
    ("logical_id", "variable"),
    [(f, v) for f in sorted(FUNCTIONS) for v, res in sorted(RESOURCE_VARIABLES.items()) if res not in may_touch(f)],
)
def test_a_function_does_not_require_a_resource_it_may_not_touch(logical_id, variable, environment) -> None:
    environment(logical_id, without=variable)

    load_function(logical_id)
