"""SACCT tables in Chromium: findings worst first with their CSV (SACCT page and Upload preview), and a header click
sorting durations as numbers, in a styled table and in one too big for a Styler (durations as padded text).

Streamlit's dataframe is a glide-data-grid canvas. While it has the focus, the grid keeps an accessible table
(``table[role=grid]``, a ``th`` per column, a ``td role=gridcell`` per cell of the rows in view, each row with its
``aria-rowindex``) inside the canvas element: the tests read the cells there, as a screen reader would. That table
gives a number cell's number (``12853``) and a text cell's text, so what the cells look like ("03:34:13") is
checked through AppTest (the Styler's display values) and the order of the numbers here. Headers are
painted, not elements, so a header is clicked where the grid paints it: the mouse pointer over the header row is a
hand over a header and turns into ``col-resize`` at each column's edge, which gives every column's span.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import expect

from core.sacct import parse_sacct
from core.serialize import frame_to_parquet
from core.services.tables import aligned_durations
from core.settings import load_settings
from core.units import slurm_duration
from tests import samples
from tests.browser.conftest import choose_sacct_file, demo_store, start_app, wait_idle
from tests.samples import FIELDS_07

pytestmark = pytest.mark.browser
Page = Any
Locator = Any

#: Wide enough for every column of the tables below to be in view (the grid only lists the columns in view).
VIEWPORT = {"width": 2400, "height": 1000}


def _canvas(table: Locator) -> Locator:
    return table.locator('canvas[data-testid="data-grid-canvas"]')


def _focused_grid(table: Locator) -> Locator:
    """The grid's accessible table, which exists while the canvas has the focus (a rerun can take the focus away)."""
    canvas = _canvas(table)
    grid = canvas.locator("table[role=grid]")
    for _ in range(100):  # bounded: about 30 s
        canvas.focus()
        if grid.count() and grid.locator("thead th").count():
            return grid
        canvas.page.wait_for_timeout(300)
    raise AssertionError("the grid kept no accessible table")


def _headers(table: Locator) -> list[str]:
    headers: list[str] = _focused_grid(table).locator("thead th").evaluate_all(
        "cells => cells.map(c => c.textContent)")
    return headers


def _rows_in_view(table: Locator) -> dict[int, list[str]]:
    """The rows the grid shows now, by position (0 = first row), each as its cells' texts."""
    rows: list[tuple[str, list[str]]] = _focused_grid(table).locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [r.getAttribute('aria-rowindex'), Array.from(r.cells).map(c => c.textContent)])")
    return {int(index) - 2: cells for index, cells in rows}


def _first_rows(page: Page, table: Locator, count: int) -> list[list[str]]:
    """The first ``count`` rows in the order shown, scrolling the grid down with the mouse wheel to see them all."""
    box = _canvas(table).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    seen: dict[int, list[str]] = {}
    for _ in range(20):  # bounded: each turn scrolls about five rows
        seen.update(_rows_in_view(table))
        if all(i in seen for i in range(count)):
            return [seen[i] for i in range(count)]
        page.mouse.wheel(0, 180)
        page.wait_for_timeout(200)
    raise AssertionError(f"rows {sorted(seen)} in view, not the first {count}")


def _header_spans(page: Page, table: Locator) -> list[tuple[float, float]]:
    """Each column's header span [left, right] on the page: where the pointer is a hand over the header row."""
    canvas = _canvas(table)
    box = canvas.bounding_box()
    y = box["y"] + 18  # the header row is the top 36 px of the canvas
    spans: list[list[float]] = []
    for x in range(int(box["x"]) + 2, int(box["x"] + box["width"]) - 2, 4):
        page.mouse.move(x, y)
        if canvas.evaluate("c => c.style.cursor") == "pointer":
            if spans and x - spans[-1][1] <= 4:
                spans[-1][1] = x
            else:
                spans.append([x, x])
    return [(left, right) for left, right in spans]


def _click(page: Page, table: Locator, span: tuple[float, float]) -> None:
    box = _canvas(table).bounding_box()
    page.mouse.click(sum(span) / 2, box["y"] + 18)


def _check_findings(page: Page, scope: Locator, table: Locator, count: int, tmp_path: Path) -> None:
    """The findings of the alpine sample (07) in ``table``: worst first, hand-checked advice, and the CSV that the
    "Findings as CSV" button of ``scope`` downloads holds the same ``count`` rows in the same order."""
    headers = _headers(table)
    assert headers[-10:] == ["JobID", "JobName", "State", "Finding", "Figure", "Threshold", "Ask next time",
                             "Billed at stake", "Billing unit", "Core-hours at stake"]
    assert _focused_grid(table).get_attribute("aria-rowcount") == str(count + 1)  # rows + header
    rows = [dict(zip(headers, cells, strict=True)) for cells in _first_rows(page, table, 10)]
    # Worst first: the out-of-memory job, then by the core-hours at stake.
    # 07_slurmdog_parsable2_noheader_alpine.txt line 5: 12051616.batch OUT_OF_MEMORY at MaxRSS 2565880K; the job
    # asked for 3840M (line 4), so the next ask is 1.5 × 3840M = 5760M, rounded up to whole G: --mem=6G.
    assert (rows[0]["JobID"], rows[0]["Finding"]) == ("12051616", "out of memory")
    assert rows[0]["Figure"] == "ran out of memory at MaxRSS × NTasks 2.45 GiB of 3.75 GiB"
    assert rows[0]["Ask next time"] == "--mem=6G (at least 1.5 × the request, 5.62 GiB)"
    assert rows[0]["Core-hours at stake"] == ""
    stakes = [float(r["Core-hours at stake"]) for r in rows[1:]]
    assert stakes == sorted(stakes, reverse=True) and stakes[0] > stakes[-1]
    # Line 58: 12796816 held 4 cores for Elapsed 04:00:14 (14414 s) with TotalCPU 00:05.308: (4 × 14414 − 5.308) s
    # = 16.0 idle core-hours, the most of any job; line 59: MaxRSS 52192K = 50.97 MiB, + 20 % = 61.2 MiB → 100M.
    assert rows[1]["JobID"] == "12796816" and rows[1]["Finding"] == "idle cores"
    assert rows[1]["Figure"] == "CPU eff. 0%: TotalCPU kept 0.0 of 4 cores busy"
    assert rows[1]["Ask next time"] == "--cpus-per-task=1 (busy cores + 20%)"
    assert float(rows[1]["Core-hours at stake"]) == pytest.approx((4 * 14414 - 5.308) / 3600)
    memory = next(r for r in rows if r["JobID"] == "12796816" and r["Finding"] == "memory over-requested")
    assert memory["Figure"] == "MaxRSS × NTasks 50.97 MiB is 0% of 15.00 GiB"
    assert memory["Ask next time"] == "--mem=100M (peak + 20%)"

    with page.expect_download() as download:
        scope.get_by_role("button", name="Findings as CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "sacct-findings.csv"
    with saved.open(newline="", encoding="utf-8") as handle:
        exported = list(csv.reader(handle))
    assert exported[0] == headers and len(exported) - 1 == count
    # The same rows in the same order, the same numbers.
    for shown, row in zip(rows, exported[1:], strict=False):
        assert row[:-1] == [shown[h] for h in headers[:-1]]
        assert (row[-1] == shown["Core-hours at stake"] == "" or
                float(row[-1]) == pytest.approx(float(shown["Core-hours at stake"])))


@pytest.fixture(scope="module")
def samples_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a local store holding, besides the demo, the public samples of other sites as runs."""
    workdir = tmp_path_factory.mktemp("samples-app")
    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(workdir / "store")})
    samples.seed_public_runs(demo_store(workdir), settings, ["alpine-4-months", "habrok-gpu"])
    yield from start_app(workdir, {})


def test_findings_listed_worst_first_with_their_advice_and_csv(samples_app: str, page: Page, tmp_path: Path) -> None:
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{samples_app}/sacct?runs=user-example-com-alpine-4-months&view=Findings")
    wait_idle(page, "SACCT")
    main = page.locator('[data-testid="stMain"]')
    heading = main.get_by_role("heading", name=re.compile(r"findings on")).inner_text()
    count = int(re.match(r"([\d,]+) findings on", heading).group(1).replace(",", ""))  # type: ignore[union-attr]
    _check_findings(page, main, main.locator('[data-testid="stDataFrame"]').nth(1), count, tmp_path)  # after runs


def test_upload_preview_lists_the_same_findings_with_their_csv(app_server: str, page: Page, tmp_path: Path) -> None:
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{app_server}/upload")
    wait_idle(page, "Upload sacct")
    choose_sacct_file(page, samples.sacct("07_slurmdog_parsable2_noheader_alpine.txt"))
    for label, value in (("Field list, for --noheader output", ",".join(FIELDS_07)), ("Run name", "alpine check")):
        page.get_by_label(label).fill(value)
        page.get_by_label(label).press("Enter")
        wait_idle(page)
    page.get_by_role("button", name="Parse").click()
    expander = page.locator('[data-testid="stExpander"]').filter(has_text=re.compile(r"\d+ findings"))
    expander.first.wait_for()
    wait_idle(page)
    label = expander.locator("summary").inner_text()
    count = int(re.search(r"([\d,]+) findings", label).group(1).replace(",", ""))  # type: ignore[union-attr]
    _check_findings(page, expander, expander.locator('[data-testid="stDataFrame"]'), count, tmp_path)


def _sacct_table(page: Page, url: str) -> tuple[Locator, list[tuple[float, float]], int, Locator]:
    """The SACCT page's table at ``url``: the table, its headers' spans, the Elapsed column's position, and the first
    row's Elapsed cell."""
    page.set_viewport_size(VIEWPORT)
    page.goto(url)
    wait_idle(page, "SACCT")
    table = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').last
    headers = _headers(table)
    spans = _header_spans(page, table)
    assert len(spans) == len(headers), spans  # the row-selection column is not a header
    elapsed = headers.index("Elapsed")
    return table, spans, elapsed, _canvas(table).locator('tbody tr[aria-rowindex="2"] td').nth(elapsed)


def test_a_header_click_sorts_durations_as_numbers(samples_app: str, page: Page) -> None:
    table, spans, elapsed, first = _sacct_table(
        page, f"{samples_app}/sacct?runs=user-example-com-habrok-gpu&view=Table")
    _click(page, table, spans[elapsed])  # ascending
    expect(first).to_have_text("0")  # jobs cancelled before they started
    _click(page, table, spans[elapsed])  # descending
    # 06_hbjobinfo_parsable_snowman_noheader.txt: the longest job ran 10-00:00:27 = 864027 s.
    expect(first).to_have_text("864027")
    seconds = [float(row[elapsed]) for row in _first_rows(page, table, 24)]
    assert seconds == sorted(seconds, reverse=True), seconds
    # The page shows these as [D-]HH:MM:SS; sorted as that text, "9-…" would come before "10-…" and "23:…" before
    # "1-…". The first 24 rows hold both kinds, so a sort of the text would have given another order.
    texts = [slurm_duration(s) for s in seconds]
    assert sorted(texts, reverse=True) != texts, texts
    assert texts[0] == "10-00:00:27" and any(t.startswith("1-") for t in texts), texts
    assert any("-" not in t and t >= "20:00:00" for t in texts), texts


def test_padded_durations_of_big_tables_sort_as_numbers_in_chromium(page: Page) -> None:
    # Tables too big for a Styler show durations as space-padded text (core.services.sacct.aligned_durations);
    # the grid sorts a text column with String.prototype.localeCompare, so that is the order a header click gives.
    seconds = [86400, 36000, 32400, 864000, 7, 86399, 777600, 183845, 0, 359999]
    texts = aligned_durations(pd.Series(seconds)).tolist()
    order = page.evaluate("t => t.map((s, i) => [s, i]).sort((a, b) => a[0].localeCompare(b[0])).map(p => p[1])",
                          texts)
    assert order == sorted(range(len(seconds)), key=seconds.__getitem__)
    assert [texts[i].strip() for i in order] == ["00:00:00", "00:00:07", "09:00:00", "10:00:00", "23:59:59",
                                                 "1-00:00:00", "2-03:04:05", "4-03:59:59", "9-00:00:00",
                                                 "10-00:00:00"]


#: A run too big for a pandas Styler (16,000 jobs × 20 columns): a few long jobs among many short ones.
BIG_RUN_LONG = ["10-00:00:00", "9-00:00:00", "2-03:04:05", "1-00:00:00", "23:59:59", "10:00:00", "09:00:00"]


@pytest.fixture(scope="module")
def big_run_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a local store holding, besides the demo, the run ``user-example-com-big``."""
    workdir = tmp_path_factory.mktemp("big-run-app")
    lines = ["JobID|JobName|Partition|State|ExitCode|AllocCPUS|NNodes|NTasks|Elapsed|Timelimit|TotalCPU|ReqMem|"
             "MaxRSS|Submit|Start|End"]
    elapsed = BIG_RUN_LONG + ["00:00:07"] * (16_000 - len(BIG_RUN_LONG))
    lines += [f"{8000000 + i}|job{i}|small|COMPLETED|0:0|1|1|1|{e}|10-00:00:00|00:00:01|1G|100M|"
              "2024-05-01T10:00:00|2024-05-01T10:00:00|2024-05-01T11:00:00" for i, e in enumerate(elapsed)]
    frame = parse_sacct("\n".join(lines) + "\n").frame
    demo_store(workdir).put_object("mlch-for-air", "ARTIFACTS/SACCT/user-example-com-big.parquet",
                                   frame_to_parquet(frame), metadata={"version": 1, "platform": "other"})
    yield from start_app(workdir, {})


def test_a_table_too_big_to_style_shows_days_and_sorts_them_as_numbers(big_run_app: str, page: Page) -> None:
    table, spans, elapsed, first = _sacct_table(page, f"{big_run_app}/sacct?runs=user-example-com-big&view=Table")
    # Text cells, read as sacct prints them, padded on the left to one width.
    stored = _rows_in_view(table)
    assert [stored[i][elapsed] for i in range(len(BIG_RUN_LONG) + 1)] == [
        "10-00:00:00", " 9-00:00:00", " 2-03:04:05", " 1-00:00:00", "   23:59:59", "   10:00:00", "   09:00:00",
        "   00:00:07"]
    _click(page, table, spans[elapsed])  # ascending
    expect(first).to_have_text(re.compile(r"^\s*00:00:07$"))
    _click(page, table, spans[elapsed])  # descending
    expect(first).to_have_text(re.compile(r"^\s*10-00:00:00$"))
    shown = [row[elapsed].strip() for row in _first_rows(page, table, len(BIG_RUN_LONG) + 1)]
    # Longest first, days included: a sort of the unpadded text would have put 9-… before 10-… and 23:… before 1-….
    assert shown == [*BIG_RUN_LONG, "00:00:07"]
