"""Figures as a user reads them: duration axes in s, min, h or days picked from the data (as Grafana does) and
durations in metrics, bar labels and hover as Slurm prints them ([D-]HH:MM:SS); a headline median that leaves out
jobs too short to judge and says so; a jobs table whose key columns come first."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest

from core.sacct import parse_sacct
from core.serialize import frame_to_parquet
from core.store.local import LocalStore
from core.units import slurm_duration
from tests.dashboard.conftest import shown_table

OpenPage = Callable[..., AppTest]
CLOCK = re.compile(r"(\d+-)?\d\d:\d\d:\d\d")


def _figures(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _values(array: Any) -> list[Any]:
    """A Plotly array as a list (Plotly sends numeric arrays as base64 ``bdata``)."""
    if isinstance(array, dict) and "bdata" in array:
        return list(np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).tolist())
    return list(array)


def _no_trouble(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _open_sacct(open_page: OpenPage, store_dir: Path, text: str, view: str) -> AppTest:
    LocalStore(store_dir).put_object("mlch-for-air", "ARTIFACTS/SACCT/user-example-com-short.parquet",
                                     frame_to_parquet(parse_sacct(text).frame),
                                     metadata={"version": 1, "platform": "other"})
    at = open_page("views/sacct.py", params={"runs": "user-example-com-short", "view": view})
    _no_trouble(at)
    return at


#: Jobs of 5 to 63 seconds, each waiting 10 to 40 minutes in the queue.
_SHORT_JOBS = "JobID|State|Submit|Start|End|Elapsed\n" + "".join(
    f"80000{i}|COMPLETED|2024-05-01T10:00:00|2024-05-01T10:{wait:02d}:00|2024-05-01T10:{wait:02d}:{secs:02d}|"
    f"00:00:{secs:02d}\n" if secs < 60 else
    f"80000{i}|COMPLETED|2024-05-01T10:00:00|2024-05-01T10:{wait:02d}:00|2024-05-01T10:{wait + 1:02d}:03|00:01:03\n"
    for i, (secs, wait) in enumerate([(5, 10), (12, 20), (30, 30), (63, 40)]))


def test_elapsed_of_jobs_of_seconds_reads_in_seconds_with_clock_hover(open_page: OpenPage, store_dir: Path) -> None:
    at = _open_sacct(open_page, store_dir, _SHORT_JOBS, "Elapsed")
    figure = _figures(at)[0]
    # Before: "Elapsed (hours)" with ticks 0.002-0.018 for these 5-63 s jobs.
    assert figure["layout"]["yaxis"]["title"]["text"] == "Elapsed (s)"
    heights = sorted(y for trace in figure["data"] for y in _values(trace["y"]))
    assert heights == [5, 12, 30, 63]
    hover = [c[0] for trace in figure["data"] for c in trace["customdata"]]
    assert sorted(hover) == ["00:00:05", "00:00:12", "00:00:30", "00:01:03"]


def test_queue_waits_of_minutes_read_in_minutes_on_sacct_and_platforms(open_page: OpenPage, store_dir: Path) -> None:
    at = _open_sacct(open_page, store_dir, _SHORT_JOBS, "Queue wait")
    figure = _figures(at)[0]
    assert figure["layout"]["xaxis"]["title"]["text"] == "queue wait (min)"
    assert sorted(_values(figure["data"][0]["x"])) == [10, 20, 30, 40]
    at.segmented_control(key="sacct-view").set_value("Platforms").run()
    _no_trouble(at)
    waits = next(f for f in _figures(at) if "Queue wait" in f["layout"]["title"]["text"])
    assert waits["layout"]["yaxis"]["title"]["text"] == "min in the queue"
    assert sorted(_values(waits["data"][0]["y"])) == [10, 20, 30, 40]
    assert sorted(c[-1] for c in waits["data"][0]["customdata"]) == ["00:10:00", "00:20:00", "00:30:00", "00:40:00"]


def test_times_says_durations_as_a_clock_and_charts_them_in_hours(open_page: OpenPage) -> None:
    at = open_page("views/times.py")
    _no_trouble(at)
    median = next(m.value for m in at.metric if m.label == "Median wall time")
    assert CLOCK.fullmatch(median), median  # before: "790 s"
    timeline, stages = _figures(at)
    # The demo's runs last about 3 hours, their longest stages more than 2: hours on both axes, not seconds (before:
    # an axis of thousands of seconds and bar labels "1290.3").
    assert timeline["layout"]["xaxis"]["title"]["text"] == "h since the run started"
    assert all(CLOCK.fullmatch(row[0]) and CLOCK.fullmatch(row[1]) for t in timeline["data"] for row in t["customdata"])
    assert stages["layout"]["yaxis"]["title"]["text"] == "h"
    for trace in stages["data"]:
        for height, label in zip(_values(trace["y"]), trace["text"], strict=True):
            assert CLOCK.fullmatch(label), label
            assert label == slurm_duration(height * 3600)
    assert 2 <= max(y for trace in stages["data"] for y in _values(trace["y"])) < 48
    # A label sits inside its bar or is hidden: the short stages' labels side by side do not run into one another.
    assert {trace["textposition"] for trace in stages["data"]} == {"inside"}
    assert stages["layout"]["uniformtext"] == {"minsize": 9, "mode": "hide"}
    summary = at.dataframe[0].value
    assert all(CLOCK.fullmatch(v.strip()) for v in summary["wall time"])


def test_pipeline_says_how_long_each_bar_and_row_lasted(open_page: OpenPage) -> None:
    at = open_page("views/pipeline.py", params={"object": "MANAGEMENT/1.json"})
    _no_trouble(at)
    figure = _figures(at)[0]
    for trace in figure["data"]:
        assert " ms" not in trace["hovertemplate"]  # before: "→ 3,540,000 ms"
        assert all(CLOCK.fullmatch(row[1]) for row in trace["customdata"])
    # The tables say durations as a clock too (before: "Queue wait s" 3540, "wall seconds" 11475.0).
    jobs = at.dataframe[0].value
    platforms, stages, path = (shown_table(at, i) for i in (1, 2, 3))
    for table, columns in ((jobs, ["wait-seconds", "run-seconds"]), (platforms, ["wall time", "queue wait"]),
                           (stages, ["time", "queue wait"]), (path, ["queue wait", "run"])):
        for column in columns:
            known = [v.strip() for v in table[column] if v.strip()]
            assert known and all(CLOCK.fullmatch(v) for v in known), (column, known)


def test_sacct_timeline_hover_says_how_long_each_job_waited_and_ran(open_page: OpenPage, store_dir: Path) -> None:
    at = _open_sacct(open_page, store_dir, _SHORT_JOBS, "Timeline")
    figure = _figures(at)[0]
    by_name = {trace["name"]: trace for trace in figure["data"]}
    assert sorted(by_name["queued"]["customdata"]) == ["00:10:00", "00:20:00", "00:30:00", "00:40:00"]
    assert sorted(by_name["running"]["customdata"]) == ["00:00:05", "00:00:12", "00:00:30", "00:01:03"]


#: Three 2-second sleep jobs beside two real ones at 50 % and 71 % CPU eff.
_SLEEPS_AND_WORK = "JobID|JobName|State|Elapsed|AllocCPUS|TotalCPU\n" + "".join(
    f"81000{i}|sleep|COMPLETED|00:00:02|1|00:00.002\n" for i in range(3)) + (
    "810010|train|COMPLETED|01:00:00|2|01:00:00\n"
    "810011|train|COMPLETED|01:00:00|1|00:42:36\n")


def test_headline_median_leaves_out_jobs_too_short_to_judge_and_says_so(open_page: OpenPage, store_dir: Path
                                                                        ) -> None:
    at = _open_sacct(open_page, store_dir, _SLEEPS_AND_WORK, "States")
    metrics = {m.label: m.value for m in at.metric}
    # Before: 0.1 %, the median of five jobs three of which slept for 2 seconds.
    assert metrics["Median CPU eff."] == "60.5%"  # (50 % + 71 %) / 2
    shown = " ".join(c.value for c in at.caption)
    assert ("median CPU eff. of 2 finished jobs that ran at least 5 min (3 shorter left out, as the findings do)"
            in shown)


def test_jobs_table_shows_state_and_efficiencies_first_and_the_run_only_when_several(open_page: OpenPage,
                                                                                      store_dir: Path) -> None:
    at = _open_sacct(open_page, store_dir, _SLEEPS_AND_WORK, "Table")
    table = at.dataframe[-1].value
    # Before: Run (a long name, the same on every row), Cluster, JobID, JobName, State, ExitCode, Partition, ...,
    # with CPU eff. as the 15th column, past the edge of the page.
    assert list(table.columns[:7]) == ["JobID", "JobName", "State", "CPU eff.", "Mem eff.", "Time eff.", "Elapsed"]
    assert "Run" not in table.columns  # one run: named in the Runs picker above, not on every row
    at.radio[0].set_value("All sacct rows").run()
    assert "Run" not in at.dataframe[-1].value.columns
    at.multiselect(key="sacct-runs").set_value(["user-example-com-short", at.multiselect(key="sacct-runs").options[-1]
                                                ]).run()
    _no_trouble(at)
    at.radio[0].set_value("One row per job").run()
    table = at.dataframe[-1].value
    assert "Run" in table.columns and table["Run"].nunique() == 2  # several runs: which run each job is of
    assert list(table.columns[:3]) == ["JobID", "JobName", "State"]
