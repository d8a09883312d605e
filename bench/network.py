"""Every page against the stack's Swift with 50 ms added per request (CSC Allas is tens of ms away, not loopback).

The stack's fault proxy sits on the port Keystone advertises for Swift, delays each request by 50 ms and counts
them. A fresh app process is driven over Streamlit's websocket protocol by one signed-in session that opens every
page once (``first_render``: the time of that run; ``requests``: the storage requests it made) and then once more
(``rerun_object_reads``: objects downloaded again although nothing changed). Then 8 sessions open a page every 2 s
for 30 s, for median and worst page times and the app's memory after the run.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from bench import load

DELAY = 0.05
#: Storage requests one render of a page may make, whatever the number of objects it lists or shows.
REQUEST_BOUND = 10


def object_reads(lines: list[str]) -> int:
    """GETs of objects (``GET /v1/<account>/<bucket>/<object>``) among request lines; listings are not counted."""
    return sum(1 for line in lines if re.match(r"GET /v1/[^/]+/[^/?]+/[^?\s]+", line))


def run(results: Any, quick: bool) -> None:
    """``network``: first render and requests per page, and 8 concurrent sessions, over a 50 ms Swift."""
    from stack.app import serve
    from stack.faultproxy import interposed

    duration = 16.0 if quick else 30.0
    with tempfile.TemporaryDirectory(prefix="bench-network-") as tmp:
        base = Path(tmp)
        with load.swift_demo(base) as (info, env, fields), interposed(info.directory, delay=DELAY) as proxy, \
                serve(base / "app", env) as app:
            views: list[tuple[str, str, load.PageView, list[str]]] = []

            async def every_page_twice() -> None:
                async with load.AppSession(app.url) as client:
                    signed = await client.sign_in(fields)
                    if signed.error:
                        raise RuntimeError(signed.error)
                    for page in load.PAGES:
                        for render in ("first", "rerun"):
                            proxy.reset_count()
                            view = await client.open(page)
                            views.append((page, render, view, list(proxy.request_lines)))

            load.run_async(every_page_twice())
            for page, render, view, lines in views:
                name = f"pages.{page.replace('-', '_')}.swift_50ms"
                if view.error:
                    results.note(f"{name}: {render} render failed: {view.error}")
                if render == "first":
                    results.add(f"{name}.first_render", view.seconds, "s", at_most=1.5)
                    results.add(f"{name}.requests", len(lines), "requests", at_most=REQUEST_BOUND)
                else:
                    results.add(f"{name}.rerun_requests", len(lines), "requests")
                    results.add(f"{name}.rerun_object_reads", object_reads(lines), "GETs", at_most=0)
            report = load.run_load([app.url], sessions=8, interval=2.0, duration=duration, sign_in=fields)
            results.add("network.swift_50ms.8_sessions.median", report.median, "s", at_most=1.5)
            results.add("network.swift_50ms.8_sessions.max", report.worst, "s", at_most=4.0)
            results.add("network.swift_50ms.8_sessions.errors", len(report.errors), "errors", at_most=0)
            results.add("network.swift_50ms.8_sessions.rss_after", app.rss() / 2**20, "MiB")
            results.note(f"network: 8 sessions, a page every 2 s for {duration:.0f} s: {report.summary()}")
