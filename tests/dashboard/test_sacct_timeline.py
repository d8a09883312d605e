"""The SACCT timeline says how many of the chosen jobs it draws, and why the others are not there."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.sacct import parse_sacct
from core.services import upload
from core.settings import load_settings
from core.store.local import LocalStore

OpenPage = Callable[..., AppTest]


def _timeline(open_page: OpenPage, **params: str) -> tuple[int, int, str]:
    """Jobs the headline counts, bars the timeline draws, and the captions under it."""
    at = open_page("views/sacct.py", params={**params, "view": "Timeline"})
    assert not at.exception, [e.value for e in at.exception]
    jobs = int(next(m.value for m in at.metric if m.label == "Jobs").replace(",", ""))
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    running = next(t for t in figure["data"] if t.get("name") == "running")
    return jobs, len(running["y"]), " ".join(c.value for c in at.caption)


def test_timeline_says_it_leaves_out_the_jobs_that_never_started(open_page: OpenPage) -> None:
    jobs, bars, captions = _timeline(open_page)  # the demo's runs: pending and never-started jobs among them
    assert 0 < bars < jobs
    assert f"Showing {bars:,} of {jobs:,} jobs: {jobs - bars:,} have no Start (still pending, or cancelled " \
           "before they started)." in captions


def test_timeline_says_it_draws_only_the_latest_jobs_of_a_big_selection(open_page: OpenPage,
                                                                        store_dir: Path) -> None:
    lines = ["JobID|JobName|Partition|State|Submit|Start|End|Elapsed|AllocCPUS|Cluster"]
    for n in range(320):  # 320 jobs that ran one after the other, the last 5 still pending
        minute = f"2024-06-01T{n // 60:02d}:{n % 60:02d}"
        ran = n < 315
        times = f"{minute}:00|{minute}:30|00:00:30" if ran else "Unknown|Unknown|00:00:00"
        lines.append(f"{1000 + n}|task|small|{'COMPLETED' if ran else 'PENDING'}|2024-06-01T00:00:00|{times}|1|puhti")
    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(store_dir)})
    upload.store_run(LocalStore(store_dir), settings, "big-2024-06", parse_sacct("\n".join(lines).encode()))
    jobs, bars, captions = _timeline(open_page, runs="user-example-com-big-2024-06")
    assert jobs == 320 and bars == 300
    assert f"Showing 300 of {jobs:,} jobs:" in captions
    assert "5 have no Start" in captions
    assert "only the 300 that started last of the 315 that started are drawn" in captions


def test_timeline_of_jobs_that_all_started_says_it_draws_them_all(open_page: OpenPage) -> None:
    jobs, bars, captions = _timeline(open_page, runs="user-example-com-puhti-2024-05", state="COMPLETED")
    assert bars == jobs > 0
    assert f"All {jobs:,} jobs:" in captions
