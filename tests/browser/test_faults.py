"""Faults of the real Keystone and Swift, seen through the pages in Chromium.

The app runs as its own process against the test stack, with a fault proxy in front of Keystone (the app's
``CSC_AUTH_URL``) and one in front of Swift on the port Keystone's catalog advertises (``interposed``), so each
service can be cut off, slowed down or watched while a browser session goes on.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pandas.testing import assert_frame_equal

from core.demo import seed_demo
from core.services.sacct import forwarder_bucket, load_run
from core.services.upload import run_object
from core.settings import load_settings
from core.store.versioning import list_version_entries
from stack.app import App, serve
from stack.faultproxy import FaultProxy, interposed
from tests import samples
from tests.browser.conftest import upload_sacct, wait_idle
from tests.conftest import OpenStack

pytestmark = [pytest.mark.browser, pytest.mark.swift]
Page = Any
#: Pages that read storage when they open, by their sidebar label.
STORAGE_PAGES = ("Overview", "Buckets", "Management", "Times", "SACCT", "Logs")


@dataclass
class Faulty:
    """The app and the fault proxies in front of its services."""

    app: App
    keystone: FaultProxy
    swift: FaultProxy
    #: X-Auth-Token of every Swift request, in order.
    tokens: list[str] = field(default_factory=list)
    #: Called with every Swift request head (e.g. to kill an app at the moment it uploads); a number it returns is
    #: how many bytes of the request's body reach Swift before the connection breaks off.
    on_request: Callable[[bytes], int | None] | None = None

    def observe(self, head: bytes) -> int | None:
        token = re.search(rb"^x-auth-token:\s*(\S+)", head, re.IGNORECASE | re.MULTILINE)
        if token:
            self.tokens.append(token.group(1).decode())
        return self.on_request(head) if self.on_request is not None else None


def _app_env(openstack: OpenStack) -> dict[str, str]:
    return {k: v for k, v in openstack.info.env_for(openstack.users[0]).items() if k != "CSC_PASSWORD"}


@pytest.fixture(scope="module")
def faulty(openstack: OpenStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faulty]:
    alice = openstack.users[0]
    seed_demo(openstack.store_for(alice), load_settings(None, openstack.info.env_for(alice)))
    holder: list[Faulty] = []
    with FaultProxy(openstack.info.ports["keystone"]) as keystone, \
            interposed(openstack.directory, observer=lambda head: holder[0].observe(head)) as swift:
        env = {**_app_env(openstack), "CSC_AUTH_URL": f"http://127.0.0.1:{keystone.port}/v3"}
        with serve(tmp_path_factory.mktemp("faults"), env) as app:
            holder.append(Faulty(app, keystone, swift))
            yield holder[0]


def _nav(page: Page, label: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=label, exact=True).click()


def _sign_in(page: Page, url: str, password: str) -> None:
    page.goto(f"{url}/sign-in")
    wait_idle(page, "Sign in")
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _signed_in(page: Page, url: str, openstack: OpenStack) -> None:
    alice = openstack.users[0]
    _sign_in(page, url, alice.password)
    page.get_by_test_id("stAlertContentSuccess").get_by_text(f"Signed in as {alice.username}").wait_for()


def _no_traceback(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def test_keystone_down_at_sign_in_is_a_clear_message_and_sign_in_works_once_it_returns(
    faulty: Faulty, openstack: OpenStack, page: Page
) -> None:
    alice = openstack.users[0]
    faulty.keystone.set_mode("down")
    try:
        _sign_in(page, faulty.app.url, alice.password)
        began = time.monotonic()
        error = page.get_by_test_id("stAlertContentError")
        error.wait_for(timeout=15_000)
        assert time.monotonic() - began <= 15
        text = error.inner_text()
        assert "Keystone" in text and "did not answer" in text, text
        _no_traceback(page)
        # Until the run ends, the browser may still hold the submitted form's field (marked stale); once it ends
        # the field is a new, empty one.
        wait_idle(page)
        assert alice.password not in page.content()
    finally:
        faulty.keystone.set_mode("pass")
    page.get_by_role("textbox", name="Password").fill(alice.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("stAlertContentSuccess").get_by_text(f"Signed in as {alice.username}").wait_for()


def test_swift_down_mid_session_each_page_says_so_then_recovers_without_a_restart(
    faulty: Faulty, openstack: OpenStack, page: Page
) -> None:
    _signed_in(page, faulty.app.url, openstack)
    pid = faulty.app.process.pid
    faulty.swift.set_mode("down")
    try:
        for label in STORAGE_PAGES:
            began = time.monotonic()
            _nav(page, label)
            error = page.get_by_test_id("stAlertContentError").first
            error.wait_for(timeout=10_000)
            assert time.monotonic() - began <= 10, label
            text = error.inner_text()
            assert "unavailable" in text or "did not answer" in text, (label, text)
            _no_traceback(page)
    finally:
        faulty.swift.set_mode("pass")
    for label in STORAGE_PAGES:
        _nav(page, label)
        wait_idle(page, label)
        errors = page.get_by_test_id("stAlertContentError")
        assert errors.count() == 0, (label, errors.all_inner_texts())
        _no_traceback(page)
    assert faulty.app.process.pid == pid and faulty.app.process.poll() is None


def test_slow_swift_shows_progress_and_every_page_finishes(faulty: Faulty, openstack: OpenStack, page: Page) -> None:
    _signed_in(page, faulty.app.url, openstack)
    faulty.swift.set_mode("pass", delay=(2.0, 5.0))
    try:
        for label in ("Times", "Logs", "Management"):
            began = time.monotonic()
            _nav(page, label)
            spinner = page.locator('[data-testid="stMain"] [data-testid="stSpinner"]').first
            spinner.wait_for(state="visible", timeout=5_000)
            assert time.monotonic() - began <= 5, label
            spinner.wait_for(state="detached", timeout=90_000)
            wait_idle(page, label)
            assert time.monotonic() - began <= 90, label
            _no_traceback(page)
    finally:
        faulty.swift.set_mode("pass", delay=0.0)


def _revoke(auth_url: str, token: str) -> None:
    request = urllib.request.Request(f"{auth_url}/auth/tokens", method="DELETE",
                                     headers={"X-Auth-Token": token, "X-Subject-Token": token})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204


def _swift_status(url: str, token: str) -> int:
    request = urllib.request.Request(url, method="HEAD", headers={"X-Auth-Token": token})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_revoked_token_is_renewed_while_management_auto_refreshes(
    faulty: Faulty, openstack: OpenStack, page: Page
) -> None:
    _signed_in(page, faulty.app.url, openstack)
    _nav(page, "Management")
    wait_idle(page, "Management")
    page.get_by_text("Auto-refresh every 30 s").click()
    wait_idle(page)
    token = faulty.tokens[-1]
    _revoke(openstack.auth_url, token)
    storage_url = openstack.store_for(openstack.users[0]).storage_url
    assert _swift_status(storage_url, token) == 401  # Swift refuses the revoked token from now on
    seen = len(faulty.tokens)
    deadline = time.monotonic() + 75  # two auto-refresh periods
    while time.monotonic() < deadline and not any(t != token for t in faulty.tokens[seen:]):
        page.wait_for_timeout(1000)
    renewed = [t for t in faulty.tokens[seen:] if t != token]
    assert renewed, "no request with a renewed token within two refresh periods"
    assert _swift_status(storage_url, renewed[-1]) in (200, 204)
    page.wait_for_timeout(2000)
    errors = page.get_by_test_id("stAlertContentError")
    assert errors.count() == 0, errors.all_inner_texts()
    assert page.get_by_role("link", name="Sign in again").count() == 0
    _no_traceback(page)


def test_the_app_killed_during_an_upload_leaves_the_previous_version_intact(
    faulty: Faulty, openstack: OpenStack, page: Page, tmp_path: Path
) -> None:
    alice = openstack.users[0]
    store = openstack.store_for(alice)
    settings = load_settings(None, openstack.info.env_for(alice))
    run = f"killed-{int(time.time())}"
    bucket, name = forwarder_bucket(settings), run_object(settings, run)
    with serve(tmp_path / "app", _app_env(openstack)) as app:
        _signed_in(page, app.url, openstack)
        _nav(page, "Upload sacct")
        wait_idle(page, "Upload sacct")
        upload_sacct(page, samples.sacct("09_tdhock_parsable2_multiuser.txt"), run=run,
                     parsed="572 rows in parsable2 format")
        page.get_by_role("button", name="Store").click()
        page.get_by_text(re.compile(r"as version 1\.")).wait_for()
        before = load_run(store, bucket, name)
        assert len(before) == 572
        versions = [v.entry.name for v in list_version_entries(store, bucket, name)]
        assert len(versions) == 1

        upload_sacct(page, samples.sacct("05_torchx_hetjob_parsable.txt"), run=run, parsed="rows in parsable format")
        killed: list[str] = []

        def kill_at_upload(head: bytes) -> int | None:
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            size = re.search(rb"^content-length:\s*(\d+)", head, re.IGNORECASE | re.MULTILINE)
            if line.startswith("PUT ") and run in line and size and int(size.group(1)) > 1000 and not killed:
                killed.append(line)
                app.stop(kill=True)  # SIGKILL while the run's data is on its way to Swift
                return int(size.group(1)) // 2  # Swift receives the head and half the body, then the cut
            return None

        faulty.on_request = kill_at_upload
        try:
            page.get_by_role("button", name="Store").click()
            confirm = page.get_by_role("button", name="Store as a new version")
            deadline, confirmed = time.monotonic() + 60, False
            while not killed and time.monotonic() < deadline:
                if not confirmed and confirm.count():  # once: a dead app's buttons are disabled
                    confirm.click()
                    confirmed = True
                page.wait_for_timeout(500)
        finally:
            faulty.on_request = None
        assert killed, "the app made no upload of the run to kill"
        assert app.process.wait(timeout=30) == -9  # SIGKILL: no clean-up ran
        deadline = time.monotonic() + 10
        while not (cut := [sent for line, sent in faulty.swift.cut_requests if line == killed[0]]) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cut and cut[0] > 0, faulty.swift.cut_requests  # Swift had part of the new data when the app died

    # The cut upload left nothing: the same stored versions, the run as it was.
    assert [v.entry.name for v in list_version_entries(store, bucket, name)] == versions

    assert_frame_equal(load_run(store, bucket, name), before)
    with serve(tmp_path / "restarted", _app_env(openstack)) as app:
        _signed_in(page, app.url, openstack)
        _nav(page, "SACCT")
        wait_idle(page, "SACCT")
        errors = page.get_by_test_id("stAlertContentError")
        assert errors.count() == 0, errors.all_inner_texts()
        _no_traceback(page)
