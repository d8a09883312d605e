"""The import layers of docs/ARCHITECTURE.md, enforced by import-linter (the contracts live in pyproject.toml)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
LAYERS = next(c["layers"] for c in CONTRACTS if c["type"] == "layers")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=root, env=env, capture_output=True, text=True,
                          check=False, timeout=300)


def test_the_layers_are_dashboard_services_store_primitives() -> None:
    assert LAYERS[0].split(" | ") == ["dashboard", "core.cli"]
    assert LAYERS[1].split(" | ") == ["core.services", "core.demo"]
    assert LAYERS[2] == "core.store"
    primitives = set(LAYERS[3].split(" : "))
    assert {"core.errors", "core.settings", "core.naming", "core.metadata", "core.auth", "core.sacct"} <= primitives
    # Every core module is in a layer: a new one has to be placed, not slip in unchecked.
    placed = {"core.services", "core.demo", "core.store", "core.cli", *primitives}
    modules = {f"core.{p.stem}" for p in (ROOT / "core").glob("*.py") if p.stem != "__init__"}
    modules |= {f"core.{p.name}" for p in (ROOT / "core").iterdir() if (p / "__init__.py").exists()}
    assert modules <= placed, f"place {sorted(modules - placed)} in a layer of [tool.importlinter] in pyproject.toml"


def test_the_checkout_keeps_every_import_contract() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(CONTRACTS)} kept, 0 broken" in result.stdout


def test_each_contract_breaks_on_the_import_it_forbids(tmp_path: Path) -> None:
    for name in ("core", "dashboard"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.txt", "*.json"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    violations = {
        "dashboard/views/logs.py": "import core.store.local\n",  # a page opening storage itself
        "core/units.py": "import streamlit\n",  # core depending on the UI framework
        "core/naming.py": "import core.services.upload\n",  # a primitive reaching up to a service
        "core/store/versioning.py": "import core.settings\n",  # the embedded store pulling settings in
    }
    for path, line in violations.items():
        with (tmp_path / path).open("a", encoding="utf-8") as file:
            file.write(line)
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    for contract in CONTRACTS:
        assert f"{contract['name']} BROKEN" in result.stdout, result.stdout


@pytest.mark.parametrize("module", sorted(
    {*LAYERS[3].split(" : "), "core.store.base", "core.store.local", "core.store.listing", "core.store.versioning"}))
def test_every_module_below_the_services_imports_on_its_own(module: str) -> None:
    # A fresh interpreter per module: an import cycle only shows when that module is the first one imported.
    result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True,
                            check=False, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.returncode == 0, result.stderr
