"""Every asset of the page comes from the app: the favicon (page icon) included, which Chromium fetches outside the
page's own requests (so the outside-host guard of the ``page`` fixture cannot see it)."""

from __future__ import annotations

import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.browser.conftest import APP_HOSTS, wait_idle

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/", "/sacct", "/job?job=3459879"])
def test_the_page_icon_is_served_by_the_app(app_server: str, page: Any, path: str) -> None:
    page.goto(app_server + path)
    wait_idle(page)
    icons = page.eval_on_selector_all('link[rel~="icon"]', "links => links.map(l => l.href)")
    assert icons, "the page has an icon"
    for href in icons:
        parts = urllib.parse.urlsplit(href)
        assert parts.scheme == "data" or parts.hostname in APP_HOSTS, href
        if parts.scheme != "data":
            with urllib.request.urlopen(href, timeout=10) as response:
                assert response.status == 200 and response.read(), href
