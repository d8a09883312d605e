"""AppTest fixtures: the real multipage app (dashboard/app.py) run in-process on a copy of a seeded demo store.

Every test gets its own store directory (a copy of one seeded store), its own working directory (so no developer
``.env`` is read) and empty Streamlit caches.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.demo import seed_demo
from core.settings import ENV_NAMES, load_settings
from core.store.local import LocalStore

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
_UNSET = object()


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "store"
    seed_demo(LocalStore(root), load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(root)}))
    return root


@pytest.fixture()
def store_dir(seeded_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "store"
    shutil.copytree(seeded_store, root)
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
    """``open_page("views/sacct.py")``: the app run once, then switched to that page and run again."""

    def _open(page: str | None = None, *, session: object = _UNSET) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        if session is not _UNSET:
            at.session_state["monitor_session"] = session
        at.run()
        if page is not None:
            at.switch_page(page)
            at.run()
        return at

    return _open


def seed_public_runs(store_dir: Path, runs: list[str] | None = None) -> None:
    """Store other sites' public sacct samples (``tests.samples.PUBLIC_RUNS``) beside the demo, newest last."""
    from tests import samples

    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(store_dir)})
    samples.seed_public_runs(LocalStore(store_dir), settings, runs)


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """What Markdown displays of text escaped by ``core.text.markdown_plain``: the text itself."""
    return _ESCAPED.sub(r"\1", markdown).replace("\u2060", "")  # the word joiner that breaks autolinks


def texts(at: AppTest) -> str:
    """Every message, caption, text, markdown and metric label/value the page shows, as one string."""
    parts: list[str] = []
    for group in (at.error, at.warning, at.info, at.success, at.caption, at.text, at.markdown, at.title,
                  at.subheader, at.code):
        parts.extend(str(e.value) for e in group)
    parts.extend(f"{m.label}={m.value}" for m in at.metric)
    return "\n".join(parts)
