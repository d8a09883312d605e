"""How the app is exposed: `make run` listens on this machine only unless HOST says otherwise, and serves
dashboard/serve.py (the app behind frame-denying headers), as the container does."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_command(*variables: str) -> str:
    # -n prints the recipe without running it (nor the install it depends on); -W marks the stamps up to date.
    result = subprocess.run(["make", "-n", "-W", ".venv/.run-stamp", "run", *variables], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    lines = [line for line in result.stdout.splitlines() if "streamlit run" in line]
    assert len(lines) == 1, result.stdout
    return lines[0]


def test_make_run_listens_on_localhost_by_default() -> None:
    command = _run_command()
    assert "--server.address 127.0.0.1" in command and "0.0.0.0" not in command
    assert "dashboard/serve.py" in command


def test_binding_every_interface_is_an_explicit_choice() -> None:
    assert "--server.address 0.0.0.0" in _run_command("HOST=0.0.0.0")


def test_the_container_serves_the_framing_protected_app() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'CMD ["streamlit", "run", "dashboard/serve.py"]' in text
