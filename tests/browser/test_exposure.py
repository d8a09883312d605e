"""Clickjacking: every HTTP response of the served app (dashboard/serve.py) forbids framing, the app works behind
the headers, and a page that frames it gets nothing."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ServedApp, wait_idle

pytestmark = pytest.mark.browser
Page = Any


@pytest.mark.parametrize("path", ["/", "/sign-in", "/_stcore/health", "/static/no-such-file.js"])
def test_every_response_forbids_framing(served_app: ServedApp, path: str) -> None:
    request = urllib.request.Request(served_app.url + path)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            headers = response.headers
    except urllib.error.HTTPError as error:  # a 404 must carry the headers too
        headers = error.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_the_app_works_behind_the_headers_and_a_framing_page_gets_nothing(served_app: ServedApp,
                                                                           page: Page) -> None:
    page.goto(f"{served_app.url}/buckets")
    wait_idle(page, "Buckets")
    assert page.locator('[data-testid="stException"]').count() == 0
    expect(page.locator('[data-testid="stDataFrame"]').first).to_contain_text("mlch-for-air")

    page.set_content(f'<iframe id="framed" src="{served_app.url}/buckets" width="900" height="600"></iframe>')
    framed = next(f for f in page.frames if f != page.main_frame)
    framed.wait_for_load_state("load")  # the frame's own document, whatever it is, has loaded
    # Chromium refuses to render a page whose headers forbid framing: the frame holds its error page, not the app
    # (an app that loaded would keep its own URL, whether or not it had drawn itself yet).
    assert framed.url.startswith("chrome-error://"), framed.url
    assert framed.locator('[data-testid="stApp"]').count() == 0
