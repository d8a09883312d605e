"""An array's summary and sweep advice on the SACCT page in Chromium; the URL reopens the chosen sweep, and the
array's job page shows the same summary."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from core.sacct import parse_sacct
from core.serialize import frame_to_parquet
from tests.browser.conftest import TIMEOUT_MS, demo_store, screenshot, start_app, wait_idle
from tests.core.sacct.test_sweeps import array_text

pytestmark = pytest.mark.browser
Page = Any
RUN = "user-example-com-sweep-lr"


@pytest.fixture(scope="module")
def sweep_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a local store holding, besides the demo, a 40-task array with a failed and an OOM task."""
    workdir = tmp_path_factory.mktemp("sweep-app")
    demo_store(workdir).put_object("mlch-for-air", f"ARTIFACTS/SACCT/{RUN}.parquet",
                                   frame_to_parquet(parse_sacct(array_text()).frame),
                                   metadata={"version": 1, "platform": "mahti"})
    yield from start_app(workdir, {})


def test_sacct_shows_an_arrays_summary_and_sweep_advice(sweep_app: str, page: Page) -> None:
    page.goto(f"{sweep_app}/sacct?runs={RUN}&view=Sweeps")
    wait_idle(page, "SACCT")
    main = page.get_by_test_id("stMain")
    picker = main.get_by_role("combobox", name="Sweep")
    # The first look waits as long as the page may take on a loaded machine; the rest is then on screen.
    expect(picker).to_have_value(f"array 700 (sweep-lr) in {RUN}: 40 tasks", timeout=TIMEOUT_MS)
    expect(main.get_by_text(re.compile(r"^--time=00:56:00: covers 95% of the 38 tasks"))).to_be_visible()
    expect(main.get_by_text(re.compile(r"^--mem=6G: covers 95% of the 40 finished tasks"))).to_be_visible()
    chart = main.locator(".js-plotly-plot").first
    expect(chart).to_be_visible()
    expect(chart.locator(".legendtext", has_text="OUT_OF_MEMORY")).to_be_visible()
    expect(chart.locator(".gtitle", has_text="Runtime of the 40 tasks with an Elapsed")).to_be_visible()
    screenshot(page, "sacct-sweeps")

    picker.click()
    page.get_by_role("option", name=f"jobs named prep in {RUN}: 3 tasks").click()
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"sweep=user-example-com-sweep-lr%2Fname%2Fprep"), timeout=TIMEOUT_MS)
    expect(main.get_by_text("No task failed.")).to_be_visible()
    page.goto(page.url)  # the URL reopens the chosen sweep
    wait_idle(page, "SACCT")
    expect(page.get_by_test_id("stMain").get_by_role("combobox", name="Sweep")).to_have_value(
        f"jobs named prep in {RUN}: 3 tasks", timeout=TIMEOUT_MS)


def test_the_arrays_job_page_shows_its_summary(sweep_app: str, page: Page) -> None:
    page.goto(f"{sweep_app}/sacct?runs={RUN}&view=Sweeps")
    wait_idle(page, "SACCT")
    page.get_by_role("link", name="Job page of array 700").click()
    wait_idle(page, "Job 700")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Array: 40 tasks")).to_be_visible(timeout=TIMEOUT_MS)
    expect(main.get_by_text(re.compile(r"^--time=00:56:00: covers 95%"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"/job\?job=700&run=user-example-com-sweep-lr"))
