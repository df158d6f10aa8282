"""Login tried the way an attacker works: telling accounts apart by the work a login does, and outrunning the lock
with concurrent guesses. Work is counted with fakes (bcrypt checks, DynamoDB calls), never timed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import bcrypt
import boto3
import pytest

from media_platform import accounts, clients, passwords
from media_platform.dal import users
from media_platform.errors import NotAuthenticated, TooManyAttempts
from media_platform.models import SignupRequest
from tests.support import AtomicDynamoDB

PASSWORD = "correct horse battery"
MAX_ATTEMPTS = 5  # LOGIN_MAX_FAILURES in template.yaml's local environment (the settings default)


class CountingCheck:
    """Stands in for bcrypt.checkpw: records the hash each check used, optionally taking a while like the real one."""

    def __init__(self, delay: float = 0.0) -> None:
        self.real = bcrypt.checkpw
        self.delay = delay
        self.hashes: list[bytes] = []
        self.lock = threading.Lock()

    def __call__(self, password: bytes, hashed: bytes) -> bool:
        with self.lock:
            self.hashes.append(hashed)
        time.sleep(self.delay)
        return self.real(password, hashed)


@pytest.fixture
def account(aws: object, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(passwords, "BCRYPT_COST", 4)
    accounts.signup(SignupRequest(email="ada@example.com", password=PASSWORD))
    return stored_hash("ada@example.com")


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingCheck]:
    counter = CountingCheck()
    monkeypatch.setattr(bcrypt, "checkpw", counter)
    yield counter


def stored_hash(email: str) -> str:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("media-platform-local-UsersTable")
    user_id = table.get_item(Key={"pk": f"EMAIL#{email}"})["Item"]["user_id"]
    return str(table.get_item(Key={"pk": f"USER#{user_id}"})["Item"]["password_hash"])


def attempt(email: str, password: str) -> str:
    try:
        accounts.login(email, password)
    except NotAuthenticated:
        return "401"
    except TooManyAttempts:
        return "429"
    return "200"


def lock(email: str) -> None:
    for _ in range(MAX_ATTEMPTS):
        attempt(email, "wrong password")


CASES: dict[str, tuple[Callable[[], None], str, str]] = {
    "wrong password": (lambda: None, "ada@example.com", "wrong password"),
    "unknown email": (lambda: None, "nobody@example.com", "wrong password"),
    "not an email": (lambda: None, "nobody", "wrong password"),
    "password over 72 bytes": (lambda: None, "ada@example.com", "é" * 40),
    "locked account": (lambda: lock("ada@example.com"), "ada@example.com", PASSWORD),
    "locked unknown email": (lambda: lock("nobody@example.com"), "nobody@example.com", PASSWORD),
    "right password": (lambda: None, "ada@example.com", PASSWORD),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_login_attempt_does_exactly_one_bcrypt_check(account: str, checks: CountingCheck, case: str) -> None:
    prepare, email, password = CASES[case]
    prepare()
    checks.hashes.clear()

    attempt(email, password)

    assert len(checks.hashes) == 1, case


def test_a_malformed_stored_hash_costs_one_check_too(account: str, checks: CountingCheck) -> None:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("media-platform-local-UsersTable")
    user_id = table.get_item(Key={"pk": "EMAIL#ada@example.com"})["Item"]["user_id"]
    for broken in ("x", "$2b$99$" + "a" * 53, ""):
        table.update_item(
            Key={"pk": f"USER#{user_id}"},
            UpdateExpression="SET password_hash = :h",
            ExpressionAttributeValues={":h": broken},
        )
        checks.hashes.clear()

        assert attempt("ada@example.com", PASSWORD) == "401"
        assert len(checks.hashes) == 1, broken


def test_unknown_email_and_wrong_password_do_the_same_database_work(account: str, checks: CountingCheck) -> None:
    counting = AtomicDynamoDB(boto3.client("dynamodb", region_name="us-east-1"))
    clients.override("dynamodb", counting)

    attempt("ada@example.com", "wrong password")
    wrong_password, counting.calls = counting.calls, []
    attempt("nobody@example.com", "wrong password")
    unknown_email = counting.calls

    assert wrong_password == unknown_email
    assert checks.hashes[0] == account.encode() and checks.hashes[1] != account.encode()


def test_concurrent_guesses_cannot_outrun_the_lock(account: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bcrypt check slow enough that every guess is in flight before the first one finishes
    slow = CountingCheck(delay=0.2)
    monkeypatch.setattr(bcrypt, "checkpw", slow)
    clients.override("dynamodb", AtomicDynamoDB(boto3.client("dynamodb", region_name="us-east-1")))
    guesses = 39
    start = threading.Barrier(guesses)
    outcomes: list[str] = []

    def guess() -> None:
        start.wait()
        outcomes.append(attempt("ada@example.com", "wrong password"))

    # When 39 wrong guesses arrive at once, and then the right password
    threads = [threading.Thread(target=guess) for _ in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    right_password = attempt("ada@example.com", PASSWORD)

    # Then at most the limit of them were checked against the real hash, the others were refused unchecked, and
    # the right password, arriving within the window, is refused too
    checked_against_the_account = [h for h in slow.hashes if h == account.encode()]
    assert len(checked_against_the_account) <= MAX_ATTEMPTS
    assert outcomes.count("429") >= guesses - MAX_ATTEMPTS
    assert right_password == "429"
    assert len(slow.hashes) == guesses + 1  # and every attempt still did one check's work


def test_the_limit_holds_per_window_and_a_new_window_starts_afresh(aws: object) -> None:
    allowed = [users.count_login_attempt("ada@example.com", 3, 60, now=1000) for _ in range(3)]
    refused = users.count_login_attempt("ada@example.com", 3, 60, now=1030)
    after_the_window = users.count_login_attempt("ada@example.com", 3, 60, now=1061)
    counted_again = [users.count_login_attempt("ada@example.com", 3, 60, now=1062) for _ in range(2)]

    assert allowed == [0, 0, 0]
    assert refused == 30  # seconds until the window that began at 1000 ends
    assert after_the_window == 0
    assert counted_again == [0, 0]
    assert users.count_login_attempt("ada@example.com", 3, 60, now=1063) == 58
