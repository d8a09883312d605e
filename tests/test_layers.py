"""The import layers of docs/ARCHITECTURE.md, enforced by import-linter (the contracts live in pyproject.toml)."""

from __future__ import annotations

import os
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


def test_every_core_module_is_placed_in_a_layer() -> None:
    primitives = set(LAYERS[3].split(" : "))
    # Every core module is in a layer: a new one has to be placed, not slip in unchecked.
    placed = {"core.services", "core.demo", "core.store", "core.cli", *primitives}
    modules = {f"core.{p.stem}" for p in (ROOT / "core").glob("*.py") if p.stem != "__init__"}
    modules |= {f"core.{p.name}" for p in (ROOT / "core").iterdir() if (p / "__init__.py").exists()}
    assert modules <= placed, f"place {sorted(modules - placed)} in a layer of [tool.importlinter] in pyproject.toml"


def test_the_checkout_keeps_every_import_contract() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(CONTRACTS)} kept, 0 broken" in result.stdout


@pytest.mark.parametrize("module", sorted(
    {*LAYERS[3].split(" : "), "core.store.base", "core.store.local", "core.store.listing", "core.store.versioning"}))
def test_every_module_below_the_services_imports_on_its_own(module: str) -> None:
    # A fresh interpreter per module: an import cycle only shows when that module is the first one imported.
    result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True,
                            check=False, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.returncode == 0, result.stderr
