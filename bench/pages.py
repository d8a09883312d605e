"""Dashboard pages: first render of every page with Streamlit's AppTest, and the SACCT page on a big run.

The app runs on the embedded LocalStore seeded with the demo data, in a temporary directory. Each page is timed on
its first render after ``st.cache_data.clear()`` (the app's one-off seeding, a ``cache_resource``, runs before).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import generate
from bench.results import Results

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
PAGES = ("buckets", "management", "times", "sacct", "upload", "logs", "sign_in")
BIG_RUN = "big"
#: Wall-clock limit of the big-run SACCT measurement (a child process, killed past it).
BIG_LIMIT = 120


def page_path(page: str) -> str:
    """The page's script as ``st.Page`` names it in app.py (``views/sacct.py``; the folder was ``pages/``)."""
    match = re.search(rf"st\.Page\(\"([\w/]*/{page}\.py)\"", APP.read_text())
    return match.group(1) if match else f"pages/{page}.py"


@contextlib.contextmanager
def demo_environment() -> Iterator[tuple[Path, Any]]:
    """A temporary working directory with a seeded LocalStore, named by STORE/LOCAL_STORE_PATH."""
    from core.demo import seed_demo
    from core.settings import load_settings
    from core.store.local import LocalStore

    old_cwd, old_env = os.getcwd(), {k: os.environ.get(k) for k in ("STORE", "LOCAL_STORE_PATH")}
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        root = Path(tmp) / "store"
        env = {"STORE": "local", "LOCAL_STORE_PATH": str(root)}
        try:
            os.chdir(tmp)
            os.environ.update(env)
            settings = load_settings(None, env)
            seed_demo(LocalStore(root), settings)
            yield root, settings
        finally:
            os.chdir(old_cwd)
            for key, value in old_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _app() -> Any:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    _check(at, "buckets (warm-up)")
    return at


def _check(at: Any, what: str) -> None:
    if len(at.exception):
        raise RuntimeError(f"{what}: the page raised: {at.exception[0].message}")


def _clear_caches() -> None:
    import streamlit as st

    st.cache_data.clear()


def _timed_run(at: Any, what: str) -> float:
    t0 = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - t0
    _check(at, what)
    return seconds


def first_renders(results: Results) -> None:
    for page in PAGES:
        at = _app()
        _clear_caches()
        if page != "buckets":
            at.switch_page(page_path(page))
        seconds = _timed_run(at, page)
        results.add(f"pages.{page}.first_render", seconds, "s", at_most=1.5)


def _multiselect(at: Any, label: str) -> Any:
    for widget in at.multiselect:
        if widget.label == label:
            return widget
    raise LookupError(f"no multiselect {label!r}: {[w.label for w in at.multiselect]}")


def big_sacct(results: Results, store_root: Path, settings: Any, rows: int) -> None:
    from core.sacct import parse_sacct
    from core.serialize import frame_to_parquet
    from core.services.sacct import SACCT_PREFIX, forwarder_bucket
    from core.services.upload import run_object
    from core.store.local import LocalStore

    text = generate.cached(rows, "parsable2").read_bytes()
    frame = parse_sacct(text, timezone="UTC").frame
    name = run_object(settings, BIG_RUN)
    LocalStore(store_root).put_object(forwarder_bucket(settings), name, frame_to_parquet(frame),
                                      content_type="application/vnd.apache.parquet", metadata={"version": 1})
    run_label = name[len(SACCT_PREFIX):].removesuffix(".parquet")

    at = _app()
    at.switch_page(page_path("sacct"))
    label = f"pages.sacct.big_run_{rows // 1000}k_rows"
    try:
        at.run()  # the default runs (the big one may be among them), untimed
        _check(at, "sacct (default runs)")
        _clear_caches()
        _multiselect(at, "Runs").set_value([run_label])
        seconds = _timed_run(at, f"sacct with {run_label}")
    except RuntimeError as exc:
        if "timed out" not in str(exc):
            raise
        results.add(f"{label}.first_render", 60.0, "s (timeout)", at_most=1.5)
        return
    results.add(f"{label}.first_render", seconds, "s", at_most=1.5)
    _multiselect(at, "State").set_value(["COMPLETED"])
    try:
        seconds = _timed_run(at, "sacct filter change")
    except RuntimeError as exc:
        if "timed out" not in str(exc):
            raise
        seconds = 60.0
    results.add(f"{label}.filter_change", seconds, "s", at_most=0.5)


def run(results: Results, sacct_rows: int) -> None:
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    with demo_environment():
        first_renders(results)
    generate.cached(sacct_rows, "parsable2")
    cmd = [sys.executable, "-m", "bench.pages", str(sacct_rows)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=BIG_LIMIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        results.add(f"pages.sacct.big_run_{sacct_rows // 1000}k_rows.first_render", float(BIG_LIMIT), "s (limit)",
                    at_most=1.5)
        results.note(f"pages: the SACCT page on a {sacct_rows:,}-row run did not finish within {BIG_LIMIT} s")
        return
    for line in out.splitlines():
        if line.startswith("FIGURE\t"):
            name, value, unit, limit = line.split("\t")[1:]
            results.add(name, float(value), unit, at_most=float(limit))
            if unit.endswith("(timeout)"):
                results.note(f"pages: {name} hit AppTest's 60 s timeout (value recorded as 60 s)")
    if proc.returncode != 0:
        raise RuntimeError(f"big SACCT page run failed:\n{err[-3000:]}")


def _child(rows: int) -> None:
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)

    class Printer(Results):
        def add(self, name: str, value: Any, unit: str, *, at_most: float | None = None,
                at_least: float | None = None) -> Any:
            print(f"FIGURE\t{name}\t{value}\t{unit}\t{at_most}", flush=True)

    with demo_environment() as (root, settings):
        big_sacct(Printer(verbose=False), root, settings, rows)
    os._exit(0)  # an AppTest script thread that timed out may still be running


if __name__ == "__main__":
    _child(int(sys.argv[1]))
