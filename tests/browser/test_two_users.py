"""Two users of the real Swift + Keystone at once, in two browser contexts of the served app: neither sees the
other's buckets, objects, cached data or credentials (same page, same bucket names), and no password or token
reaches any rendered page or the app's log in a full signed-in session."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from stack import User
from tests.browser.conftest import ServedApp, upload_sacct, wait_idle
from tests.conftest import OpenStack

pytestmark = [pytest.mark.browser, pytest.mark.swift]
Page = Any
#: Every Keystone token of the stack is a Fernet token: they all start like this.
TOKEN_PREFIX = "gAAAAA"
SACCT = "JobID|JobName|State|Elapsed|TotalCPU|AllocCPUS\n{job}|{name}|COMPLETED|00:10:00|00:09:00|1\n"


def _sign_in(page: Page, url: str, user: User) -> None:
    page.goto(f"{url}/sign-in")
    wait_idle(page, "Sign in")
    page.get_by_role("textbox", name="User name", exact=True).fill(user.username)
    page.get_by_role("textbox", name="Password", exact=True).fill(user.password)
    page.get_by_role("textbox", name="Project", exact=True).fill(user.project)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("stAlertContentSuccess").get_by_text(f"Signed in as {user.username}").wait_for()


def _nav(page: Page, label: str) -> None:
    """Follow a sidebar link: the same browser session (a new URL would start a new, signed-out one)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=label, exact=True).click()
    wait_idle(page)


def _store_run(page: Page, run: str, job: str) -> None:
    _nav(page, "Upload sacct")
    upload_sacct(page, SACCT.format(job=job, name=f"job-of-{run}"), run=run, store=True)
    expect(page.locator('[data-testid="stMain"]')).to_contain_text("as version 1")


def _visit_every_page(page: Page) -> list[str]:
    """Follow every sidebar link in this session; the rendered HTML of each page."""
    nav = page.locator('[data-testid="stSidebarNav"]')
    labels = [label.strip().split("\n")[-1].strip() for label in nav.get_by_role("link").all_inner_texts()]
    assert len(labels) >= 6, labels
    html = []
    for label in labels:
        nav.get_by_role("link", name=label, exact=True).click()
        wait_idle(page)
        page.locator('[data-testid="stMain"] h1').first.wait_for()  # the page itself, not a fixed second
        assert page.locator('[data-testid="stException"]').count() == 0, label
        html.append(page.content())
    return html


def test_two_users_never_see_each_others_data_and_no_secret_is_rendered_or_logged(
    openstack: OpenStack, served_swift_app: ServedApp, browser: Any
) -> None:
    alice, bob = openstack.users[0], openstack.users[1]
    url = served_swift_app.url
    contexts = [browser.new_context(viewport={"width": 1440, "height": 1000}) for _ in range(2)]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.set_default_timeout(180_000)
        a, b = pages
        _sign_in(a, url, alice)
        _sign_in(b, url, bob)
        _store_run(a, "only-alice", "111111")
        _store_run(b, "only-bob", "222222")

        # Both on the same page with the same bucket names (each project has its own mlch-for-air).
        for page in pages:
            page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="SACCT", exact=True).click()
        rendered = {}
        for page, own, other in ((a, "only-alice", "only-bob"), (b, "only-bob", "only-alice")):
            wait_idle(page, "SACCT")
            main = page.locator('[data-testid="stMain"]')
            expect(main).to_contain_text(own)
            assert other not in main.inner_text()
            _nav(page, "Buckets")
            page.get_by_role("button", name="ARTIFACTS/").click()
            wait_idle(page)
            page.get_by_role("button", name="SACCT/").click()
            wait_idle(page)
            expect(main.locator('[data-testid="stDataFrame"]').last).to_contain_text(own)
            assert other not in main.inner_text()
            rendered[own] = _visit_every_page(page)
            sidebar = page.locator('[data-testid="stSidebarUserContent"]').inner_text()
            assert (alice.username if own == "only-alice" else bob.username) in sidebar
            assert (bob.username if own == "only-alice" else alice.username) not in sidebar

        secrets = [alice.password, bob.password, TOKEN_PREFIX]
        for own, pages_html in rendered.items():
            for html in pages_html:
                for secret in secrets:
                    assert secret not in html, f"a secret in a page of {own}"
        log = served_swift_app.log.read_text(errors="replace")
        assert "Signed in" in log or "GET" in log or len(log) > 0
        for secret in secrets:
            assert secret not in log
    finally:
        for context in contexts:
            context.close()
