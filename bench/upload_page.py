"""A 1,000,000-row ``sacct --parsable2`` file through the Upload sacct page, in Chromium against the running app.

:func:`upload_through_page` chooses the file in the page, presses Parse, names the run and presses Store, and times
the two things a user waits for: the parsed preview (rows and jobs counted, charts and findings drawn) and the
stored run (the page says which version it stored). The app's memory is read from ``/proc/<pid>/status``:
``VmRSS`` before the file is chosen and ``VmHWM`` (the kernel's own high-water mark of resident memory, so no peak
between two samples is missed) after the run is stored. ``tests/browser/test_big_upload.py`` asserts on the same
figures; :func:`run` records them for ``python -m bench --only upload``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import generate
from bench.results import Results

#: Rows of the file: a busy project's month of sacct output, 145 MB of text.
ROWS = 1_000_000
#: The app's upload limit for this file (the server's ceiling, ``maxUploadSize``; the default of 100 MB is lower).
UPLOAD_LIMIT_MB = 200
#: Bound of the app's peak resident memory over its memory before the upload, per byte of the file. Measured parts
#: (1,000,000 rows, 138 MiB): receiving the upload takes 2× the file for a moment and Streamlit then holds 1×; the
#: parser adds 3.2× at its peak (bench: parse.parsable2.peak_mem_vs_input); the per-job metrics of the preview 3×;
#: and each later run of the page pickles the session state (``enforceSerializableSessionState``), the uploaded file
#: included. Measured 8.4-10× (13.1× when every run of the page recomputed the preview), on top of a 220 MiB app.
PEAK_RSS_PER_FILE_BYTE = 12
#: Limit of each wait in the page, in milliseconds (a loaded 2-CPU machine is slow, not broken).
WAIT_MS = 300_000
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@dataclass(frozen=True)
class PageUpload:
    """What one upload through the page took, and what the page said."""

    seconds_to_preview: float
    seconds_to_stored: float
    rss_before: int
    peak_rss: int
    parsed_message: str
    stored_message: str


def memory(pid: int, field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak so far) of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"no {field} in /proc/{pid}/status")


def _settled(page: Any) -> None:
    """The page's run ended: Streamlit's running indicator is gone (waits for the rerun a widget started)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached")


def upload_through_page(page: Any, url: str, path: Path, run: str, pid: int) -> PageUpload:
    """Upload ``path`` through the Upload sacct page of the app at ``url`` (process ``pid``) and store it as ``run``.

    The preview counts as shown when the findings (the last thing the preview draws) are; the run as stored when
    the page says so.
    """
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{url}/upload")
    page.get_by_role("heading", name="Upload sacct", exact=True).first.wait_for()
    _settled(page)
    main = page.locator('[data-testid="stMain"]')
    before = memory(pid, "VmRSS")
    t0 = time.perf_counter()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_text("Press Parse to read this input.").wait_for()
    page.get_by_role("button", name="Parse").click()
    main.get_by_text(re.compile(r"^[\d,]+ findings$")).wait_for()
    to_preview = time.perf_counter() - t0
    parsed = main.locator('[data-testid="stAlert"]').filter(has_text="rows in").first.inner_text()
    page.get_by_label("Run name").fill(run)
    page.get_by_label("Run name").press("Enter")
    _settled(page)
    page.get_by_role("button", name="Store", exact=True).click()
    stored = main.locator('[data-testid="stAlert"]').filter(has_text=re.compile(r"Stored .* as version \d+"))
    stored.wait_for()
    to_stored = time.perf_counter() - t0
    return PageUpload(to_preview, to_stored, before, memory(pid, "VmHWM"), parsed, stored.inner_text())


def run(results: Results, rows: int = ROWS) -> None:
    """Serve the app, upload a ``rows``-row file through the page in Chromium, record the figures."""
    from playwright.sync_api import sync_playwright

    from stack.app import serve

    label = f"upload.page_{rows // 1_000_000}M_rows" if rows % 1_000_000 == 0 else f"upload.page_{rows // 1000}k_rows"
    with tempfile.TemporaryDirectory(prefix="bench-upload-page-") as tmp:
        path = Path(tmp) / "sacct.txt"
        jobs = generate.write_parsable2(path, rows)
        size = path.stat().st_size
        with serve(Path(tmp) / "app", {"UPLOAD_LIMIT_MB": str(UPLOAD_LIMIT_MB)}) as app, \
                sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
                done = upload_through_page(page, app.url, path, "bench-big", app.process.pid)
            finally:
                browser.close()
        if f"{rows:,} rows" not in done.parsed_message or f"{jobs:,} jobs" not in done.parsed_message:
            raise RuntimeError(f"the page did not count {rows:,} rows and {jobs:,} jobs: {done.parsed_message!r}")
    results.add(f"{label}.seconds_to_preview", done.seconds_to_preview, "s", at_most=30)
    results.add(f"{label}.seconds_to_stored", done.seconds_to_stored, "s", at_most=60)
    results.add(f"{label}.rss_before", done.rss_before / 2**20, "MiB")
    results.add(f"{label}.peak_rss", done.peak_rss / 2**20, "MiB")
    results.add(f"{label}.peak_rss_over_before_vs_file", (done.peak_rss - done.rss_before) / size, "x",
                at_most=PEAK_RSS_PER_FILE_BYTE)
    results.note(f"upload page: {rows:,} rows ({jobs:,} jobs), {size / 2**20:.0f} MiB file")
