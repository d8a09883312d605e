"""The real app in headless Chromium: every page, the upload flow, Management per platform, and real Swift."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from core.demo import demo_orchestration
from core.serialize import parquet_to_frame
from tests import samples
from tests.browser.conftest import screenshot, upload_sacct, wait_idle
from tests.conftest import OpenStack

pytestmark = pytest.mark.browser
Page = Any

PAGES = [
    ("", "Overview", "overview"),
    ("buckets", "Buckets", "buckets"),
    ("management", "Management", "management"),
    ("times", "Times", "times"),
    ("sacct", "SACCT", "sacct"),
    ("upload", "Upload sacct", "upload"),
    ("logs", "Logs", "logs"),
    ("sign-in", "Sign in", "sign-in"),
]


def _no_error(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()


def _nav(page: Page, label: str) -> None:
    """Follow a sidebar link (same browser session, unlike typing a URL)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=label, exact=True).click()
    wait_idle(page, label)


@pytest.mark.parametrize(("path", "title", "shot"), PAGES, ids=[p[2] for p in PAGES])
def test_every_page_renders_with_demo_data(app_server: str, page: Page, path: str, title: str, shot: str) -> None:
    page.goto(f"{app_server}/{path}")
    wait_idle(page, title)
    _no_error(page)
    sidebar = page.locator('[data-testid="stSidebarUserContent"]').inner_text()
    assert "Local store" in sidebar and "local demo" in sidebar
    main = page.locator('[data-testid="stMain"]')
    if title == "Buckets":
        expect(main.locator('[data-testid="stDataFrame"]').first).to_contain_text("mlch-for-air")
    elif title in ("Times", "SACCT"):
        expect(page.locator(".js-plotly-plot")).to_have_count(2 if title == "Times" else 1)  # SACCT: one view
    elif title == "Logs":  # the newest job's log: Puhti's training of run 3, still running
        expect(main.locator('[data-testid="stCode"]').last).to_contain_text("Job 21545020 on r13g07")
    elif title == "Sign in":
        assert page.get_by_text("Local store (demo data)").is_visible()
    print(screenshot(page, shot))


def test_management_shows_every_platforms_jobs(app_server: str, page: Page) -> None:
    page.goto(f"{app_server}/management")
    wait_idle(page, "Management")
    _no_error(page)
    orchestration = demo_orchestration(3)  # the newest object: run 3, under way
    for name in ("puhti", "mahti", "roihu", "lumi"):
        page.get_by_role("tab", name=name).click()
        panel = page.get_by_role("tabpanel", name=name)
        table = panel.locator('[data-testid="stDataFrame"]').first
        # A tab click reruns the page (the tab is in the URL); its tables come back after that run.
        expect(table).to_contain_text(orchestration.platforms[name].jobs[0].path, timeout=30_000)
        shown = table.text_content()
        for job in orchestration.platforms[name].jobs:
            assert job.path in shown
            if job.id != "None":
                assert job.id in shown
        assert "Workspaces" in panel.inner_text()
    page.get_by_role("tab", name="mahti").click()
    mahti = page.get_by_role("tabpanel", name="mahti").locator('[data-testid="stDataFrame"]').first
    for status in ("running", "started"):
        expect(mahti).to_contain_text(status, timeout=30_000)
    print(screenshot(page, "management-mahti"))


def test_upload_a_sacct_file_then_see_its_jobs_chart_and_stored_object(
    app_server: str, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{app_server}/upload")
    wait_idle(page, "Upload sacct")
    upload_sacct(page, samples.sacct("09_tdhock_parsable2_multiuser.txt"), run="browser check",
                 parsed="572 rows in parsable2 format")
    _no_error(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main.locator('[data-testid="stDataFrame"]').first).to_contain_text("30016111_1")
    expect(page.locator(".js-plotly-plot")).to_have_count(2)  # state counts and efficiency
    page.get_by_role("button", name="Store").click()
    page.get_by_text(re.compile(r"as version 1\.")).wait_for()
    print(screenshot(page, "upload"))

    _nav(page, "Buckets")
    page.get_by_role("button", name="ARTIFACTS/").click()
    wait_idle(page)
    page.get_by_role("button", name="SACCT/").click()
    wait_idle(page)
    objects = main.locator('[data-testid="stDataFrame"]').nth(1)
    expect(objects).to_contain_text("user-example-com-browser-check.parquet")
    # A row click opens the object; in name order it is first, before the demo's four runs (…-lumi-2024-05 …).
    objects.scroll_into_view_if_needed()
    box = objects.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 35 * 1 + 17)
    name = "mlch-for-air/ARTIFACTS/SACCT/user-example-com-browser-check.parquet"
    page.get_by_text(name, exact=True).wait_for()
    wait_idle(page)
    _no_error(page)
    expect(main.locator('[data-testid="stDataFrame"]').nth(3)).to_contain_text("version")
    with page.expect_download() as download:
        page.locator('[data-testid="stDownloadButton"]').get_by_role("button", name="Download").click()
    saved = tmp_path / "run.parquet"
    download.value.save_as(saved)
    assert len(parquet_to_frame(saved.read_bytes())) == 572
    print(screenshot(page, "buckets-object"))

    _nav(page, "SACCT")
    _no_error(page)
    expect(page.locator('[data-testid="stMultiSelect"]').first).to_contain_text("user-example-com-browser-check")


@pytest.mark.swift
def test_sign_in_and_upload_against_real_swift(swift_app_server: str, openstack: OpenStack, page: Page) -> None:
    alice = openstack.users[0]
    page.goto(swift_app_server)
    wait_idle(page, "Overview")
    assert "Sign in" in page.locator('[data-testid="stMain"]').inner_text()
    _nav(page, "Sign in")
    page.get_by_role("textbox", name="Password").fill(alice.password)
    assert page.get_by_role("textbox", name="User name").input_value() == alice.username  # pre-filled from the settings
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("stAlertContentSuccess").get_by_text(f"Signed in as {alice.username}").wait_for()
    assert page.get_by_role("textbox", name="Password").input_value() == ""
    assert alice.password not in page.content()
    print(screenshot(page, "sign-in-swift"))

    _nav(page, "Upload sacct")
    upload_sacct(page, samples.sacct("01_hyak_default_fixedwidth.txt"), run="hyak",
                 parsed="2,292 rows in fixed-width format")
    page.get_by_role("button", name="Store").click()
    page.get_by_text(re.compile(r"as version 1\.")).wait_for()
    meta = openstack.store_for(alice).head_object("mlch-for-air", "ARTIFACTS/SACCT/user-example-com-hyak.parquet")
    assert meta.custom["version"] == 1

    _nav(page, "Buckets")
    _no_error(page)
    assert "Swift" in page.locator('[data-testid="stSidebarUserContent"]').inner_text()
    expect(page.locator('[data-testid="stDataFrame"]').first).to_contain_text("mlch-for-air")
    print(screenshot(page, "buckets-swift"))
    assert alice.password not in page.content()
