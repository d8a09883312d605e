"""SACCT page: opens on the newest stored runs, lists their platform/rows/stored time, filters by days, and
compares platforms."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import texts

OpenPage = Callable[..., AppTest]


def _jobs(at: AppTest) -> int:
    return int(next(m.value for m in at.metric if m.label == "Jobs").replace(",", ""))


def test_sacct_opens_on_the_newest_runs_with_their_platform_rows_and_time(open_page: OpenPage) -> None:
    at = open_page("views/sacct.py")
    assert not at.exception and not at.error
    chosen = at.multiselect[0].value
    # Stored last by the demo seeding, so the newest; alpine-4-months was stored first of the six and is not shown.
    assert chosen[0] == "user-example-com-mahti-ray" and len(chosen) == 6
    assert "user-example-com-habrok-gpu" not in chosen
    runs = at.dataframe[0].value
    assert runs["run"].tolist() == chosen
    mahti = runs.set_index("run").loc["user-example-com-mahti-ray"]
    assert (mahti["platform"], mahti["cluster"], mahti["rows"]) == ("mahti", "mahti", 7)
    assert runs["stored"].notna().all() and str(runs["stored"].dt.tz) == "UTC"


def test_time_range_keeps_jobs_that_ran_in_it(open_page: OpenPage) -> None:
    at = open_page("views/sacct.py")
    days = at.date_input(key="sacct-days")
    # Of the six newest runs only Mahti (May 2024) and the Alpine JSON run (March 2025) print times.
    assert days.value == (dt.date(2024, 5, 24), dt.date(2025, 3, 11))
    assert _jobs(at) > 100
    days.set_value((dt.date(2024, 5, 24), dt.date(2024, 5, 25))).run()
    assert not at.exception
    assert _jobs(at) == 2  # Mahti jobs 3459879 (started 24 May) and 3461753 (ended 25 May)


def test_platforms_view_compares_mahti_with_the_other_clusters(open_page: OpenPage) -> None:
    at = open_page("views/sacct.py")
    at.segmented_control(key="sacct-view").set_value("Platforms").run()
    assert not at.exception and not at.error
    charts = at.get("plotly_chart")
    assert len(charts) == 6  # queue wait, failures, efficiency, core-hours, GPU-hours, billing per pool
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in charts]
    # The demo's runs name no partition with a billing rule and no GPU: both say so instead of drawing zeros.
    assert titles[4:] == ["GPU-hours per platform", "Billed per platform"]
    table = at.dataframe[-1].value
    assert table["platform"].tolist() == ["mahti", "other"]
    mahti = table.set_index("platform").loc["mahti"]
    assert (mahti["jobs"], mahti["finished"], mahti["failed"]) == (2, 2, 0)
    assert "Each run's platform is the one it was stored with" in texts(at)
