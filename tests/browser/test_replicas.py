"""Two app replicas on different ports against the same Swift, each driven by its own browser session."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from core.sacct import parse_sacct
from core.services.sacct import list_runs
from core.services.upload import store_run
from core.settings import load_settings
from stack.app import serve
from tests import samples
from tests.browser.conftest import upload_sacct, wait_idle
from tests.conftest import OpenStack

pytestmark = [pytest.mark.browser, pytest.mark.swift]
Page = Any


@pytest.fixture()
def second_page(browser: Any) -> Iterator[Page]:
    """Another browser context: another user's session, on the other replica."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


def _nav(page: Page, label: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=label, exact=True).click()
    wait_idle(page, label)


def _sign_in(page: Page, url: str, openstack: OpenStack) -> None:
    alice = openstack.users[0]
    page.goto(f"{url}/sign-in")
    wait_idle(page, "Sign in")
    page.get_by_role("textbox", name="Password").fill(alice.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("stAlertContentSuccess").get_by_text(f"Signed in as {alice.username}").wait_for()


def _no_error(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    errors = page.get_by_test_id("stAlertContentError")
    assert errors.count() == 0, errors.all_inner_texts()


def test_a_run_stored_through_one_replica_appears_in_the_other_and_a_restart_leaves_the_other_alone(
    openstack: OpenStack, page: Page, second_page: Page, tmp_path: Path
) -> None:
    env = {k: v for k, v in openstack.info.env_for(openstack.users[0]).items() if k != "CSC_PASSWORD"}
    run = f"replica-{int(time.time())}"
    # A run stored earlier, so replica two's session has runs to choose from before the new one exists.
    store, settings = openstack.store_for(openstack.users[0]), load_settings(None, env)
    store_run(store, settings, run.replace("replica", "earlier"),
              parse_sacct(samples.sacct("09_tdhock_parsable2_multiuser.txt").read_bytes()))
    with serve(tmp_path / "one", env) as one, serve(tmp_path / "two", env) as two:
        assert one.url != two.url
        _sign_in(page, one.url, openstack)
        _sign_in(second_page, two.url, openstack)
        _nav(second_page, "SACCT")  # the other replica's session is open before the run exists

        _nav(page, "Upload sacct")
        upload_sacct(page, samples.sacct("09_tdhock_parsable2_multiuser.txt"), run=run,
                     parsed="572 rows in parsable2 format", store=True)
        page.get_by_text(re.compile(r"as version 1\.")).wait_for()

        # Swift lists an object once its container is updated, which can lag on a busy machine: wait for that.
        deadline = time.monotonic() + 60
        while not any(run in r.name for r in list_runs(store, settings)) and time.monotonic() < deadline:
            time.sleep(0.5)
        _nav(second_page, "Buckets")
        _nav(second_page, "SACCT")
        _no_error(second_page)
        # The session keeps the runs it chose before the new one existed, so the new run is one of the options.
        runs_box = second_page.locator('[data-testid="stMultiSelect"]').first
        expect(runs_box).not_to_contain_text(run)
        runs_box.locator("input").click()
        runs_box.locator("input").fill(run)
        second_page.get_by_role("option", name=re.compile(re.escape(run))).click()
        # The open list makes the rest of the page inert to the accessibility tree: close it before navigating on.
        second_page.keyboard.press("Escape")
        second_page.get_by_role("heading", name="SACCT", exact=True).click()
        expect(second_page.get_by_role("listbox")).to_have_count(0)
        wait_idle(second_page)
        expect(runs_box).to_contain_text(run)
        _no_error(second_page)

        # Replica one goes away and comes back on the same port; replica two's session does not notice.
        port = int(one.url.rsplit(":", 1)[1])
        one.stop()
        for label in ("Times", "Logs", "SACCT"):
            _nav(second_page, label)
            _no_error(second_page)
        sidebar = second_page.locator('[data-testid="stSidebarUserContent"]').inner_text()
        assert "Swift" in sidebar and openstack.users[0].username in sidebar
        with serve(tmp_path / "one-again", env, port=port) as again:
            assert again.process.pid != one.process.pid
            _nav(second_page, "Buckets")
            _no_error(second_page)
            expect(second_page.locator('[data-testid="stDataFrame"]').first).to_contain_text("mlch-for-air")
            # The restarted replica starts sessions afresh: signing in there works again.
            _sign_in(page, again.url, openstack)
            _nav(page, "SACCT")
            _no_error(page)
