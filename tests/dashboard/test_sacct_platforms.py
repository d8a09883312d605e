"""SACCT page: opens on the newest stored runs, lists their platform/rows/stored time, filters by days, and
compares platforms."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import seed_public_runs, texts

OpenPage = Callable[..., AppTest]


def _jobs(at: AppTest) -> int:
    return int(next(m.value for m in at.metric if m.label == "Jobs").replace(",", ""))


def test_sacct_opens_on_the_newest_runs_with_their_platform_rows_and_time(open_page: OpenPage) -> None:
    at = open_page("views/sacct.py")
    assert not at.exception and not at.error
    chosen = at.multiselect[0].value
    # The demo's four runs, LUMI's stored last by the seeding, so the newest.
    assert chosen == [f"user-example-com-{p}-2024-05" for p in ("lumi", "roihu", "mahti", "puhti")]
    runs = at.dataframe[0].value
    assert runs["run"].tolist() == chosen
    lumi = runs.set_index("run").loc["user-example-com-lumi-2024-05"]
    # 5 LUMI jobs: 4 that ran, each with .batch and .extern, the multi-node one with its srun step .0, 1 pending.
    assert (lumi["platform"], lumi["cluster"], lumi["rows"]) == ("lumi", "lumi", 14)
    assert runs["stored"].notna().all() and str(runs["stored"].dt.tz) == "UTC"


def test_sacct_opens_on_at_most_six_runs(open_page: OpenPage, store_dir: Path) -> None:
    seed_public_runs(store_dir)  # six public runs stored after the demo's four
    at = open_page("views/sacct.py")
    chosen = at.multiselect[0].value
    # alpine-array-json was stored last, so it is the newest; none of the demo's older runs is shown.
    assert chosen[0] == "user-example-com-alpine-array-json" and len(chosen) == 6
    assert not [run for run in chosen if run.endswith("2024-05")]
    assert "Showing the 6 most recently stored SACCT runs (at most 6, newest first)" in texts(at)


def test_time_range_keeps_jobs_that_ran_in_it(open_page: OpenPage) -> None:
    at = open_page("views/sacct.py")
    days = at.date_input(key="sacct-days")
    # The demo's three pipeline runs: 24, 25 and 27 May 2024.
    assert days.value == (dt.date(2024, 5, 24), dt.date(2024, 5, 27))
    assert _jobs(at) == 28
    days.set_value((dt.date(2024, 5, 24), dt.date(2024, 5, 25))).run()
    assert not at.exception
    # Runs 1 and 2: 16 and 6 jobs (core/demo_data/pipeline.py); run 3's jobs of 27 May are left out.
    assert _jobs(at) == 22


def test_platforms_view_compares_the_four_platforms(open_page: OpenPage) -> None:
    at = open_page("views/sacct.py")
    at.segmented_control(key="sacct-view").set_value("Platforms").run()
    assert not at.exception and not at.error
    charts = at.get("plotly_chart")
    assert len(charts) == 6  # queue wait, failures, efficiency, core-hours, GPU-hours, billing per pool
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in charts]
    assert titles[4:] == ["Allocated GPU-hours per platform", "Billed per platform, one panel per pool"]
    # Every platform of the demo ran GPU jobs, and each pool is a panel of its own (never added together).
    gpu, billed = (json.loads(c.proto.spec) for c in charts[4:])
    assert sorted(t["name"] for t in gpu["data"]) == ["lumi", "mahti", "puhti", "roihu"]
    assert [a["text"] for a in billed["layout"]["annotations"]] == ["LUMI GPU-hours", "LUMI core-hours", "CSC CPU BU",
                                                                    "CSC GPU BU"]
    table = at.dataframe[-1].value
    assert table["platform"].tolist() == ["puhti", "mahti", "roihu", "lumi"]
    mahti = table.set_index("platform").loc["mahti"]
    # 3459879, the sweep's 8 tasks, the cancelled 3461753 (finished, not failed) and the running 3470110.
    assert (mahti["jobs"], mahti["finished"], mahti["failed"]) == (11, 10, 1)
    assert "Each run's platform is the one it was stored with" in texts(at)
