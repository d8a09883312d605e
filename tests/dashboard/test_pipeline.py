"""The Pipeline page (AppTest): one pipeline run's stages and jobs of every platform on one axis, its figures, the
job links, and two runs side by side."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import shown as shown_text
from tests.dashboard.conftest import texts

OpenPage = Callable[..., AppTest]


def _seconds(clock: str) -> int:
    """``[-][D-]HH:MM:SS`` as seconds."""
    sign = -1 if clock.startswith("-") else 1
    days, _, rest = clock.lstrip("-").rpartition("-")
    hours, minutes, seconds = map(int, rest.split(":"))
    return sign * (int(days or 0) * 86400 + hours * 3600 + minutes * 60 + seconds)


def _figure(at: AppTest, index: int = 0) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(at.get("plotly_chart")[index].proto.spec)
    return spec


def test_a_run_shows_stages_and_jobs_of_every_platform_on_one_axis(open_page: OpenPage) -> None:
    at = open_page("views/pipeline.py", params={"object": "MANAGEMENT/1.json"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.query_params["object"] == "MANAGEMENT/1.json"
    figure = _figure(at)
    lanes = {lane for trace in figure["data"] for lane in trace["y"]}
    assert {"stage · run", "stage · store", "puhti · 21538102", "mahti · 3462001", "roihu · 812360",
            "lumi · 7340012"} <= lanes
    assert figure["layout"]["xaxis"]["type"] == "date"  # one time axis for stages and jobs
    names = {trace["name"] for trace in figure["data"]}
    assert {"TIMES stage", "COMPLETED", "FAILED", "OUT_OF_MEMORY", "COMPLETED · queue wait"} <= names
    jobs = at.dataframe[0].value
    # The sweep's 8 tasks are grouped under their array job; each row links its job page.
    sweep = jobs[jobs["group"] == "3462001"]
    assert len(sweep) == 8 and set(sweep["state"]) == {"COMPLETED", "FAILED"}
    link = jobs.loc[jobs["job-id"] == "812360", "job page"].iloc[0]
    assert link == "job?job=812360&run=user-example-com-roihu-2024-05&platform=roihu&object=MANAGEMENT/1.json"
    platforms = at.dataframe[1].value.set_index("platform")
    assert platforms.loc["mahti", "failed"] == 1 and platforms.loc["roihu", "failed"] == 1
    assert round(platforms.loc["mahti", "billed CSC CPU BU"], 2) == 8.58  # 3459879 in medium
    assert platforms.loc["lumi", "billed LUMI GPU-hours"] > 0  # small-g and standard-g, in their own pool
    assert platforms.loc["puhti", "GPU-hours"] > 0
    stages = at.dataframe[2].value.set_index("stage")
    assert stages.loc["run", "jobs"] == len(jobs)
    shown = texts(at)
    assert "TIMES run run\\-1" in shown
    # Run 1's critical path ends with the job that ended last (LUMI's finetune).
    path = at.dataframe[3].value
    assert path["job-id"].iloc[-1] == "7340020"


def test_two_runs_side_by_side_and_what_cannot_be_matched(open_page: OpenPage) -> None:
    at = open_page("views/pipeline.py", params={"object": "MANAGEMENT/2.json", "compare": "MANAGEMENT/1.json"})
    assert not at.exception and not at.error
    compared = next(d.value for d in at.dataframe if "change" in d.value.columns)
    puhti = compared[compared["platform"] == "puhti"].set_index("figure")
    # Each figure reads as its column does on the page: durations as [D-]HH:MM:SS, hours with one decimal.
    wait = puhti.loc["queue wait"]
    assert all(re.fullmatch(r"-?(\d+-)?\d\d:\d\d:\d\d", wait[c]) for c in ("MANAGEMENT/1.json", "MANAGEMENT/2.json"))
    assert _seconds(wait["MANAGEMENT/2.json"]) > _seconds(wait["MANAGEMENT/1.json"])  # run 2's training waited longer
    assert _seconds(wait["change"]) == _seconds(wait["MANAGEMENT/2.json"]) - _seconds(wait["MANAGEMENT/1.json"])
    assert re.fullmatch(r"[\d,]+\.\d", puhti.loc["core-hours", "MANAGEMENT/1.json"])
    assert puhti.loc["jobs", "MANAGEMENT/1.json"].isdigit()
    assert len(at.get("plotly_chart")) == 2
    # Run 3 is under way: the jobs that were never submitted are named, not guessed.
    at.selectbox(key="pipeline-object").set_value("MANAGEMENT/3.json").run()
    shown = shown_text(texts(at))
    assert "mahti: /users/mvirtane/sweep.sh has no job id (never submitted; started)." in shown
