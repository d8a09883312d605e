"""Concurrent sessions on the running app, over the websocket protocol Streamlit's own frontend speaks.

A browser per session does not fit on a 2-CPU machine beside the app, so each session is an :class:`AppSession`: one
websocket to ``/_stcore/stream`` that asks for a page the way the frontend does (a ``rerun_script`` back message
naming the page) and reads the forward messages until the script run finished. A page view counts as an error when
the run shows an exception or an error message, does not finish within the timeout, or the connection breaks.

:func:`stack.app.serve` runs the app as a subprocess (``streamlit run dashboard/app.py``) on a free loopback port;
:func:`run_load` drives ``sessions`` sessions that each open the next page every ``interval`` seconds for
``duration`` seconds, spread over one or more app replicas.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import re
import statistics
import time
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from stack.app import App, serve

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def app_pages(app: Path = ROOT / "dashboard" / "app.py") -> tuple[tuple[str, ...], str]:
    """The url paths of the pages in app.py's navigation (hidden ones left out), and the default page's."""
    pages, default = [], ""
    for call in re.findall(r"st\.Page\((.*?)\),?\n", app.read_text()):
        path = re.search(r'url_path="([^"]+)"', call)
        if path is None or 'visibility="hidden"' in call:
            continue
        pages.append(path.group(1))
        if "default=True" in call:
            default = path.group(1)
    return tuple(pages), default


#: Every page of the app by its ``url_path``; the default page answers at the app's root, not under its path.
PAGES, DEFAULT_PAGE = app_pages()
#: Seconds a page view may take before it counts as an error (the view is abandoned).
VIEW_TIMEOUT = 30.0


# --- one session over the websocket -------------------------------------------------------------------------------


@dataclass
class PageView:
    """One page opened by one session: how long the run took, and what went wrong (``None``: nothing)."""

    page: str
    seconds: float
    error: str | None = None
    #: Texts of the messages the page showed (st.error/warning/info/success), in order.
    alerts: list[str] = field(default_factory=list)
    #: Widgets the page drew: label -> (kind, widget id).
    widgets: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Texts of st.text/st.code/markdown elements (for assertions on what the page says).
    texts: list[str] = field(default_factory=list)


class AppSession:
    """One browser session of the app, speaking Streamlit's websocket protocol."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._socket: Any = None

    async def __aenter__(self) -> AppSession:
        from websockets.asyncio.client import connect

        ws_url = self.url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self._socket = await connect(ws_url, subprotocols=["streamlit"], max_size=None,  # type: ignore[list-item]
                                     open_timeout=VIEW_TIMEOUT, ping_interval=None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()

    async def open(self, page: str, widgets: Sequence[Any] = (), timeout: float = VIEW_TIMEOUT) -> PageView:
        """Open ``page`` (its url path; "" is the default page) with these widget states, as a link click does."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        message = BackMsg()
        message.rerun_script.query_string = ""
        message.rerun_script.page_name = "" if page == DEFAULT_PAGE else page
        message.rerun_script.widget_states.widgets.extend(widgets)
        view = PageView(page, 0.0)
        began = time.perf_counter()
        try:
            await self._socket.send(message.SerializeToString())
            await asyncio.wait_for(self._read_run(view), timeout)
        except TimeoutError:
            view.error = f"{page}: no finished run within {timeout:.0f} s"
        except Exception as exc:  # a broken connection is an error of this view, not of the load run
            view.error = f"{page}: {type(exc).__name__}: {exc}"
        view.seconds = time.perf_counter() - began
        return view

    async def _read_run(self, view: PageView) -> None:
        from streamlit.proto.Alert_pb2 import Alert
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        rerunning = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
        while True:
            message = ForwardMsg()
            message.ParseFromString(await self._socket.recv())
            kind = message.WhichOneof("type")
            if kind == "script_finished":
                if message.script_finished != rerunning:
                    return
                view.alerts.clear()
                view.texts.clear()
            elif kind == "page_not_found":
                view.error = f"{view.page}: page not found"
            elif kind == "session_event" and message.session_event.WhichOneof("type") == \
                    "script_compilation_exception":
                view.error = f"{view.page}: the script did not compile"
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                what = element.WhichOneof("type")
                if what == "exception":
                    view.error = view.error or f"{view.page}: exception {element.exception.type}"
                elif what == "alert":
                    view.alerts.append(element.alert.body)
                    if element.alert.format == Alert.ERROR:
                        view.error = view.error or f"{view.page}: {element.alert.body}"
                elif what in ("text", "code", "markdown"):
                    view.texts.append(getattr(element, what).body if what != "code" else element.code.code_text)
                elif what in ("text_input", "button", "selectbox", "multiselect", "toggle", "radio", "slider",
                              "file_uploader", "checkbox"):
                    widget = getattr(element, what)
                    view.widgets[widget.label] = (what, widget.id)

    async def sign_in(self, fields: Mapping[str, str], timeout: float = VIEW_TIMEOUT) -> PageView:
        """Fill the Swift sign-in form (labels to values) and press Sign in; the view after the app's rerun."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        form = await self.open("sign-in", timeout=timeout)
        if form.error:
            return form
        states = []
        for label, value in fields.items():
            if label not in form.widgets:
                form.error = f"sign-in: no field {label!r} on the page ({sorted(form.widgets)})"
                return form
            states.append(WidgetState(id=form.widgets[label][1], string_value=value))
        states.append(WidgetState(id=form.widgets["Sign in"][1], trigger_value=True))
        view = await self.open("sign-in", states, timeout=timeout)
        if not view.error and not any(text.startswith("Signed in as") for text in view.alerts):
            view.error = f"sign-in: not signed in ({view.alerts})"
        return view


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to its end, in a thread of its own when this thread already runs an event loop (as
    Playwright's sync API does in a test session that also drives browsers)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def sign_in_fields(auth_url: str, username: str, password: str, project: str) -> dict[str, str]:
    """The sign-in form's fields for a Keystone user."""
    return {"Keystone URL": auth_url, "User name": username, "Password": password, "Project": project,
            "User domain": "Default", "Project domain": "Default"}


# --- load ---------------------------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    """Every page view of a load run."""

    views: list[PageView]
    sessions: int
    duration: float

    @property
    def errors(self) -> list[PageView]:
        return [v for v in self.views if v.error]

    @property
    def times(self) -> list[float]:
        return [v.seconds for v in self.views if not v.error]

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def worst(self) -> float:
        return max(v.seconds for v in self.views) if self.views else float("nan")

    def summary(self) -> str:
        return (f"{len(self.views)} page views by {self.sessions} sessions in {self.duration:.0f} s: median "
                f"{self.median:.2f} s, worst {self.worst:.2f} s, {len(self.errors)} errors"
                + (f" (first: {self.errors[0].error})" if self.errors else ""))


async def _session(url: str, index: int, pages: Sequence[str], interval: float, duration: float, start_delay: float,
                   sign_in: Mapping[str, str] | None, timeout: float) -> list[PageView]:
    views: list[PageView] = []
    await asyncio.sleep(start_delay)
    began = time.monotonic()
    steps = iter(range(max(1, int(duration // interval))))
    # A view that failed leaves its run's messages on the connection: the session starts afresh on a new one.
    while (step := next(steps, None)) is not None:
        try:
            async with AppSession(url) as session:
                if sign_in is not None:
                    signed = await session.sign_in(sign_in, timeout)
                    if signed.error:
                        views.append(signed)
                        continue
                while step is not None:
                    wait = began + step * interval - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    views.append(await session.open(pages[(index + step) % len(pages)], timeout=timeout))
                    if views[-1].error:
                        break
                    step = next(steps, None)
        except Exception as exc:  # a refused connection: an error of this step
            views.append(PageView("connect", 0.0, f"session {index}: {type(exc).__name__}: {exc}"))
    return views


async def _load(urls: Sequence[str], sessions: int, interval: float, duration: float, pages: Sequence[str],
                sign_in: Mapping[str, str] | None, timeout: float) -> list[PageView]:
    # Sessions start spread over one interval, as users who do not all click at the same instant.
    tasks = [_session(urls[i % len(urls)], i, pages, interval, duration, interval * i / sessions, sign_in,
                      timeout)
             for i in range(sessions)]
    return [view for views in await asyncio.gather(*tasks) for view in views]


def run_load(urls: Sequence[str], *, sessions: int = 20, interval: float = 5.0, duration: float = 60.0,
             pages: Sequence[str] = PAGES, sign_in: Mapping[str, str] | None = None,
             timeout: float = VIEW_TIMEOUT) -> LoadReport:
    """``sessions`` sessions, spread over the app replicas at ``urls``, each opening the next of ``pages`` every
    ``interval`` seconds for ``duration`` seconds (signed in first with the ``sign_in`` form fields, if given); a
    view longer than ``timeout`` seconds is an error."""
    began = time.monotonic()
    views = run_async(_load(urls, sessions, interval, duration, pages, sign_in, timeout))
    return LoadReport(views, sessions, time.monotonic() - began)


def open_once(url: str, pages: Sequence[str], sign_in: Mapping[str, str] | None = None) -> list[PageView]:
    """One session that (signs in and) opens each of ``pages`` once, in order."""

    async def go() -> list[PageView]:
        async with AppSession(url) as session:
            views = [await session.sign_in(sign_in)] if sign_in else []
            for page in pages:
                views.append(await session.open(page))
            return views

    return run_async(go())


# --- the benchmark areas ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def swift_demo(workdir: Path) -> Iterator[tuple[Any, dict[str, str], dict[str, str]]]:
    """A fresh Keystone + Swift stack in ``workdir`` holding the demo data of its first user.

    Yields the stack, the app's environment for that user (no password: sessions sign in on the page) and the
    sign-in form's fields.
    """
    from pydantic import SecretStr

    import stack
    from core.auth import Credentials
    from core.demo import seed_demo
    from core.settings import load_settings
    from core.store.swift import SwiftStore

    directory = workdir / "stack"
    try:
        info = stack.start(directory)
        user = info.users[0]
        env = info.env_for(user)
        credentials = Credentials(auth_url=info.auth_url, username=user.username,
                                  password=SecretStr(user.password), project_name=user.project)
        seed_demo(SwiftStore.from_credentials(credentials), load_settings(None, env))
        env.pop("CSC_PASSWORD")
        yield info, env, sign_in_fields(info.auth_url, user.username, user.password, user.project)
    finally:
        stack.stop(directory)


def _cpu(app: App) -> float:
    import psutil

    times = psutil.Process(app.process.pid).cpu_times()
    return float(times.user + times.system)


def _record(results: Any, label: str, report: LoadReport, apps: Sequence[App], before: Sequence[int],
            cpu: float) -> None:
    results.add(f"{label}.median", report.median, "s", at_most=1.5)
    results.add(f"{label}.max", report.worst, "s", at_most=4.0)
    results.add(f"{label}.errors", len(report.errors), "errors", at_most=0)
    results.add(f"{label}.page_views", len(report.views), "views")
    results.add(f"{label}.app_cpu_per_view", cpu / max(1, len(report.views)), "s")
    results.add(f"{label}.rss_before", sum(before) / 2**20, "MiB")
    results.add(f"{label}.rss_after", sum(app.rss() for app in apps) / 2**20, "MiB")
    results.note(f"{label}: {report.summary()}" + (f" over {len(apps)} replicas" if len(apps) > 1 else ""))
    for view in report.errors[:3]:
        results.note(f"{label}: error: {view.error}")


def measure_load(results: Any, label: str, apps: Sequence[App], duration: float,
                 sign_in: Mapping[str, str] | None = None, sessions: int = 20) -> LoadReport:
    """Warm every replica with one pass over the pages, then run the load and record its figures under ``label``."""
    for app in apps:
        open_once(app.url, PAGES, sign_in)
    before = [app.rss() for app in apps]
    cpu = sum(_cpu(app) for app in apps)
    report = run_load([app.url for app in apps], sessions=sessions, duration=duration, sign_in=sign_in)
    _record(results, label, report, apps, before, sum(_cpu(app) for app in apps) - cpu)
    return report


def new_session_cpu(app: App, sessions: int = 10) -> float:
    """CPU seconds the app spends on a new browser session that opens the sign-in page (median of ``sessions``)."""
    costs = []
    for _ in range(sessions):
        before = _cpu(app)
        open_once(app.url, ["sign-in"])
        costs.append(_cpu(app) - before)
    return statistics.median(costs)


def run(results: Any, quick: bool) -> None:
    """``load``: 20 sessions on the local store, on Swift, and on Swift shared by two replicas."""
    import tempfile

    duration = 20.0 if quick else 60.0
    results.note(f"load: 20 sessions, each opening the next of {len(PAGES)} pages every 5 s for {duration:.0f} s, "
                 "over Streamlit's websocket protocol; the machine's other work shares its 2 CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        base = Path(tmp)
        with serve(base / "local", {}) as app:
            measure_load(results, "load.20_sessions", [app], duration)
            results.add("load.new_session.app_cpu", new_session_cpu(app), "s")
        with swift_demo(base) as (_, env, fields):
            with serve(base / "swift", env) as app:
                measure_load(results, "load.20_sessions.swift", [app], duration, fields)
            with serve(base / "replica-1", env) as one, serve(base / "replica-2", env) as two:
                measure_load(results, "load.20_sessions.swift_two_replicas", [one, two], duration, fields)
