"""A 1,000,000-row ``sacct --parsable2`` file (145 MB) through the Upload sacct page in Chromium: the page counts
every row and job, shows a bounded preview, stores the whole run, and the app's peak memory stays bounded.

The file is generated into the test's temporary folder (bench/generate.py, a fixed seed); the app runs as its own
process (bench/load.py) so its memory is its own, with the upload limit at the server's ceiling (200 MB).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bench import generate, upload_page
from core.services.sacct import forwarder_bucket, load_run
from core.services.upload import PREVIEW_FINDINGS, PREVIEW_ROWS, run_object
from core.settings import load_settings
from core.store.local import LocalStore
from stack.app import serve

pytestmark = pytest.mark.browser
Page = Any


def _first_and_last_job_ids(path: Path) -> tuple[str, str]:
    with path.open("rb") as text:
        text.readline()  # the header
        first = text.readline().split(b"|", 1)[0].decode()
        text.seek(-4096, 2)
        last = text.read().splitlines()[-1].split(b"|", 1)[0].decode()
    return first, last


def test_a_million_row_file_is_counted_previewed_and_stored_whole(page: Page, tmp_path: Path) -> None:
    rows = upload_page.ROWS
    path = tmp_path / "sacct-month.txt"
    jobs = generate.write_parsable2(path, rows)
    size = path.stat().st_size
    with serve(tmp_path / "app", {"UPLOAD_LIMIT_MB": str(upload_page.UPLOAD_LIMIT_MB)}) as app:
        done = upload_page.upload_through_page(page, app.url, path, "month", app.process.pid)
        main = page.locator('[data-testid="stMain"]')
        # The real counts, and a preview that says how much of it is shown.
        assert f"{rows:,} rows in parsable2 format from {path.name}: {jobs:,} jobs." in done.parsed_message
        expect(main).to_contain_text(f"The first {PREVIEW_ROWS:,} of {rows:,} rows")
        expect(main).to_contain_text(f"The worst {PREVIEW_FINDINGS:,} of ")
        expect(main).to_contain_text(f"Jobs by state ({jobs:,} jobs)")
        expect(main).to_contain_text(re.compile(r"FAILED \(exit \d+:0\) ×\d+ and [\d,]+ other kinds \([\d,]+ jobs\)"))
        assert "as version 1." in done.stored_message
        assert page.locator('[data-testid="stException"]').count() == 0
        log = app.log.read_text(errors="replace")
        assert "Traceback" not in log and f"({rows} rows)" in log
    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(tmp_path / "app" / "store")})
    stored = load_run(LocalStore(tmp_path / "app" / "store"), forwarder_bucket(settings), run_object(settings, "month"))
    assert len(stored) == rows
    assert int((stored["step"].fillna("") == "").sum()) == jobs
    ids = stored["job-id"].iloc[[0, -1]] + stored["step"].iloc[[0, -1]].fillna("").map(lambda s: f".{s}" if s else "")
    assert tuple(ids) == _first_and_last_job_ids(path)
    # Receiving, parsing and charting the file and storing its run: see upload_page.PEAK_RSS_PER_FILE_BYTE.
    assert done.peak_rss - done.rss_before <= upload_page.PEAK_RSS_PER_FILE_BYTE * size, \
        f"peak {done.peak_rss / 2**20:.0f} MiB, {done.rss_before / 2**20:.0f} MiB before, file {size / 2**20:.0f} MiB"
