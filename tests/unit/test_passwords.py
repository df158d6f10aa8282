from __future__ import annotations

import logging

import pytest

from media_platform import passwords


@pytest.fixture(scope="module")
def stored() -> str:
    return passwords.hash_password("correct horse battery")


def test_hashes_are_bcrypt_with_cost_12_and_salted(stored: str) -> None:
    assert stored.startswith("$2b$12$")
    assert passwords.hash_password("correct horse battery") != stored


def test_only_the_right_password_verifies(stored: str) -> None:
    assert passwords.verify_password("correct horse battery", stored)
    assert not passwords.verify_password("correct horse batterY", stored)


def test_an_unknown_user_never_verifies() -> None:
    assert not passwords.verify_password("anything at all", None)


def test_a_password_over_72_bytes_is_refused_without_raising(stored: str) -> None:
    assert not passwords.verify_password("é" * 37, stored)  # 74 UTF-8 bytes


def test_a_malformed_stored_hash_is_refused_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert not passwords.verify_password("correct horse battery", "not-a-bcrypt-hash")
    assert "malformed" in caplog.text
