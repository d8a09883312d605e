"""Every view has a URL (round trip in a new browser context), the job page is reached by row clicks, stale links."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, wait_idle

pytestmark = pytest.mark.browser
Page = Any
Browser = Any
ROW_HEIGHT = 35  # st.dataframe's default row height, header included


@pytest.fixture(autouse=True)
def _patient_expect() -> Any:
    """A page run on this shared 2-CPU machine can take longer than Playwright's 5 s default."""
    expect.set_options(timeout=60_000)
    yield
    expect.set_options(timeout=5_000)


def _params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _no_error(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()


def _click_row(table: Any, row: int) -> None:
    """Select a row of an st.dataframe by clicking its row marker (the grid is drawn on a canvas)."""
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    table.page.mouse.click(box["x"] + 12, box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2)


def _in_new_context(browser: Browser, url: str, heading: str) -> tuple[Any, Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    fresh = context.new_page()
    fresh.set_default_timeout(60_000)
    fresh.goto(url)
    wait_idle(fresh, heading)
    return context, fresh


def _nav(page: Page, label: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=label, exact=True).click()
    wait_idle(page, label)


def test_buckets_view_round_trips_through_its_url(app_server: str, page: Page, browser: Browser) -> None:
    page.goto(f"{app_server}/buckets")
    wait_idle(page, "Buckets")
    page.get_by_role("button", name="ARTIFACTS/").click()
    wait_idle(page)
    page.get_by_role("button", name="SACCT/").click()
    wait_idle(page)
    expect(page.get_by_text("This folder:")).to_contain_text("objects")
    objects = page.locator('[data-testid="stDataFrame"]').nth(1)
    expect(objects).to_contain_text("mahti-2024-05.parquet")
    # Rows are in name order; other tests of the session may have stored runs before the demo's, so the object the
    # first row opens is read from the URL its click writes.
    _click_row(objects, 0)
    expect(page).to_have_url(re.compile("object=" + re.escape(quote("ARTIFACTS/SACCT/", safe=""))))
    first = _params(page.url)["object"][0]
    assert re.fullmatch(r"ARTIFACTS/SACCT/user-example-com-[a-z0-9-]+\.parquet", first), first
    wait_idle(page, "Object")
    params = _params(page.url)
    assert params["prefix"] == ["ARTIFACTS/SACCT/"]
    assert params["object"] == [first]
    assert "bucket" not in params  # the default bucket keeps the URL short
    expect(page.get_by_text(f"mlch-for-air/{first}", exact=True)).to_be_visible()
    _no_error(page)

    context, fresh = _in_new_context(browser, page.url, "Buckets")
    try:
        expect(fresh.get_by_text(f"mlch-for-air/{first}", exact=True)).to_be_visible()
        assert [b.inner_text() for b in fresh.locator('[data-testid="stButton"] button').all()][:3] == [
            "mlch-for-air /", "ARTIFACTS /", "SACCT /"]
        _no_error(fresh)
    finally:
        context.close()


def test_every_page_reopens_from_its_url_and_keeps_it_across_pages(
    app_server: str, page: Page, browser: Browser
) -> None:
    run = "user-example-com-mahti-2024-05"
    views = [
        ("sacct", f"runs={run}&view=Table&state=COMPLETED", "SACCT"),
        ("management", "object=MANAGEMENT/1.json&platform=mahti", "Management"),
        ("logs", "object=LOGS/slurm-3461753.out&search=CANCELLED&line=445&tail=40", "Logs"),
        ("times", "runs=run-2&runs=run-3", "Times"),
        ("job", f"job=3459879&run={run}", "Job 3459879"),
    ]
    # One context that never saw these views (its own session): each URL alone has to carry its view.
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    fresh = context.new_page()
    try:
        for path, query, heading in views:
            fresh.goto(f"{app_server}/{path}?{query}")
            wait_idle(fresh, heading)
            _no_error(fresh)
            assert _params(fresh.url) == parse_qs(query), path  # the app keeps the view it was given
            main = fresh.locator('[data-testid="stMain"]')
            if path == "sacct":
                expect(main.locator('[data-testid="stMultiSelect"]').first).to_contain_text(run)
                table = main.locator('[data-testid="stDataFrame"]').last
                expect(table).to_contain_text("3459879")
                assert "CANCELLED" not in table.text_content()
            elif path == "management":
                expect(fresh.get_by_role("tab", name="mahti")).to_have_attribute("aria-selected", "true")
            elif path == "logs":
                expect(main.get_by_role("heading", name="Line 445")).to_be_visible()
                expect(main.locator('[data-testid="stCode"]').last).to_contain_text("CANCELLED AT")
            elif path == "times":
                expect(main.locator('[data-testid="stMultiSelect"]').first).to_contain_text("run-3")
                assert "run-1" not in main.locator('[data-testid="stMultiSelect"]').first.inner_text()
            else:
                expect(main).to_contain_text("CPU Efficiency: 0.37% of 21:58:24 core-walltime")
    finally:
        context.close()

    # Leaving a page and coming back through the sidebar (no parameters in that link) reopens the same view.
    page.goto(f"{app_server}/sacct?{views[0][1]}")
    wait_idle(page, "SACCT")
    _nav(page, "Logs")
    _nav(page, "SACCT")
    assert _params(page.url) == parse_qs(views[0][1])
    page.goto(f"{app_server}/logs?{views[2][1]}")
    wait_idle(page, "Logs")
    _nav(page, "Times")
    _nav(page, "Logs")
    assert _params(page.url)["object"] == ["LOGS/slurm-3461753.out"]
    assert _params(page.url)["line"] == ["445"]


def test_the_job_page_is_reached_from_management_sacct_and_logs(app_server: str, page: Page) -> None:
    page.goto(f"{app_server}/management?object=MANAGEMENT/1.json&platform=mahti")
    wait_idle(page, "Management")
    jobs = page.get_by_role("tabpanel", name="mahti").locator('[data-testid="stDataFrame"]').first
    expect(jobs).to_contain_text("3459879")
    _click_row(jobs, 0)  # the first Mahti job of run 1: 3459879, stored
    wait_idle(page, "Job 3459879")
    assert _params(page.url) == {"job": ["3459879"], "platform": ["mahti"], "object": ["MANAGEMENT/1.json"]}
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("CPU Efficiency: 0.37% of 21:58:24 core-walltime")
    expect(main).to_contain_text("Memory Efficiency: 36.61% of 1.00 GiB")
    expect(main).to_contain_text("LOGS/slurm-3459879.out")
    _no_error(page)
    print(screenshot(page, "job"))

    page.goto(f"{app_server}/sacct?runs=user-example-com-mahti-2024-05&view=Table")
    wait_idle(page, "SACCT")
    table = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').last
    expect(table).to_contain_text("3461753")
    _click_row(table, 1)
    expect(page).to_have_url(re.compile(r"/job\?"))
    assert _params(page.url)["run"] == ["user-example-com-mahti-2024-05"]
    job = _params(page.url)["job"][0]
    # The run's jobs, one row each: the Ray clusters and the sweep's tasks.
    assert job in {"3459879", "3461753", "3470110"} | {f"3462001_{task}" for task in range(8)}
    wait_idle(page, f"Job {job}")

    page.goto(f"{app_server}/logs")
    wait_idle(page, "Logs")
    picker = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').first
    # Logs are in job id order: Roihu's 812345 first, its seff report (row 0) and its output (row 1).
    _click_row(picker, 1)  # 812345's output, instead of the newest job's
    expect(page).to_have_url(re.compile(r"slurm-812345\.out"))
    wait_idle(page)
    assert _params(page.url)["object"] == ["LOGS/slurm-812345.out"]
    page.get_by_role("link", name="Open job 812345").click()
    wait_idle(page, "Job 812345")
    expect(page.locator('[data-testid="stMain"]')).to_contain_text("stored")


def test_stale_or_bad_parameters_say_so_and_offer_a_way_back(app_server: str, page: Page) -> None:
    cases = [
        ("buckets?bucket=no-such-bucket", "Buckets", "bucket 'no-such-bucket', which is not there"),
        ("buckets?prefix=ARTIFACTS/&object=ARTIFACTS/gone.parquet", "Buckets", "ARTIFACTS/gone.parquet"),
        ("sacct?runs=gone-run", "SACCT", "SACCT run 'gone-run', which is not there"),
        ("management?object=MANAGEMENT/9.json&platform=mars", "Management", "MANAGEMENT/9.json"),
        ("logs?object=LOGS/slurm-1.out", "Logs", "log 'LOGS/slurm-1.out', which is not there"),
        ("logs?object=LOGS/slurm-3461753.out&line=99999", "Logs", "line '99999', which is not there"),
        ("job?job=3462001&run=gone-run", "Job 3462001", "SACCT run gone-run is not stored"),
    ]
    for query, heading, message in cases:
        page.goto(f"{app_server}/{query}")
        wait_idle(page, heading)
        assert page.locator('[data-testid="stException"]').count() == 0, query
        expect(page.locator('[data-testid="stAlert"]').filter(has_text=message).first).to_be_visible()
    page.goto(f"{app_server}/management?platform=mars")
    wait_idle(page, "Management")
    expect(page.get_by_text("platform 'mars', which is not there")).to_be_visible()
    expect(page.get_by_role("tab", name="puhti")).to_have_attribute("aria-selected", "true")
    page.goto(f"{app_server}/job?job=not-a-job")
    wait_idle(page, "Job")
    expect(page.get_by_text("This link does not name a job")).to_be_visible()
    page.get_by_role("link", name="Management").last.click()
    wait_idle(page, "Management")


def test_logs_tail_is_scrolled_to_the_end(app_server: str, page: Page) -> None:
    page.goto(f"{app_server}/logs?object=LOGS/slurm-3459879.out&tail=400")
    wait_idle(page, "Logs")
    tail = page.locator('[data-testid="stMain"] [data-testid="stCode"]').last
    last_line = "Training script complete"
    expect(tail).to_contain_text(last_line)
    tail.scroll_into_view_if_needed()
    # The tail's box scrolls by itself to its bottom, so the log's last line is in view without scrolling it.
    boxes = tail.evaluate(
        "el => { const out = []; for (let e = el; e; e = e.parentElement) {"
        " if (e.scrollHeight > e.clientHeight + 4 && /(auto|scroll)/.test(getComputedStyle(e).overflowY))"
        " out.push([e.getAttribute('data-testid'), e.scrollHeight - e.clientHeight - e.scrollTop, e.scrollTop]); }"
        " return out; }")
    box, left_below, scrolled = boxes[0]
    assert box != "stMain" and scrolled > 1000 and left_below < 40, boxes
    expect(page.get_by_text(last_line).last).to_be_in_viewport()


def test_an_earlier_version_opens_from_the_version_picker_and_its_url(
    tmp_path_factory: pytest.TempPathFactory, page: Page, browser: Browser
) -> None:
    from core.store.local import LocalStore
    from core.store.versioning import put_versioned
    from stack.app import serve

    workdir = tmp_path_factory.mktemp("versions-app")
    store = LocalStore(workdir / "store")
    for text in (b"first words\n", b"second words\n", b"third words\n"):
        put_versioned(store, "mlch-for-air", "DATA/notes.txt", text)
    with serve(workdir, {}) as app:
        page.goto(f"{app.url}/buckets?bucket=mlch-for-air&prefix=DATA/&object=DATA/notes.txt")
        wait_idle(page, "Object")
        main = page.locator('[data-testid="stMain"]')
        expect(main).to_contain_text("third words")
        versions = page.get_by_role("combobox", name="Version")
        versions.click()
        versions.fill("version 1")  # typing opens the list, narrowed to what matches
        page.get_by_role("option", name="version 1 of 3").click()
        expect(main).to_contain_text("first words")
        expect(page).to_have_url(re.compile(r"version=1\b"))
        wait_idle(page)
        _no_error(page)
        context, fresh = _in_new_context(browser, page.url, "Buckets")
        try:
            expect(fresh.locator('[data-testid="stMain"]')).to_contain_text("first words")
            _no_error(fresh)
        finally:
            context.close()
