"""Browser-test fixtures: the real app as a subprocess, driven by Debian's chromium through Playwright.

``app_server`` starts ``streamlit run dashboard/app.py`` on a free loopback port against a temporary local store
(demo data seeded by the app itself), waits for ``/_stcore/health`` and yields the base URL. ``swift_app_server``
does the same against the real Swift + Keystone of the ``openstack`` fixture. Screenshots go to a temporary folder,
or to ``$SCREENSHOTS_DIR`` when set: ``make screenshots`` sets it to ``docs/screenshots/`` (the README shows them),
so ``make test`` leaves the checkout clean.

Waits are for conditions (a heading, a message, the end of the app's run) with a generous limit
(``BROWSER_TIMEOUT_S``, default 180 s): a loaded 2-CPU machine is slow, not broken. A failed test keeps a Playwright
trace and a screenshot in its temporary folder; the failure report prints where.
"""

from __future__ import annotations

import os
import re
import shutil
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.demo import seed_demo
from core.settings import load_settings
from core.store.local import LocalStore
from stack.app import serve

ROOT = Path(__file__).resolve().parents[2]
#: The limit of every Playwright wait, in milliseconds.
TIMEOUT_MS = int(float(os.environ.get("BROWSER_TIMEOUT_S", "180")) * 1000)
_screenshots: list[Path] = []
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def demo_store(workdir: Path) -> LocalStore:
    """The local store the app in ``workdir`` will use, seeded with the demo (the app seeds only a new, empty store)."""
    root = workdir / "store"
    store = LocalStore(root)
    seed_demo(store, load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(root)}))
    return store


def start_app(workdir: Path, extra_env: Mapping[str, str], script: str = "dashboard/app.py") -> Iterator[str]:
    """Run the dashboard (``script``, through :func:`stack.app.serve`) until the generator is closed; yields its URL."""
    with serve(workdir, extra_env, script=script) as app:
        yield app.url


@pytest.fixture(scope="session", autouse=True)
def screenshots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``$SCREENSHOTS_DIR`` if set, else a folder of the session's temporary directory."""
    folder = screenshot_folder(os.environ, lambda: tmp_path_factory.mktemp("screenshots"))
    _screenshots[:] = [folder]
    return folder


def screenshot_folder(environ: Mapping[str, str], temporary: Callable[[], Path]) -> Path:
    """``$SCREENSHOTS_DIR`` when set (``make screenshots``), else the folder ``temporary()`` makes."""
    configured = environ.get("SCREENSHOTS_DIR")
    return Path(configured) if configured else temporary()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on the embedded local store with demo data."""
    yield from start_app(tmp_path_factory.mktemp("app"), {})


@dataclass(frozen=True)
class ServedApp:
    """The app as ``make run`` and the container serve it (dashboard/serve.py), its log and its local store."""

    url: str
    log: Path
    store: Path


def _served(workdir: Path, env: Mapping[str, str]) -> Iterator[ServedApp]:
    with serve(workdir, env, script="dashboard/serve.py") as app:
        yield ServedApp(app.url, app.log, workdir / "store")


@pytest.fixture(scope="session")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """dashboard/serve.py on the embedded local store with demo data; uploads limited to 1 MB."""
    yield from _served(tmp_path_factory.mktemp("served"), {"UPLOAD_LIMIT_MB": "1"})


@pytest.fixture(scope="session")
def served_swift_app(openstack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """dashboard/serve.py configured for the real Swift + Keystone, minus the password (each user signs in)."""
    alice = openstack.users[0]  # type: ignore[attr-defined]
    env = {k: v for k, v in openstack.info.env_for(alice).items() if k != "CSC_PASSWORD"}  # type: ignore[attr-defined]
    yield from _served(tmp_path_factory.mktemp("served-swift"), env)


@pytest.fixture(scope="session")
def swift_app_server(openstack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard configured for the real Swift + Keystone (.env as from `make services`, minus the password)."""
    alice = openstack.users[0]  # type: ignore[attr-defined]
    env = {k: v for k, v in openstack.info.env_for(alice).items() if k != "CSC_PASSWORD"}  # type: ignore[attr-defined]
    yield from start_app(tmp_path_factory.mktemp("swift-app"), env)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian chromium driven by Playwright (Playwright cannot download its own browser here)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: make test installs it with apt"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic",
                  # No name but the app's resolves: whatever a page asks of another host goes nowhere.
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"],
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test (the ``page`` fixture asks whether the test failed), and name where a
    failed browser test's trace and screenshot are in its failure report."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    folder = item.stash.get(_ARTIFACTS, None)
    if report.failed and folder is not None:
        report.sections.append(("browser trace and screenshot", (
            f"{folder}/trace.zip and {folder}/page.png (written when the test ends)\n"
            f"open the trace with: playwright show-trace {folder}/trace.zip")))


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
_ARTIFACTS = pytest.StashKey[Path]()

#: The only hosts a page may ask anything of: the app's (every test app listens on loopback 127.0.0.1).
APP_HOSTS = ("127.0.0.1", "localhost")
#: Requests to any other host, matched by Playwright's driver itself (no round trip to Python per request).
OUTSIDE = re.compile(r"^(?:https?|wss?)://(?!(?:127\.0\.0\.1|localhost)(?::\d+)?(?:/|$))")


def outside_host(url: str) -> bool:
    """Whether the browser asking for ``url`` would reach a host other than the app's (``data:``/``blob:`` stay)."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in APP_HOSTS


@pytest.fixture()
def page(browser: object, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """A fresh browser context (its own cookies: its own Streamlit session) and page.

    Every request to a host other than the app's is blocked (by the route, and by the browser's host resolver, see
    ``browser``) and recorded, and the test fails if there was any: the dashboard runs where there is no internet,
    and tells no other server who is looking.

    The context is traced (DOM snapshots, which the trace viewer renders; a screencast would cost every test CPU time
    for frames nobody looks at); when the test fails, the trace and a screenshot of the page
    are kept in the test's temporary folder and the failure report says where (Playwright's "retain on failure").
    """
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)  # type: ignore[attr-defined]
    context.tracing.start(screenshots=False, snapshots=True)
    folder = tmp_path / "browser-failure"
    request.node.stash[_ARTIFACTS] = folder
    outside: list[str] = []

    def block(route: Any) -> None:
        outside.append(route.request.url)
        route.abort()

    context.route(OUTSIDE, block)
    # A request the route does not see (the browser's own, such as a favicon) is still recorded.
    context.on("request", lambda asked: outside.append(asked.url) if outside_host(asked.url) else None)
    new_page = context.new_page()
    new_page.set_default_timeout(TIMEOUT_MS)
    try:
        yield new_page
    finally:
        reports = request.node.stash.get(_REPORTS, {})
        if any(r.failed for r in reports.values()):
            folder.mkdir(parents=True, exist_ok=True)
            try:
                new_page.screenshot(path=str(folder / "page.png"), full_page=True, timeout=30_000)
            finally:
                context.tracing.stop(path=str(folder / "trace.zip"))
        else:
            context.tracing.stop()
        context.close()
    assert outside == [], f"the page asked hosts other than the app's: {sorted(set(outside))}"


def wait_idle(page: object, heading: str | None = None) -> None:
    """Wait until the app finished its run (no "running" widget) and, if given, the page title is shown."""
    if heading is not None:
        page.get_by_role("heading", name=heading, exact=True).first.wait_for()  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached")  # type: ignore[attr-defined]
    page.locator('[data-testid="stSkeleton"]').first.wait_for(state="detached")  # type: ignore[attr-defined]


def screenshot(page: object, name: str) -> Path:
    """Save the whole page (main area grown to its content) as <name>.png in the screenshots folder."""
    folder = _screenshots[0]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    size = page.viewport_size  # type: ignore[attr-defined]
    height = page.evaluate(  # type: ignore[attr-defined]
        "() => { const m = document.querySelector('[data-testid=stMain]'); return m ? m.scrollHeight : 1000; }")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height), 5000))})  # type: ignore[attr-defined]
    page.wait_for_timeout(400)  # type: ignore[attr-defined]
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    page.set_viewport_size(size)  # type: ignore[attr-defined]
    return path


def choose_sacct_file(page: object, path: Path) -> None:
    """On the Upload page: set ``path`` on the file uploader and wait until the app has it (and has run again)."""
    uploader = page.locator('[data-testid="stFileUploader"]')  # type: ignore[attr-defined]
    uploader.locator('input[type="file"]').set_input_files(str(path))
    uploader.get_by_role("button", name=f"Remove {path.name}", exact=True).wait_for()  # (a chip cuts long names)
    uploader.get_by_test_id("stFileChipIconSpinner").first.wait_for(state="detached")  # sent to the app
    wait_idle(page)


def upload_sacct(page: object, source: Path | str, *, run: str | None = None, parsed: str | None = None,
                 store: bool = False) -> None:
    """On the Upload page: choose the file ``source`` (a path) or paste ``source`` (text), name the ``run``, press
    Parse and wait for ``parsed`` (a text the page shows once parsed; without it, for the app's run to end); with
    ``store``, press Store and wait for the app's run to end (the caller checks what it says)."""
    if isinstance(source, Path):
        choose_sacct_file(page, source)
    else:
        page.get_by_label("…or paste it here").fill(source)  # type: ignore[attr-defined]
        wait_idle(page)
    if run is not None:
        page.get_by_label("Run name").fill(run)  # type: ignore[attr-defined]
        page.get_by_label("Run name").press("Enter")  # type: ignore[attr-defined]
        wait_idle(page)
    page.get_by_role("button", name="Parse").click()  # type: ignore[attr-defined]
    if parsed is not None:
        page.get_by_text(parsed).first.wait_for()  # type: ignore[attr-defined]
    wait_idle(page)
    if store:
        page.get_by_role("button", name="Store", exact=True).click()  # type: ignore[attr-defined]
        wait_idle(page)
