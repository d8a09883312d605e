"""The Pipeline page in Chromium: a demo run's stages and jobs of several platforms on one axis, a job opened from
its row, the URL reopening the view, and two runs compared."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, start_app, wait_idle

pytestmark = pytest.mark.browser
Page = Any
ROW_HEIGHT = 35


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a store holding only the demo data."""
    yield from start_app(tmp_path_factory.mktemp("pipeline-app"), {})


def _no_error(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()


def _params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


def test_a_pipeline_run_on_one_axis_opens_its_jobs_and_compares_two_runs(demo_app: str, page: Page) -> None:
    page.goto(f"{demo_app}/pipeline?object=MANAGEMENT/1.json")
    wait_idle(page, "Pipeline")
    _no_error(page)
    main = page.locator('[data-testid="stMain"]')
    plot = main.locator(".js-plotly-plot").first
    expect(plot).to_be_visible(timeout=60_000)
    ticks = plot.locator(".ytick text").evaluate_all("els => els.map(e => e.textContent)")
    # TIMES stages and the jobs of every platform on one axis.
    for lane in ("stage · run", "stage · store", "puhti · 21538102", "mahti · 3459879", "roihu · 812360",
                 "lumi · 7340012"):
        assert lane in ticks, ticks
    assert plot.locator(".xaxislayer-above .xtick").count() > 1
    print(screenshot(page, "pipeline"))

    # The URL reopens the same run in a fresh session.
    context = page.context.browser.new_context(viewport={"width": 1440, "height": 1000})
    fresh = context.new_page()
    try:
        fresh.goto(page.url)
        wait_idle(fresh, "Pipeline")
        expect(fresh.get_by_role("combobox", name="Pipeline run (Management object)")).to_have_value(
            "MANAGEMENT/1.json")
    finally:
        context.close()

    # A job's row opens its job page, with the run, platform and Management object in the URL.
    table = main.locator('[data-testid="stDataFrame"]').first
    expect(table).to_contain_text("7340012", timeout=60_000)
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + ROW_HEIGHT * 1 + ROW_HEIGHT / 2)  # the first job (LUMI's 7340012)
    expect(page).to_have_url(re.compile(r"/job\?"), timeout=90_000)
    params = _params(page.url)
    wait_idle(page, f"Job {params['job'][0]}")
    assert params["object"] == ["MANAGEMENT/1.json"] and params["platform"] == ["lumi"]
    assert params["run"] == ["user-example-com-lumi-2024-05"]
    _no_error(page)

    # Two runs side by side: run 2 against run 1.
    page.goto(f"{demo_app}/pipeline?object=MANAGEMENT/2.json&compare=MANAGEMENT/1.json")
    wait_idle(page, "Pipeline")
    _no_error(page)
    expect(main.get_by_role("heading", name="MANAGEMENT/2.json against MANAGEMENT/1.json")).to_be_visible(
        timeout=90_000)
    expect(main.locator(".js-plotly-plot")).to_have_count(2, timeout=90_000)
    assert _params(page.url) == {"object": ["MANAGEMENT/2.json"], "compare": ["MANAGEMENT/1.json"]}
    print(screenshot(page, "pipeline-compare"))


def test_a_job_bar_in_the_timeline_opens_its_job_page(demo_app: str, page: Page) -> None:
    page.goto(f"{demo_app}/pipeline?object=MANAGEMENT/1.json")
    wait_idle(page, "Pipeline")
    plot = page.locator('[data-testid="stMain"] .js-plotly-plot').first
    expect(plot).to_be_visible(timeout=60_000)
    # The lane of Mahti's job 3459879: its tick's height is where its bars are drawn.
    tick = plot.locator(".ytick text", has_text="mahti · 3459879")
    expect(tick).to_have_count(1)
    tick_box = tick.bounding_box()
    lane_y = tick_box["y"] + tick_box["height"] / 2
    boxes = plot.locator(".bars .point path").evaluate_all(
        "els => els.map(e => { const b = e.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; })")
    bars = [b for b in boxes if b[2] > 2 and b[3] > 2 and b[1] <= lane_y <= b[1] + b[3]]
    assert bars, "a bar is drawn in the job's lane"
    x, y, width, height = max(bars, key=lambda b: b[2])  # its longest part: the run
    page.mouse.move(x + width / 2, y + height / 2)
    page.mouse.click(x + width / 2, y + height / 2)
    expect(page).to_have_url(re.compile(r"/job\?"), timeout=90_000)
    params = _params(page.url)
    assert params["job"] == ["3459879"] and params["platform"] == ["mahti"]
    assert params["object"] == ["MANAGEMENT/1.json"]
    wait_idle(page, "Job 3459879")
    _no_error(page)
