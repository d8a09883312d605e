"""Sweeps on the SACCT and job pages: arrays and same-named jobs (core.sacct.sweeps) as tables and a histogram."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.sacct.sweeps import COVERAGE, Sweep, SweepSummary, find_sweeps, summarize, tasks_of
from core.services import sacct_selection
from core.services.palette import state_colour
from core.services.tables import ColumnKind, Table, headed_table
from core.settings import Settings
from core.text import plotly_plain
from core.units import slurm_duration

__all__ = ["COVERAGE", "Sweep", "SweepSummary", "array_of", "efficiency_table", "failed_table", "find",
           "runtime_histogram", "state_table", "summary", "task_of_array"]

#: Bars of the runtime histogram at most.
BINS = 20

FAILED_HEADERS: dict[str, tuple[str, ColumnKind]] = {
    "job-id": ("JobID", "text"), "state": ("State", "text"), "exit-code": ("ExitCode", "text"),
    "elapsed-seconds": ("Elapsed", "duration"),
}
EFFICIENCY_HEADERS: dict[str, tuple[str, ColumnKind]] = {
    "figure": ("Figure", "text"), "tasks measured": ("Tasks measured", "count"), "min": ("Min", "percent"),
    "median": ("Median", "percent"), "max": ("Max", "percent"),
}
STATE_HEADERS: dict[str, tuple[str, ColumnKind]] = {"state": ("State", "text"), "tasks": ("Tasks", "count")}


def find(jobs: pd.DataFrame) -> list[Sweep]:
    """The sweeps among the jobs shown (arrays first by size, then names shared by several jobs of a run)."""
    return find_sweeps(jobs)


def summary(jobs: pd.DataFrame, sweep: Sweep, settings: Settings) -> SweepSummary:
    """The sweep's distribution and advice, with the findings' margin (``ADVICE_MARGIN_PERCENT``)."""
    return summarize(tasks_of(jobs, sweep), settings.advice)


def array_of(rows: pd.DataFrame, job_id: str, settings: Settings) -> tuple[Sweep, SweepSummary] | None:
    """The array ``job_id`` names, from the job page's sacct rows (its tasks and their steps), if it is one."""
    if rows.empty or "_" in job_id:
        return None
    jobs = sacct_selection.metrics(rows)
    found = [s for s in find_sweeps(jobs) if s.kind == "array" and s.ident == job_id]
    return (found[0], summarize(tasks_of(jobs, found[0]), settings.advice)) if found else None


def task_of_array(job_id: str) -> str | None:
    """The array job id of an array task's id (``700_3`` → ``700``), else ``None``."""
    head, sep, tail = job_id.partition("_")
    return head if sep and head.isdigit() and tail.isdigit() else None


def state_table(s: SweepSummary, zone: str) -> Table:
    """Tasks per state."""
    return headed_table(s.states, STATE_HEADERS, zone)


def efficiency_table(s: SweepSummary, zone: str) -> Table:
    """Min, median and max CPU, memory and GPU efficiency of the finished tasks (blank where none recorded it)."""
    return headed_table(s.efficiency, EFFICIENCY_HEADERS, zone)


def failed_table(s: SweepSummary, zone: str) -> Table:
    """The tasks that failed, timed out or ran out of memory, with their exit codes."""
    return headed_table(s.failed, FAILED_HEADERS, zone)


def runtime_histogram(s: SweepSummary) -> go.Figure:
    """Tasks per Elapsed range, stacked by final state in the palette every page uses."""
    fig = go.Figure()
    data = s.elapsed
    if data.empty or "elapsed-seconds" not in data.columns:
        fig.add_annotation(text="no task has an Elapsed", showarrow=False)
        fig.update_layout(title="Runtime of the tasks", height=360)
        return fig
    seconds = data["elapsed-seconds"].astype("float64").to_numpy()
    edges = np.histogram_bin_edges(seconds, bins=min(BINS, max(1, len(np.unique(seconds)))))
    if edges[0] == edges[-1]:
        edges = np.array([edges[0], edges[0] + 1])
    labels = [f"{slurm_duration(a)}–{slurm_duration(b)}" for a, b in pairwise(edges)]
    index = np.clip(np.searchsorted(edges, seconds, side="right") - 1, 0, len(labels) - 1)
    states = data["state"].fillna("unknown").astype(str).to_numpy() if "state" in data.columns else \
        np.full(len(data), "unknown")
    for state in pd.unique(states):
        counts = np.bincount(index[states == state], minlength=len(labels))
        fig.add_bar(x=labels, y=counts, name=plotly_plain(state), marker_color=state_colour(state),
                    hovertemplate="%{x}<br>%{y} tasks<extra>%{fullData.name}</extra>")
    fig.update_layout(barmode="stack", title=f"Runtime of the {len(data):,} tasks with an Elapsed", height=360,
                      bargap=0.05, legend_title_text="State")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels, title="Elapsed")
    fig.update_yaxes(title="tasks", rangemode="tozero", tickformat="d")
    return fig
