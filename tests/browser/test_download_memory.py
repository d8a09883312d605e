"""A download under DOWNLOAD_LIMIT_MB, in Chromium: the app holds the object's bytes only while the download is
served, and gives them back once the page has moved on (the resident memory of the app process, measured)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from core.store.local import LocalStore
from stack.app import serve
from tests.browser.conftest import wait_idle

pytestmark = pytest.mark.browser
Page = Any

MIB = 2**20
#: Under the 256 MiB download limit, and far above the app's memory noise between two page runs.
SIZE = 160 * MIB
#: What the app may keep above its memory before the download once the page moved on.
KEPT = 48 * MIB


def _settled_rss(rss: Any, limit: int, seconds: float = 30) -> int:
    """The app's resident memory once it is at most ``limit``, or the last reading after ``seconds``."""
    deadline = time.monotonic() + seconds
    value = rss()
    while value > limit and time.monotonic() < deadline:
        time.sleep(0.5)
        value = rss()
    return int(value)


def test_a_finished_download_gives_its_memory_back(
    tmp_path_factory: pytest.TempPathFactory, page: Page, tmp_path: Path
) -> None:
    workdir = tmp_path_factory.mktemp("download-app")
    LocalStore(workdir / "store").put_object("zz-big", "DATA/model.bin", b"\x01" * SIZE)
    with serve(workdir, {}) as app:
        page.goto(f"{app.url}/buckets?bucket=zz-big&prefix=DATA/&object=DATA/model.bin")
        wait_idle(page, "Object")
        before = app.rss()
        with page.expect_download(timeout=120_000) as download:
            page.get_by_test_id("stDownloadButton").get_by_role("button", name="Download").click()
        saved = tmp_path / "model.bin"
        download.value.save_as(saved)
        assert saved.stat().st_size == SIZE
        held = app.rss()
        # The page moves on: two runs (Streamlit drops a served download on the second run that no longer shows it).
        page.goto(f"{app.url}/buckets?bucket=zz-big")
        wait_idle(page, "Buckets")
        page.goto(f"{app.url}/overview")
        wait_idle(page, "Overview")
        after = _settled_rss(app.rss, before + KEPT)
    print(f"app RSS: {before / MIB:.0f} MiB before, {held / MIB:.0f} MiB after the download, "
          f"{after / MIB:.0f} MiB once the page moved on (object {SIZE / MIB:.0f} MiB)")
    assert after <= before + KEPT, (before / MIB, held / MIB, after / MIB)
