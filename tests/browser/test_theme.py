"""The theme follows the browser's light or dark preference."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(params=["light", "dark"])
def scheme_page(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[str, Any]]:
    context = browser.new_context(viewport={"width": 1200, "height": 800}, color_scheme=request.param)
    page = context.new_page()
    try:
        yield request.param, page
    finally:
        context.close()


def test_the_app_follows_the_browsers_colour_scheme(app_server: str, scheme_page: tuple[str, Any]) -> None:
    scheme, page = scheme_page
    page.goto(f"{app_server}/buckets")
    wait_idle(page, "Buckets")
    background = page.locator('[data-testid="stApp"]').evaluate("e => getComputedStyle(e).backgroundColor")
    # .streamlit/config.toml: [theme.light] backgroundColor #ffffff, [theme.dark] backgroundColor #0e1419.
    assert background == {"light": "rgb(255, 255, 255)", "dark": "rgb(14, 20, 25)"}[scheme]
