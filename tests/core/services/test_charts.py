"""core.services.charts: what each figure plots."""

from __future__ import annotations

import json

import pandas as pd
import plotly.express as px

from core.services import charts
from core.services.palette import PHASE_COLOURS, STATE_COLOURS


def test_efficiency_chart_plots_known_values_including_zero_and_leaves_unknown_values_out() -> None:
    jobs = pd.DataFrame({"job-id": ["1", "2", "3"], "cpu-efficiency": [0.5, None, 0.0],
                         "time-efficiency": [None, None, None], "memory-efficiency": [None, 0.25, None],
                         "run": ["r", "r", "r"]})
    fig = charts.efficiency(jobs)
    plotted = {trace.name: sorted(zip(trace.customdata[:, 0], trace.y, strict=True)) for trace in fig.data}
    # A real 0 % is a point; an unknown value is no point at all (not a 0), and a metric with no value has no box.
    # Each box says how many jobs it counts.
    assert plotted == {"CPU eff. (2 jobs)": [("1", 50.0), ("3", 0.0)], "Mem eff. (1 job)": [("2", 25.0)]}


def test_efficiency_chart_of_many_jobs_sends_box_statistics_not_every_value() -> None:
    count = charts.BOX_VALUES + 1
    cpu = pd.Series([i / count for i in range(count)])
    cpu.iloc[-1] = 9.0  # one outlier, beyond 1.5 × IQR above the third quartile
    jobs = pd.DataFrame({"job-id": [str(i) for i in range(count)], "cpu-efficiency": cpu,
                         "time-efficiency": None, "memory-efficiency": None, "run": "r"})
    fig = charts.efficiency(jobs)
    (box,) = fig.data
    assert box.name == f"CPU eff. ({count:,} jobs)"
    assert box.y is None and box.boxpoints is False  # no value travels to the browser
    percent = cpu * 100
    assert box.q1[0] == percent.quantile(0.25) and box.median[0] == percent.median()
    assert box.q3[0] == percent.quantile(0.75)
    assert box.upperfence[0] == percent.iloc[-2]  # the whisker stops at the last value inside 1.5 × IQR
    assert box.lowerfence[0] == 0.0
    assert len(fig.to_json()) < 10_000


def test_jobs_by_state_and_by_status_are_the_bars_plotly_express_draws() -> None:
    """The bar charts every SACCT and Management page shows are built without Plotly Express (which builds
    its template again for each figure); a browser gets the same figure: traces, colours (also the template's
    next colour for a value with none of its own), hover, text, axes and legend."""
    cases = [
        (pd.DataFrame({"state": ["COMPLETED", "FAILED", "NEW_STATE", "OUT_OF_MEMORY"], "jobs": [30, 2, 1, 400]}),
         "state", "state", STATE_COLOURS),
        (pd.DataFrame({"platform": ["puhti", "puhti", "lumi", "mahti", "lumi"],
                       "status": ["complete", "failed", "complete", "new-phase", "running"], "jobs": [3, 1, 2, 7, 1]}),
         "platform", "status", PHASE_COLOURS),
    ]
    for frame, x, colour, colours in cases:
        drawn = px.bar(frame, x=x, y="jobs", color=colour, color_discrete_map=colours, text="jobs")
        built = charts._coloured_bars(frame, x, "jobs", colour, colours, text="jobs")
        assert json.loads(built.to_json()) == json.loads(drawn.to_json()), colour
    jobs = pd.DataFrame({"label": ["3 · a", "1 · b", "2 · c"], "state": ["COMPLETED", "NEW_STATE", "COMPLETED"],
                         "value": [3.5, 1.0, 2.0], "elapsed": ["00:03:30", "00:01:00", "00:02:00"],
                         "name": ["train", "<b>prep</b>", "eval"]})
    drawn = px.bar(jobs, x="label", y="value", color="state", color_discrete_map=STATE_COLOURS,
                   custom_data=["elapsed", "name"])
    built = charts._coloured_bars(jobs, "label", "value", "state", STATE_COLOURS,
                                  custom_data=["elapsed", "name"])
    assert json.loads(built.to_json()) == json.loads(drawn.to_json())  # Elapsed per job
    disk = pd.DataFrame({"job": ["1", "2", "1", "2"], "direction": ["read", "read", "write", "write"],
                         "MiB": [3.5, 1.0, 2.0, None]})
    colours = {"read": "#5dade2", "write": "#af7ac5"}
    drawn = px.bar(disk, x="job", y="MiB", color="direction", barmode="group", color_discrete_map=colours)
    built = charts._coloured_bars(disk, "job", "MiB", "direction", colours, grouped=True)
    assert json.loads(built.to_json()) == json.loads(drawn.to_json())  # Disk I/O, bars side by side
    stages = pd.DataFrame({"stage": ["load", "train", "load", "train"], "run": ["r1", "r1", "r2", "r2"],
                           "value": [3.5, 1.0, 2.0, 4.0], "took": ["00:03:30", "00:01:00", "00:02:00", "00:04:00"]})
    drawn = px.bar(stages, x="stage", y="value", color="run", barmode="group", text="took", custom_data=["took"])
    built = charts._coloured_bars(stages, "stage", "value", "run", {}, text="took", custom_data=["took"], grouped=True)
    assert json.loads(built.to_json()) == json.loads(drawn.to_json())  # Stage durations, labelled by their text
