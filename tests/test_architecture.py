"""The layering is enforced: import-linter's contracts (``[tool.importlinter]`` in pyproject.toml)
run with the suite, and every top-level room of ``harness`` must be placed in a layer, so a new
module cannot slip past the contracts by being named nowhere."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def _contract(contract_id: str) -> dict:
    return next(c for c in CONFIG["contracts"] if c["id"] == contract_id)


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_every_harness_room_has_a_layer() -> None:
    placed = {
        name.strip() for layer in _contract("layers")["layers"] for name in layer.replace(":", "|").split("|")
    }
    package = Path(harness.__file__).parent
    rooms = {
        f"harness.{path.stem if path.is_file() else path.name}"
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").is_file()
    }
    assert rooms - placed == set(), "place these modules in the layers contract in pyproject.toml"
    assert placed - rooms == {"fakes"}, "the layers contract names modules that no longer exist"


def test_no_circles_anywhere_in_either_package() -> None:
    assert set(_contract("no-circles")["ancestors"]) == set(CONFIG["root_packages"]) == {"harness", "fakes"}
