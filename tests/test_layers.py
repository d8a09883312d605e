"""The import layers of docs/ARCHITECTURE.md, enforced by import-linter (the contracts live in pyproject.toml)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
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


BELOW_THE_SERVICES = sorted(
    {*LAYERS[3].split(" : "), "core.store.base", "core.store.local", "core.store.listing", "core.store.versioning"})

#: A process that has imported the third-party packages the modules use, and none of the project's, then imports
#: each module it is sent in a forked child of its own and answers with the child's exit status and output (JSON,
#: one line each). Third-party packages are imported once; each project module is still the first one of the
#: project its child imports.
_IMPORTER = r"""
import ast, importlib, json, os, sys
PROJECT = ("core", "dashboard", "stack", "bench", "tests")

def alone(module):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.dup2(write, 1)
        os.dup2(write, 2)
        try:
            importlib.import_module(module)
            sys.stdout.write(json.dumps(sorted({m.partition(".")[0] for m in sys.modules})))
            code = 0
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    os.close(write)
    with os.fdopen(read, encoding="utf-8", errors="replace") as pipe:
        output = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output

for path in sys.argv[1:]:  # the packages outside the project and the standard library that the modules import
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
        for top in {n.partition(".")[0] for n in names} - set(PROJECT) - set(sys.stdlib_module_names):
            try:
                importlib.import_module(top)
            except ImportError:  # an optional package: the module's own child meets it as the module does
                pass
assert not any(m.partition(".")[0] in PROJECT for m in sys.modules), "the importer imported the project"
print(json.dumps("ready"), flush=True)
for line in sys.stdin:
    code, output = alone(json.loads(line))
    print(json.dumps([code, output]), flush=True)
"""


def _sources(module: str) -> list[Path]:
    path = ROOT.joinpath(*module.split("."))
    return sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]


@pytest.fixture(scope="module")
def import_alone() -> Iterator[Callable[[str], tuple[int, str]]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sources = [str(p) for m in BELOW_THE_SERVICES for p in _sources(m)]
    with subprocess.Popen([sys.executable, "-c", _IMPORTER, *sources], cwd=ROOT, env=env, text=True,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE) as importer:
        assert importer.stdin is not None and importer.stdout is not None
        assert json.loads(importer.stdout.readline()) == "ready"

        def _import(module: str) -> tuple[int, str]:
            assert importer.stdin is not None and importer.stdout is not None
            importer.stdin.write(json.dumps(module) + "\n")
            importer.stdin.flush()
            code, output = json.loads(importer.stdout.readline())
            return code, output

        yield _import
        importer.stdin.close()


@pytest.mark.parametrize("module", BELOW_THE_SERVICES)
def test_every_module_below_the_services_imports_on_its_own(module: str,
                                                           import_alone: Callable[[str], tuple[int, str]]) -> None:
    # A process per module (forked from one that holds only third-party packages): an import cycle only shows
    # when that module is the first one of the project imported.
    code, output = import_alone(module)
    assert code == 0, output
    assert module.partition(".")[0] in json.loads(output)


def test_a_module_that_cannot_be_imported_first_fails(import_alone: Callable[[str], tuple[int, str]]) -> None:
    code, output = import_alone("core.no_such_module")
    assert code == 1 and "ModuleNotFoundError" in output
