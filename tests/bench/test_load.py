"""The load generator against the real app: 20 sessions through every page see no error, and errors are seen."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench import load
from core.services.times import TIMES_PREFIX, pipeline_bucket
from core.settings import load_settings
from core.store.local import LocalStore
from stack.app import serve


def test_twenty_sessions_through_every_page_see_no_error(tmp_path: Path) -> None:
    with serve(tmp_path, {}) as app:
        load.open_once(app.url, load.PAGES)  # the app's one-off work (demo seeding, imports) before the load
        # The view timeout is wide: the figures against their targets come from `make bench`; this proves that
        # 20 sessions at once get every page without an error on a loaded 2-CPU machine.
        report = load.run_load([app.url], sessions=20, interval=5.0, duration=15.0, timeout=60.0)
        assert report.errors == [], report.summary()
        assert len(report.views) == 20 * 3
        assert Counter(v.page for v in report.views).keys() == set(load.PAGES)
        assert all(v.seconds > 0 for v in report.views)

        # The same client sees a page that fails: a damaged TIMES object is an error message on Times.
        root = tmp_path / "store"
        settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(root)})
        LocalStore(root).put_object(pipeline_bucket(settings), f"{TIMES_PREFIX}damaged.parquet", b"not parquet")
        times, missing = load.open_once(app.url, ["times", "no-such-page"])
        assert times.error is not None and "damaged" in times.error
        assert missing.error == "no-such-page: page not found"
