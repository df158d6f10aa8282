"""Dependencies are declared once (pyproject.toml), locked once (uv.lock), and the two files pip installs are
exports of that lock. `make lock-check` compares the exports byte for byte; these tests say what must hold even
if someone edits an export by hand and regenerates only one of them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROVIDED_BY_THE_RUNTIME = {"boto3", "s3transfer"}


def pins(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name → (version, hashes) of a hashed requirements file, markers ignored."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for block in re.split(r"\n(?=\S)", path.read_text()):
        if block.startswith("#") or not block.strip():
            continue
        name, version = re.match(r"([A-Za-z0-9._-]+)==([^\s;\\]+)", block).groups()  # type: ignore[union-attr]
        found[name.lower()] = (version, frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", block)))
    return found


def declared_runtime() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {re.match(r"[A-Za-z0-9._-]+", dep).group(0).lower() for dep in project["dependencies"]}  # type: ignore[union-attr]


DEV = pins(ROOT / "requirements-dev.lock")
LAYER = pins(ROOT / "layers/shared/requirements.txt")


def test_every_pin_is_hashed() -> None:
    assert DEV and LAYER
    unhashed = [name for name, (_, hashes) in {**DEV, **LAYER}.items() if not hashes]
    assert unhashed == []


def test_the_layer_ships_the_declared_runtime_dependencies_but_not_what_the_runtime_provides() -> None:
    assert declared_runtime() - PROVIDED_BY_THE_RUNTIME <= set(LAYER)
    assert not PROVIDED_BY_THE_RUNTIME & set(LAYER)


def test_the_layer_pins_exactly_what_development_pins() -> None:
    differing = {name: (pin, DEV.get(name)) for name, pin in LAYER.items() if DEV.get(name) != pin}
    assert differing == {}


def test_the_lock_records_the_same_versions_as_its_exports() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {package["name"]: package["version"] for package in lock["package"] if "version" in package}
    assert {name: version for name, (version, _) in DEV.items()} == {n: v for n, v in locked.items() if n in DEV}
    assert set(DEV) <= set(locked)
