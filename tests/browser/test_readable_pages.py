"""Pages as a user reads them, in Chromium: sizes shown in binary units sort as numbers on a header click."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.store.local import LocalStore
from tests.browser.conftest import start_app, wait_idle
from tests.browser.test_sacct_tables import VIEWPORT, _click, _first_rows, _header_spans, _headers

pytestmark = pytest.mark.browser
Page = Any

#: Object sizes whose text (0 B, 2.12 MiB, 14.29 KiB, 46.95 KiB) sorts in another order than their numbers.
SIZES = {"a-empty.bin": 0, "b-big.bin": 2_222_981, "c-small.bin": 14_633, "d-medium.bin": 48_077}


@pytest.fixture(scope="module")
def sizes_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a local store holding the bucket ``zz-sizes`` with one object of each of :data:`SIZES`."""
    workdir = tmp_path_factory.mktemp("sizes-app")
    store = LocalStore(workdir / "store")
    for name, size in SIZES.items():
        store.put_object("zz-sizes", name, b"x" * size)
    yield from start_app(workdir, {})


def test_a_header_click_sorts_object_sizes_as_numbers(sizes_app: str, page: Page) -> None:
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{sizes_app}/buckets?bucket=zz-sizes")
    wait_idle(page, "Buckets")
    table = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').nth(1)  # after the buckets
    headers = _headers(table)
    spans = _header_spans(page, table)
    name, size = headers.index("name"), headers.index("size")
    _click(page, table, spans[size])  # ascending
    page.wait_for_timeout(300)
    rows = _first_rows(page, table, len(SIZES))
    # 0 B < 14.29 KiB < 46.95 KiB < 2.12 MiB (as text: 0 B, 14.29 KiB, 2.12 MiB, 46.95 KiB)
    assert [r[name] for r in rows] == ["a-empty.bin", "c-small.bin", "d-medium.bin", "b-big.bin"]
    assert [float(r[size]) for r in rows] == [0, 14_633, 48_077, 2_222_981]
