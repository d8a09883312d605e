"""AppTest fixtures: the real multipage app (dashboard/app.py) run in-process on a copy of a seeded demo store.

Every test gets its own store directory (a copy of one seeded store), its own working directory (so no developer
``.env`` is read) and empty Streamlit caches.

Two things Streamlit redoes for every ``AppTest`` run are done once per test process instead, because their result
cannot change while the tests run: the scan of every installed distribution for custom-component manifests (the app
uses none; ~0.5 s a test) and the compilation of the app's scripts, the app's and its pages' (kept while the file is
unchanged). And a test waits for a run by joining the script's thread, not by Streamlit's poll every millisecond.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.components.v2 import manifest_scanner
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest, app_test, local_script_runner

from core.demo import seed_demo
from core.settings import ENV_NAMES, load_settings
from core.store.local import LocalStore

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
_UNSET = object()


class _UnchangedScriptCache(ScriptCache):
    """Streamlit's bytecode cache, kept across runs and recompiling a script whose file changed."""

    def __init__(self) -> None:
        super().__init__()
        self._stamps: dict[str, tuple[int, int]] = {}

    def get_bytecode(self, script_path: str) -> Any:
        path = os.path.abspath(script_path)
        stat = os.stat(path)
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._stamps.get(path) != stamp:
            with self._lock:
                self._cache.pop(path, None)
                self._stamps[path] = stamp
        return super().get_bytecode(path)


@pytest.fixture(scope="session", autouse=True)
def _streamlit_once_per_process() -> Iterator[None]:
    scripts = _UnchangedScriptCache()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifest_scanner, "scan_component_manifests",
                      functools.cache(manifest_scanner.scan_component_manifests))
        patch.setattr(app_test, "ScriptCache", lambda: scripts)  # the pages' scripts
        patch.setattr(local_script_runner, "ScriptCache", lambda: scripts)  # the app's own script
        patch.setattr(local_script_runner, "require_widgets_deltas", _wait_for_script)
        yield


def _wait_for_script(runner: local_script_runner.LocalScriptRunner, timeout: float = 3) -> None:
    """Streamlit's wait for a test run, as a join of the script's thread instead of a poll every millisecond.

    The poll woke the test's thread a thousand times a second to contend for the interpreter lock with the script
    it waits for. The script's thread ends once it has sent its shutdown event, so joining it waits for the same
    moment; a run still going at the timeout is stopped and fails as Streamlit's does.
    """
    thread = runner._script_thread
    if thread is not None:
        thread.join(timeout)
        if not thread.is_alive() and runner.script_stopped():
            return
    running = thread is not None and thread.is_alive()
    runner.request_stop()
    runner.join()
    raise RuntimeError(f"AppTest script run timed out after {timeout}(s)" if running
                       else "AppTest script run ended without its shutdown event")


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "store"
    seed_demo(LocalStore(root), load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(root)}))
    return root


@pytest.fixture()
def store_dir(seeded_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "store"
    data = f"{seeded_store / 'data'}{os.sep}"

    def link_or_copy(source: str, target: str) -> None:
        """A stored object's data file is written once and never changed (a new version is a new file): linked.
        The database is copied."""
        if source.startswith(data):
            os.link(source, target)
        else:
            shutil.copyfile(source, target)

    shutil.copytree(seeded_store, root, copy_function=link_or_copy)
    for key in ENV_NAMES:  # every setting: none from the developer's shell reaches the app
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("STORE", "local")
    monkeypatch.setenv("LOCAL_STORE_PATH", str(root))
    monkeypatch.chdir(tmp_path)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield root
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture()
def open_page(store_dir: Path) -> Callable[..., AppTest]:
    """``open_page("views/sacct.py", params={"runs": "x"})``: the app opened at that page with those URL parameters,
    as a browser following a link to it runs it.

    Before its first run the app names a page by its file name; a page whose URL path is another name (``sign-in``
    of ``views/sign_in.py``) is reached as a user reaches it, from the first page the app shows.
    """

    def _open(page: str | None = None, *, session: object = _UNSET,
              params: Mapping[str, str | list[str]] | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        if session is not _UNSET:
            at.session_state["monitor_session"] = session
        at.query_params.update(params or {})
        if page is not None:
            at.switch_page(page)
        at.run()
        if page is not None and not _ran(at, page):
            at.query_params.update(params or {})
            at.switch_page(page)
            at.run()
            assert _ran(at, page), f"the app did not open {page}"
        return at

    return _open


def _ran(at: AppTest, page: str) -> bool:
    """Whether ``page`` (a path relative to the app) is the page the app's last run showed."""
    shown_page = at._registered_pages.get(at._finished_page_script_hash, {}).get("script_path")
    return shown_page is not None and Path(str(shown_page)).resolve() == (Path(APP).parent / page).resolve()


def seed_public_runs(store_dir: Path, runs: list[str] | None = None) -> None:
    """Store other sites' public sacct samples (``tests.samples.PUBLIC_RUNS``) beside the demo, newest last."""
    from tests import samples

    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(store_dir)})
    samples.seed_public_runs(LocalStore(store_dir), settings, runs)


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """What Markdown displays of text escaped by ``core.text.markdown_plain``: the text itself."""
    return _ESCAPED.sub(r"\1", markdown).replace("\u2060", "")  # the word joiner that breaks autolinks


def shown_table(at: AppTest, index: int = 0) -> pd.DataFrame:
    """The text the ``index``-th dataframe shows (its Styler's display values), keyed like its data."""
    styler = at.dataframe[index].proto.arrow_data.styler
    assert styler.display_values, "the table's cells are not formatted"
    shown: pd.DataFrame = pa.ipc.open_stream(styler.display_values).read_pandas()
    return shown


def texts(at: AppTest) -> str:
    """Every message, caption, text, markdown and metric label/value the page shows, as one string."""
    parts: list[str] = []
    for group in (at.error, at.warning, at.info, at.success, at.caption, at.text, at.markdown, at.title,
                  at.subheader, at.code):
        parts.extend(str(e.value) for e in group)
    parts.extend(f"{m.label}={m.value}" for m in at.metric)
    return "\n".join(parts)
