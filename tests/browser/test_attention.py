"""The real app in Chromium: the Overview and its links, platforms side by side, and the Upload page's state cases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests import samples
from tests.browser.conftest import choose_sacct_file, screenshot, start_app, upload_sacct, wait_idle

pytestmark = pytest.mark.browser
Page = Any


@pytest.fixture(scope="module")
def alert_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with thresholds the demo crosses: every active pipeline is stuck after 60 ms, quotas alert at 15 %."""
    yield from start_app(tmp_path_factory.mktemp("alert-app"),
                         {"STUCK_AFTER_MINUTES": "0.001", "QUOTA_ALERT_PERCENT": "15"})


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a store holding only the demo data: runs stored by other tests would change the newest runs."""
    yield from start_app(tmp_path_factory.mktemp("demo-app"), {})


def _main(page: Page) -> Any:
    return page.locator('[data-testid="stMain"]')


def _no_error(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()


def test_overview_lists_what_needs_attention_and_links_to_each_page(demo_app: str, page: Page) -> None:
    page.goto(demo_app)
    wait_idle(page, "Overview")
    _no_error(page)
    main = _main(page)
    # The pipeline's own failures: the sweep's failed task and Roihu's out-of-memory job.
    expect(main.get_by_role("heading", name="Failed jobs: 2")).to_be_visible()
    expect(main.get_by_role("heading", name="Stuck pipelines: 0")).to_be_visible()
    expect(main.get_by_role("heading", name="Quotas over 90 %: 0")).to_be_visible()
    expect(main.get_by_role("link", name=re.compile(r" · job "))).to_have_count(2)
    expect(main.get_by_text("of the 4 most recently stored SACCT runs (at most 6, newest first)")).to_be_visible()
    expect(main.locator('[data-testid="stDataFrame"]').first).to_contain_text("roihu")
    # The demo project's allocation (ARTIFACTS/BUDGET.json) against its own jobs: the budget on first run.
    expect(main.get_by_text(re.compile(r"^CSC GPU BU: 3,598\.4 of 5,000\.0 used \(72%\) over 16 stored jobs;"))
           ).to_be_visible()
    expect(main.get_by_text("CSC GPU BU: 72% used")).to_be_visible()
    wait_idle(page)
    print(screenshot(page, "overview"))

    # A failed job opens its job page, in the same session, with a URL that names it.
    main.get_by_role("link", name=re.compile(r"^OUT_OF_MEMORY · job 812360 · ")).click()
    wait_idle(page, "Job 812360")
    assert "job=812360" in page.url and "run=user-example-com-roihu-2024-05" in page.url
    expect(_main(page)).to_contain_text("LOGS/slurm-812360.out", timeout=90_000)  # its log, with its error line
    expect(_main(page)).to_contain_text("error lines in 1 place", timeout=90_000)
    _no_error(page)

    # A newest run opens the SACCT page on that run only.
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Overview", exact=True).click()
    wait_idle(page, "Overview")
    main.get_by_role("link", name="user-example-com-mahti-2024-05 (mahti)", exact=True).click()
    wait_idle(page, "SACCT")
    chosen = page.locator('[data-testid="stMultiSelect"]').first
    expect(chosen).to_contain_text("user-example-com-mahti-2024-05")
    expect(chosen).not_to_contain_text("lumi")
    assert "runs=user-example-com-mahti-2024-05" in page.url
    _no_error(page)


def test_overview_links_stuck_pipelines_and_full_quotas_to_management(alert_app: str, page: Page) -> None:
    page.goto(alert_app)
    wait_idle(page, "Overview")
    main = _main(page)
    expect(main.get_by_role("heading", name="Stuck pipelines: 1")).to_be_visible()
    expect(main.get_by_role("heading", name="Quotas over 15 %: 2")).to_be_visible()
    # Mahti's home directory uses 3.045G of 10G: its link opens Management on the mahti tab.
    main.get_by_role("link", name="Workspaces on mahti").click()
    wait_idle(page, "Management")
    assert "platform=mahti" in page.url
    expect(page.get_by_role("tab", name="mahti", selected=True)).to_be_visible()
    # The mahti tab is the one shown: its stuck jobs (the running Ray cluster, sweep.sh never submitted) are
    # visible, lumi's pending finetune is not.
    expect(main.get_by_text(re.compile(r"^2 active jobs, .* min: job 3470110, without id$"))).to_be_visible()
    expect(main.get_by_text(re.compile(r"^1 active job, .* min: job 7351200$"))).to_be_hidden()
    _no_error(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Overview", exact=True).click()
    wait_idle(page, "Overview")
    # Run 3 is under way: its object (the newest) is the stuck one.
    link = main.get_by_role("link", name="Open MANAGEMENT/3.json")
    assert "object=MANAGEMENT%2F3.json" in (link.get_attribute("href") or "")
    link.click()
    wait_idle(page, "Management")
    # The newest object is the page's default, so the page keeps its URL clean; the choice shows it.
    expect(main.get_by_role("combobox", name="Management object")).to_have_value("MANAGEMENT/3.json")
    _no_error(page)


def test_platforms_view_compares_platforms_on_shared_axes(demo_app: str, page: Page) -> None:
    page.goto(f"{demo_app}/sacct?view=Platforms")
    wait_idle(page, "SACCT")
    _no_error(page)
    plots = page.locator(".js-plotly-plot")
    expect(plots).to_have_count(6, timeout=30_000)
    titles = " ".join(page.locator(".js-plotly-plot .gtitle").evaluate_all("els => els.map(e => e.textContent)"))
    for title in ("Queue wait per platform", "Failure rate per platform", "Efficiency per platform",
                  "Allocated core-hours per platform", "Allocated GPU-hours per platform",
                  "Billed per platform, one panel per pool"):
        assert title in titles
    # Every one-axis figure lists the platforms in one order: puhti, mahti, roihu, lumi (billing has a panel a pool).
    for index in range(5):
        ticks = plots.nth(index).locator(".xtick text").evaluate_all("els => els.map(e => e.textContent)")
        assert ticks == ["puhti", "mahti", "roihu", "lumi"], (index, ticks)
    expect(_main(page).locator('[data-testid="stDataFrame"]').last).to_contain_text("roihu")
    print(screenshot(page, "sacct-platforms"))
    # Each chosen run's platform, cluster, rows and stored time.
    page.get_by_text("4 runs: platform, rows, stored").click()
    runs = _main(page).locator('[data-testid="stDataFrame"]').first
    for shown in ("user-example-com-lumi-2024-05", "roihu", "14"):
        expect(runs).to_contain_text(shown)


def test_upload_keeps_only_what_is_shown(app_server: str, page: Page) -> None:
    page.goto(f"{app_server}/upload")
    wait_idle(page, "Upload sacct")
    uploader = page.locator('[data-testid="stFileUploader"]')
    # The limit is stated once, by the widget, from UPLOAD_LIMIT_MB (100 MB by default), and nowhere else.
    expect(page.get_by_test_id("stFileUploaderDropzoneInstructions")).to_contain_text("100")
    assert "200" not in uploader.inner_text()
    assert len(re.findall(r"\b100\s?MB\b", _main(page).inner_text())) == 1

    # A file and pasted text at once: Parse asks which one.
    choose_sacct_file(page, samples.sacct("05_torchx_hetjob_parsable.txt"))
    upload_sacct(page, samples.sacct("09_tdhock_parsable2_multiuser.txt").read_text(), run="browser-state",
                 parsed="Pick which input to parse first.")
    page.get_by_text("the file 05_torchx_hetjob_parsable.txt").click()
    wait_idle(page)
    page.get_by_role("button", name="Parse").click()
    page.get_by_text("7 rows in parsable format from 05_torchx_hetjob_parsable.txt").wait_for()
    wait_idle(page)
    _no_error(page)

    # Removing the parsed file clears its parse: nothing of it can be stored.
    page.get_by_role("button", name="Remove 05_torchx_hetjob_parsable.txt").click()
    wait_idle(page)
    expect(page.get_by_text("7 rows in parsable format")).to_have_count(0)
    page.get_by_text("Press Parse to read this input.").wait_for()

    # The pasted text is now the only input; store it, then rename the run: the notice stays with its run.
    page.get_by_role("button", name="Parse").click()
    page.get_by_text("572 rows in parsable2 format from pasted text").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Store", exact=True).click()
    page.get_by_text(re.compile(r"user-example-com-browser-state\.parquet as version 1\.")).wait_for()
    page.get_by_label("Run name").fill("browser-state-2")
    page.get_by_label("Run name").press("Enter")
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"as version 1\."))).to_have_count(0)
    expect(page.get_by_text("already stored")).to_have_count(0)

    # A parse error ends the status box in its error state, never on "Parsing…".
    page.get_by_label("…or paste it here").fill("Dear admin,\nmy job failed.\n")
    page.get_by_role("button", name="Parse").click()
    page.get_by_text("Not parsed: the reason is below").wait_for()
    wait_idle(page)
    expect(page.get_by_text("Parsing…")).to_have_count(0)
    print(screenshot(page, "upload-error"))


def test_pipeline_user_is_per_session_and_in_the_url(app_server: str, browser: Any, page: Page) -> None:
    page.goto(f"{app_server}/management?pipeline=bob%40example.org")
    wait_idle(page, "Management")
    sidebar = page.locator('[data-testid="stSidebarUserContent"]')
    expect(sidebar).to_contain_text("pipeline user bob@example.org")
    expect(_main(page)).to_contain_text("mlch-sub-air-bob-example-org")  # bob has no Management object
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Overview", exact=True).click()
    wait_idle(page, "Overview")
    assert "pipeline=bob%40example.org" in page.url  # the choice stays in the URL from page to page
    # Another browser on the same deployment still sees the configured pipeline.
    other = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    try:
        other.goto(f"{app_server}/management")
        wait_idle(other, "Management")
        expect(other.locator('[data-testid="stSidebarUserContent"]')).to_contain_text("pipeline user user@example.com")
        expect(other.get_by_role("tab", name="mahti")).to_be_visible()
    finally:
        other.context.close()
