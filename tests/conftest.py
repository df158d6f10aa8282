from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from devtools.local_stack import LocalStack
    from devtools.local_stack.iam import PolicyCheck

ADMIN_PASSWORD = "admin password 1"

# Tests never reach real AWS: dummy credentials and a fixed region, set before any client exists.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "media-platform",
        "POWERTOOLS_METRICS_NAMESPACE": "MediaPlatform",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)


_policy_checks: list[PolicyCheck] = []
_suites_run: set[str] = set()  # the test folders that ran: the report is about the integration and e2e suites


@pytest.fixture(scope="session", autouse=True)
def policy_check() -> Iterator[PolicyCheck]:
    """Every AWS call a function makes, in the handler tests and through the local stack, is checked against that
    function's own policy in template.yaml (moto checks none)."""
    from devtools.local_stack.iam import PolicyCheck
    from devtools.local_stack.template import Template
    from media_platform import clients

    check = PolicyCheck(Template.load())
    clients.on_create(check.instrument)
    _policy_checks.append(check)
    yield check
    clients.forget_hook(check.instrument)


@pytest.fixture(autouse=True)
def within_policy(policy_check: PolicyCheck, request: pytest.FixtureRequest) -> Iterator[None]:
    """A call its function's policy does not allow fails the test that made it (AWS would have refused it; the
    code may have caught the AccessDenied, so the test fails here whatever it did)."""
    _suites_run.add(request.path.parent.name)
    start = len(policy_check.checked)
    yield
    if denied := policy_check.denied(start):
        lines = "\n  ".join(sorted({str(c) for c in denied}))
        pytest.fail(f"AWS calls that the calling function's policy in template.yaml does not allow:\n  {lines}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A denied call outside any test's own window (a session fixture's set-up, a queue worker between tests) fails
    the run all the same."""
    if _policy_checks and _policy_checks[0].denied() and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Each function's permissions that no test exercised (a report, not a failure: least privilege is a review),
    and every call a policy refused."""
    if not _policy_checks or not _suites_run & {"integration", "e2e"}:
        return
    check = _policy_checks[0]
    if denied := check.denied():
        terminalreporter.section("AWS calls refused by the calling function's policy", red=True)
        for line in sorted({str(c) for c in denied}):
            terminalreporter.write_line(line)
    invoked = {c.function for c in check.checked}
    terminalreporter.section("IAM permissions no test exercised")
    for function, grants in check.unused().items():
        for grant in grants if function in invoked else []:
            terminalreporter.write_line(f"{function}: {grant}")
    if idle := sorted(set(check.policies) - invoked):
        terminalreporter.write_line(f"Not invoked in this session: {', '.join(idle)}")
    if outside := check.outside_functions:
        top = ", ".join(f"{operation} x{count}" for operation, count in outside.most_common(5))
        terminalreporter.write_line(f"Not checked, made by tests outside any function: {outside.total()} calls ({top})")


@pytest.fixture(autouse=True)
def fresh_clients() -> Iterator[None]:
    """Each test starts with no cached settings or clients, and leaves none behind."""
    from media_platform import clients
    from media_platform.settings import get_settings

    get_settings.cache_clear()
    clients.reset()
    yield
    get_settings.cache_clear()
    clients.reset()


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """The whole local stack on free ports, as `make dev` runs it."""
    from devtools.local_stack import LocalStack

    stack = LocalStack(api_port=0, aws_port=0, check_iam=False).start()  # the session's policy_check checks it
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def api(local_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local_stack.api_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def admin_token(api: httpx.Client) -> str:
    """The stack's first account, hence its admin."""
    created = api.post("/auth/signup", json={"email": "admin@example.com", "password": ADMIN_PASSWORD})
    assert created.status_code == 201 and created.json()["role"] == "admin", created.text
    login = api.post("/auth/login", json={"email": "admin@example.com", "password": ADMIN_PASSWORD})
    return str(login.json()["access_token"])
