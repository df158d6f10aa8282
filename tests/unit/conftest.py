from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def secret_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests fake Secrets Manager; the settings still want the secret's name, as a deployed function does."""
    monkeypatch.setenv("JWT_SECRET_NAME", "unit-test-signing-key")
