"""The server stays responsive while a page works on the worst stored input: the health endpoint answers within a
second for every other user while the Job page scans a log whose one line is megabytes of word characters (the
shape that made the old error pattern quadratic), and while the SACCT page meets a parquet bomb (400 bytes that
expand to 1.2 GB)."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from core.demo import seed_demo
from core.services.sacct import forwarder_bucket
from core.services.times import pipeline_bucket
from core.settings import load_settings
from core.store.local import LocalStore
from tests.browser.conftest import TIMEOUT_MS, start_app, wait_idle
from tests.dashboard.test_parquet_bombs import dictionary_bomb

pytestmark = pytest.mark.browser
Page = Any
JOB = "4242"
#: One 8 MiB line of word characters (no newline), then an error line: the error scan must judge both quickly.
WORST_LOG = ("x" * (8 * 1024 * 1024) + "\nRuntimeError: out of luck\n").encode()


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("responsive")
    root = workdir / "store"
    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(root)})
    store = LocalStore(root)
    seed_demo(store, settings)
    store.put_object(pipeline_bucket(settings), f"LOGS/slurm-{JOB}.out", WORST_LOG)
    store.put_object(forwarder_bucket(settings), "ARTIFACTS/SACCT/zz-bomb.parquet", dictionary_bomb())
    yield from start_app(workdir, {})


class HealthProbe:
    """Asks ``/_stcore/health`` every 0.2 s from a thread and keeps each answer's time (a failure counts as 30 s)."""

    def __init__(self, url: str) -> None:
        self.url, self.times, self._stop = url, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=30) as response:
                    response.read()
                self.times.append(time.monotonic() - started)
            except OSError:
                self.times.append(30.0)
            self._stop.wait(0.2)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def test_health_answers_while_the_job_page_scans_the_worst_log_line(hostile_app: str, page: Page) -> None:
    with HealthProbe(hostile_app) as probe:
        page.goto(f"{hostile_app}/job?job={JOB}")
        page.get_by_text("1 error lines in 1 place").wait_for(timeout=TIMEOUT_MS)
        wait_idle(page)
    assert probe.times, "the health endpoint was never asked"
    assert max(probe.times) < 1.0, f"health answered in up to {max(probe.times):.1f} s"
    body = page.locator("body").inner_text()
    assert "RuntimeError: out of luck" in body
    assert "more characters]" in body  # the 8 MiB line is cut before it reaches the browser
    assert page.locator('[data-testid="stException"]').count() == 0


def test_health_answers_while_a_page_meets_a_parquet_bomb(hostile_app: str, page: Page) -> None:
    with HealthProbe(hostile_app) as probe:
        page.goto(f"{hostile_app}/sacct?runs=zz-bomb")
        page.get_by_text("when decoded (READ_LIMIT_MB)").first.wait_for(timeout=TIMEOUT_MS)
        wait_idle(page)
    assert probe.times, "the health endpoint was never asked"
    assert max(probe.times) < 1.0, f"health answered in up to {max(probe.times):.1f} s"
    assert page.locator('[data-testid="stException"]').count() == 0
