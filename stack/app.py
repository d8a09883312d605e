"""The dashboard as a subprocess on a free loopback port: what the browser tests and the benchmarks run.

:func:`serve` starts ``streamlit run`` on a script of the checkout (``dashboard/app.py``, or ``dashboard/serve.py``
as ``make run`` and the container serve it) with a local store in ``workdir`` unless ``env`` says otherwise, waits for
``/_stcore/health`` and stops the process when the ``with`` block ends. Every setting's variable of this process
(``core.settings.ENV_NAMES``) is removed first, so a developer's settings never leak into the app.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from core.settings import ENV_NAMES
from stack import free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class App:
    """A running app process: its base URL, the process and its log."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def rss(self) -> int:
        """Resident memory of the app process, in bytes."""
        import psutil

        return int(psutil.Process(self.process.pid).memory_info().rss)

    def stop(self, *, kill: bool = False) -> None:
        """End the process (SIGKILL when ``kill``: no clean-up runs, like a crash)."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def start_app(workdir: Path, env: Mapping[str, str], *, port: int | None = None, script: str = "dashboard/app.py",
              timeout: float = 120.0) -> App:
    """Start ``script`` in ``workdir`` (its log, and its local store unless ``env`` names another) and wait for it.

    Raises:
        RuntimeError: the app exited or was not healthy within ``timeout`` seconds (the log's tail says why).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    clean = {k: v for k, v in os.environ.items() if k.upper() not in ENV_NAMES}
    clean.update({"STORE": "local", "LOCAL_STORE_PATH": str(workdir / "store"), "PYTHONPATH": str(ROOT)})
    clean.update(env)
    log = workdir / f"streamlit-{port}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=clean, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    app = App(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{app.url}/_stcore/health", timeout=2) as response:
            if response.status == 200:
                return app
        time.sleep(0.3)
    app.stop()
    raise RuntimeError(f"the app was not healthy within {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


@contextlib.contextmanager
def serve(workdir: Path, env: Mapping[str, str], *, port: int | None = None, script: str = "dashboard/app.py"
          ) -> Iterator[App]:
    """The app as a subprocess for the duration of the ``with`` block."""
    app = start_app(workdir, env, port=port, script=script)
    try:
        yield app
    finally:
        app.stop()
