"""Hostile input through the served app in Chromium: odd files and names get a clear message, markup from data is
shown as text (no script runs, nothing is fetched from the address in the data), the session keeps working and
stored data does not change unless a valid run is stored."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from core.demo import demo_orchestration
from core.sacct import parse_sacct
from core.serialize import dump_management, frame_to_parquet
from core.store.local import LocalStore
from tests.browser.conftest import ServedApp, upload_sacct, wait_idle

pytestmark = pytest.mark.browser
Page = Any
#: An unused loopback address: a request to it means data was rendered as an image or followed as a link.
TRAP = "127.0.0.66"
SCRIPT = f'<img src="http://{TRAP}:9/x.png" onerror="alert(1)"><script>alert(2)</script>'
LINKS = f"![leak](http://{TRAP}:9/md.png) [click](http://{TRAP}:9/) <a href='http://{TRAP}:9/a'>a</a>"
FORWARDER, SUBMITTER = "mlch-for-air", "mlch-sub-air-user-example-com"
SACCT = "JobID|JobName|State|Elapsed|TotalCPU|AllocCPUS\n1|train|COMPLETED|00:10:00|00:09:00|1\n"


@dataclass
class Watch:
    """Dialogs the page opened and requests it made to the trap address."""

    dialogs: list[str] = field(default_factory=list)
    trapped: list[str] = field(default_factory=list)


@pytest.fixture()
def watched(page: Page) -> Iterator[tuple[Page, Watch]]:
    watch = Watch()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda request: watch.trapped.append(request.url) if TRAP in request.url else None)
    yield page, watch


def _snapshot(root: Path) -> dict[str, tuple[bytes, dict[str, Any]]]:
    """Every stored object: its bytes and custom metadata (what a page must never change)."""
    store = LocalStore(root)
    return {f"{b.name}/{o.name}": (data, dict(meta.custom))
            for b in store.list_buckets() for o in store.iter_objects(b.name)
            for meta, data in [store.get_object(b.name, o.name)]}


def _no_crash(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Connection error" not in page.locator("body").inner_text()


def _no_markup(page: Page, watch: Watch) -> None:
    page.wait_for_timeout(500)
    assert watch.dialogs == []
    assert watch.trapped == []
    assert page.locator(f'img[src*="{TRAP}"], a[href*="{TRAP}"], image[href*="{TRAP}"]').count() == 0
    assert page.locator('script:text("alert")').count() == 0


@pytest.mark.parametrize(("name", "data", "message"), [
    ("empty.txt", b"", "the input is empty"),
    ("random.bin", bytes(range(256)) * 16, "binary data"),
    ("utf16.txt", SACCT.encode("utf-16"), "1 row in parsable2 format"),
    ("utf16le.txt", SACCT.encode("utf-16-le"), "1 row in parsable2 format"),
    ("latin1.txt", SACCT.replace("train", "café").encode("latin-1"), "not UTF-8"),
    ("crlf.txt", SACCT.replace("\n", "\r\n").encode(), "1 row in parsable2 format"),
    ("too-big.txt", b"x" * (2 * 2**20), "1.0MB"),
], ids=["empty", "binary", "utf16", "utf16-no-bom", "latin1", "crlf", "over-the-limit"])
def test_odd_files_get_a_clear_message_and_change_nothing(served_app: ServedApp, watched: tuple[Page, Watch],
                                                          tmp_path: Path, name: str, data: bytes,
                                                          message: str) -> None:
    page, watch = watched
    page.goto(f"{served_app.url}/upload")
    wait_idle(page, "Upload sacct")  # the first page seeds the demo store
    before = _snapshot(served_app.store)
    (tmp_path / name).write_bytes(data)
    upload_sacct(page, tmp_path / name)
    expect(page.locator('[data-testid="stMain"]')).to_contain_text(message)
    _no_crash(page)
    _no_markup(page, watch)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Buckets", exact=True).click()
    wait_idle(page, "Buckets")  # the session goes on
    _no_crash(page)
    assert _snapshot(served_app.store) == before


@pytest.mark.parametrize("run", ["../escape", "a/b", "nul\x00name", "r" * 1000, "<b>bold</b>"],
                         ids=["dotdot", "slash", "nul", "1000-chars", "html"])
def test_odd_run_names_are_refused_with_a_message_and_nothing_stored(
    served_app: ServedApp, watched: tuple[Page, Watch], run: str
) -> None:
    page, watch = watched
    page.goto(f"{served_app.url}/upload")
    wait_idle(page, "Upload sacct")  # the first page seeds the demo store
    before = _snapshot(served_app.store)
    upload_sacct(page, SACCT, run=run, store=True)
    expect(page.locator('[data-testid="stMain"]')).to_contain_text("a run name is 1-80 letters")
    _no_crash(page)
    _no_markup(page, watch)
    assert _snapshot(served_app.store) == before


@pytest.mark.parametrize("query", [
    {"bucket": FORWARDER, "prefix": "../../", "object": "../../../etc/passwd"},
    {"bucket": "../" + FORWARDER, "object": "a/b"},
    {"bucket": FORWARDER, "object": "nul\x00name"},
    {"bucket": FORWARDER, "object": "o" * 1000},
], ids=["dotdot", "bucket-dotdot", "nul", "1000-chars"])
def test_odd_names_in_a_link_get_a_message(served_app: ServedApp, watched: tuple[Page, Watch],
                                           query: dict[str, str]) -> None:
    page, watch = watched
    page.goto(f"{served_app.url}/buckets")
    wait_idle(page, "Buckets")  # the first page seeds the demo store
    before = _snapshot(served_app.store)
    page.goto(f"{served_app.url}/buckets?{urllib.parse.urlencode(query)}")
    wait_idle(page, "Buckets")
    _no_crash(page)
    alerts = page.locator('[data-testid="stAlert"]')
    expect(alerts.first).to_be_visible()
    assert any(word in " ".join(alerts.all_inner_texts()) for word in ("not there", "Could not", "invalid"))
    _no_markup(page, watch)
    assert _snapshot(served_app.store) == before


def test_markup_in_job_names_object_names_metadata_and_management_is_text(
    served_app: ServedApp, watched: tuple[Page, Watch]
) -> None:
    page, watch = watched
    page.goto(f"{served_app.url}/buckets")
    wait_idle(page, "Buckets")  # the first page seeds the demo store
    store = LocalStore(served_app.store)
    text = f"JobID|JobName|State|Elapsed|TotalCPU|AllocCPUS\n7|{SCRIPT}|FAILED|00:10:00|00:01:00|2\n" \
           f"8|{LINKS}|COMPLETED|00:20:00|00:19:00|1\n"
    run_object = "ARTIFACTS/SACCT/user-example-com-zz-hostile.parquet"
    store.put_object(FORWARDER, run_object, frame_to_parquet(parse_sacct(text).frame),
                     metadata={"note": LINKS, "script": SCRIPT.replace("\n", " ")})
    store.put_object(FORWARDER, "ARTIFACTS/![x](x.png) <b>b</b> [l](l.html)", b"hello")
    content = dump_management(demo_orchestration()).decode()
    store.put_object(SUBMITTER, "MANAGEMENT/zz-hostile.json",
                     content.replace('"lumi"', '"' + LINKS.replace('"', "'") + '"', 1).encode())

    page.goto(f"{served_app.url}/sacct?" + urllib.parse.urlencode({"runs": "user-example-com-zz-hostile"}))
    wait_idle(page, "SACCT")
    _no_crash(page)
    for view in ("Elapsed", "Timeline", "Table"):
        # The views are a segmented control: its options are radio buttons named by their text.
        button = page.get_by_role("radio", name=view, exact=True)
        expect(button).to_have_count(1)  # every view is offered: a vanished button fails, not passes
        button.click()
        wait_idle(page)
        _no_crash(page)
        _no_markup(page, watch)
    page.goto(f"{served_app.url}/buckets?" + urllib.parse.urlencode(
        {"bucket": FORWARDER, "prefix": "ARTIFACTS/SACCT/", "object": run_object}))
    wait_idle(page, "Buckets")
    expect(page.locator('[data-testid="stMain"]')).to_contain_text("zz-hostile")
    _no_crash(page)
    _no_markup(page, watch)
    page.goto(f"{served_app.url}/buckets?" + urllib.parse.urlencode({"bucket": FORWARDER, "prefix": "ARTIFACTS/"}))
    wait_idle(page, "Buckets")
    _no_crash(page)
    _no_markup(page, watch)
    page.goto(f"{served_app.url}/management?" + urllib.parse.urlencode({"object": "MANAGEMENT/zz-hostile.json"}))
    wait_idle(page, "Management")
    expect(page.locator('[data-testid="stMain"]')).to_contain_text("127.0.0.66")  # shown, as text
    _no_crash(page)
    _no_markup(page, watch)
    page.goto(f"{served_app.url}/upload")
    wait_idle(page, "Upload sacct")
    page.get_by_label("…or paste it here").fill(text)
    page.get_by_role("button", name="Parse").click()
    wait_idle(page)
    expect(page.locator('[data-testid="stMain"]')).to_contain_text("2 rows")
    _no_crash(page)
    _no_markup(page, watch)
