"""Platforms side by side: queue wait, failures, efficiency and core-hours of the chosen runs, per platform.

The per-job figures are those of :func:`core.sacct.job_metrics` (through :func:`core.services.sacct.metrics`); this
module only groups them by the platform each run was stored with, and draws every platform on the same axes.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.platforms import platform_order
from core.sacct.metrics import UNFINISHED_STATES
from core.services.charts import durations, empty_figure
from core.services.sacct_selection import FAILED_STATES
from core.text import plotly_plain

#: Platform colours (the same on every comparison figure).
PLATFORM_COLOURS: dict[str, str] = {"puhti": "#1f77b4", "mahti": "#ff7f0e", "roihu": "#9467bd", "lumi": "#2ca02c",
                                    "other": "#7f7f7f", "unknown": "#c7c7c7"}

_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 100, "b": 10}, "showlegend": False}


def with_platform(jobs: pd.DataFrame, platforms: Mapping[str, str]) -> pd.DataFrame:
    """Per-job metrics (with their ``run`` column) with a ``platform`` column from ``platforms`` (run → platform)."""
    run = jobs["run"].astype(str) if "run" in jobs.columns else pd.Series("", index=jobs.index)
    return jobs.assign(platform=run.map(dict(platforms)).fillna("unknown").astype(str))


def _finished(jobs: pd.DataFrame) -> pd.Series:
    """job_metrics' ``finished`` (a state that is not in UNFINISHED_STATES), for frames that carry it."""
    if "finished" in jobs.columns:
        return jobs["finished"].fillna(False).astype(bool)
    state = jobs["state"].astype("string") if "state" in jobs.columns else pd.Series(pd.NA, index=jobs.index,
                                                                                      dtype="string")
    return (state.notna() & ~state.isin(UNFINISHED_STATES)).fillna(False).astype(bool)


def core_hours(jobs: pd.DataFrame) -> pd.Series:
    """Allocated core-hours of each job: job_metrics' ``core-seconds`` (Elapsed × AllocCPUS) in hours."""
    if "core-seconds" not in jobs.columns:
        return pd.Series(float("nan"), index=jobs.index, dtype="float64")
    return jobs["core-seconds"].astype("float64") / 3600


def comparison(jobs: pd.DataFrame) -> pd.DataFrame:
    """One row per platform (in :func:`core.platforms.platform_order`), each figure with the count it is over.

    Columns: ``jobs``; ``finished`` (jobs with an end state); ``failed`` and ``failure rate`` (failed / finished);
    ``queue wait median min`` (minutes) over ``jobs with queue wait``; ``CPU efficiency median`` and
    ``memory efficiency median`` over the finished jobs that have them (``jobs with CPU efficiency``, ``jobs with memory
    efficiency``); ``core-hours`` (sum over ``jobs with core-hours``); ``GPU-hours`` (GPUs × Elapsed, summed over
    ``jobs with GPUs``).
    """
    columns = ["platform", "jobs", "finished", "failed", "failure rate", "jobs with queue wait",
               "queue wait median min", "jobs with CPU efficiency", "CPU efficiency median",
               "jobs with memory efficiency", "memory efficiency median", "jobs with core-hours", "core-hours",
               "jobs with GPUs", "GPU-hours"]
    if jobs.empty or "platform" not in jobs.columns:
        return pd.DataFrame(columns=columns)
    finished = _finished(jobs)
    failed = finished & jobs["state"].astype("string").isin(FAILED_STATES).fillna(False).astype(bool)
    hours = core_hours(jobs)
    rows = []
    for platform in platform_order(jobs["platform"].astype(str).unique()):
        mine = jobs["platform"] == platform
        done = mine & finished
        wait = jobs.loc[mine, "queue-wait-seconds"].dropna() if "queue-wait-seconds" in jobs else pd.Series()
        cpu = jobs.loc[done, "cpu-efficiency"].dropna() if "cpu-efficiency" in jobs else pd.Series()
        mem = jobs.loc[done, "memory-efficiency"].dropna() if "memory-efficiency" in jobs else pd.Series()
        used = hours[mine].dropna()
        n_done = int(done.sum())
        gpus = jobs["gpus"].astype("Float64").fillna(0) if "gpus" in jobs.columns else pd.Series(0, index=jobs.index)
        gpu_jobs = mine & (gpus > 0).astype(bool) & (jobs["gpu-hours"].notna() if "gpu-hours" in jobs else False)
        rows.append({
            "platform": platform, "jobs": int(mine.sum()), "finished": n_done, "failed": int((mine & failed).sum()),
            "failure rate": (float((mine & failed).sum()) / n_done) if n_done else None,
            "jobs with queue wait": len(wait),
            "queue wait median min": float(wait.median()) / 60 if len(wait) else None,
            "jobs with CPU efficiency": len(cpu), "CPU efficiency median": float(cpu.median()) if len(cpu) else None,
            "jobs with memory efficiency": len(mem),
            "memory efficiency median": float(mem.median()) if len(mem) else None,
            "jobs with core-hours": len(used), "core-hours": float(used.sum()) if len(used) else None,
            "jobs with GPUs": int(gpu_jobs.sum()),
            "GPU-hours": float(jobs.loc[gpu_jobs, "gpu-hours"].sum()) if gpu_jobs.any() else None,
        })
    return pd.DataFrame(rows, columns=columns)


def _empty(title: str, why: str) -> go.Figure:
    return empty_figure(title, why).update_layout(**_LAYOUT)


def _counts_label(table: pd.DataFrame, column: str, what: str) -> str:
    """``what: mahti 12, other 40`` (platform names are plain words: known names or ``other``)."""
    return f"{what}: " + ", ".join(f"{p} {int(n):,}" for p, n in zip(table["platform"], table[column], strict=True))


def _plain(data: pd.DataFrame) -> pd.DataFrame:
    """Run names and job ids come from storage: escaped, since Plotly renders markup in hover text."""
    return data.assign(**{c: data[c].astype(str).map(plotly_plain) for c in ("run", "job-id") if c in data.columns})


def _finish(fig: go.Figure, title: str, order: list[str], counts: str) -> go.Figure:
    """Platforms in ``order`` on the x axis; the title, and under it what the figure counts."""
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order, title="platform")
    fig.update_layout(title={"text": title, "subtitle": {"text": counts}}, **_LAYOUT)
    return fig


def queue_wait_figure(jobs: pd.DataFrame, table: pd.DataFrame) -> go.Figure:
    """Queue wait (Start − Submit) of every job with both, per platform, on one axis in the unit the data reads in."""
    order = table["platform"].tolist()
    data = jobs.dropna(subset=["queue-wait-seconds"]) if "queue-wait-seconds" in jobs else jobs.iloc[0:0]
    if data.empty:
        return _empty("Queue wait per platform", "no job has both Submit and Start")
    wait = durations(data["queue-wait-seconds"])
    data = _plain(data.assign(wait=wait.values, waited=wait.text))
    fig = px.box(data, x="platform", y="wait", color="platform", color_discrete_map=PLATFORM_COLOURS,
                 points="outliers", hover_data={"run": True, "job-id": True, "waited": True, "wait": False},
                 labels={"waited": "queue wait"})
    fig.update_yaxes(title=f"{wait.unit} in the queue", rangemode="tozero")
    return _finish(fig, "Queue wait per platform", order,
                   _counts_label(table, "jobs with queue wait", "jobs with Submit and Start"))


def failure_figure(table: pd.DataFrame) -> go.Figure:
    """Failed share of the finished jobs per platform, on a 0-100 % axis."""
    data = table.dropna(subset=["failure rate"])
    if data.empty:
        return _empty("Failure rate per platform", "no finished job with a state")
    fig = px.bar(data, x="platform", y="failure rate", color="platform", color_discrete_map=PLATFORM_COLOURS,
                 text=[f"{f:,} of {n:,}" for f, n in zip(data["failed"], data["finished"], strict=True)])
    fig.update_yaxes(title="failed / finished jobs", tickformat=".0%", range=[0, 1])
    counts = ", ".join(f"{p} {int(f):,} of {int(n):,}" for p, f, n in
                       zip(table["platform"], table["failed"], table["finished"], strict=True))
    return _finish(fig, "Failure rate per platform", table["platform"].tolist(),
                   f"{', '.join(FAILED_STATES)}<br>of the finished jobs: {counts}")


def efficiency_figure(jobs: pd.DataFrame, table: pd.DataFrame) -> go.Figure:
    """CPU and memory efficiency of the finished jobs per platform, on one percent axis."""
    done = jobs[_finished(jobs)]
    columns = [c for c in ("cpu-efficiency", "memory-efficiency") if c in done.columns]
    long = done.melt(id_vars=["platform", "run", "job-id"], value_vars=columns, var_name="metric",
                     value_name="efficiency").dropna(subset=["efficiency"]) if columns else done.iloc[0:0]
    if long.empty:
        return _empty("Efficiency per platform", "no finished job has TotalCPU and AllocCPUS, or MaxRSS and ReqMem")
    long = _plain(long)
    long["metric"] = long["metric"].map({"cpu-efficiency": "CPU", "memory-efficiency": "memory"})
    fig = px.box(long, x="platform", y="efficiency", color="metric", points="outliers",
                 hover_data=["run", "job-id"], color_discrete_map={"CPU": "#2e86c1", "memory": "#af7ac5"})
    fig.update_yaxes(title="% of what was allocated", tickformat=".0%", rangemode="tozero")
    fig.update_layout(showlegend=True)
    counts = (_counts_label(table, "jobs with CPU efficiency", "finished jobs with CPU eff.") + "<br>"
              + _counts_label(table, "jobs with memory efficiency", "with memory eff."))
    return _finish(fig, "Efficiency per platform", table["platform"].tolist(), counts).update_layout(showlegend=True)


def core_hours_figure(table: pd.DataFrame) -> go.Figure:
    """Allocated core-hours (Elapsed × AllocCPUS) per platform."""
    data = table.dropna(subset=["core-hours"])
    if data.empty:
        return _empty("Core-hours per platform", "needs Elapsed and AllocCPUS")
    fig = px.bar(data, x="platform", y="core-hours", color="platform", color_discrete_map=PLATFORM_COLOURS,
                 text_auto=",.0f")
    fig.update_yaxes(title="core-hours (Elapsed × AllocCPUS)", tickformat=",.0f", rangemode="tozero")
    return _finish(fig, "Allocated core-hours per platform", table["platform"].tolist(),
                   _counts_label(table, "jobs with core-hours", "jobs with Elapsed and AllocCPUS"))


def gpu_hours_figure(table: pd.DataFrame) -> go.Figure:
    """Allocated GPU-hours (GPUs × Elapsed; GCDs on LUMI) per platform."""
    data = table.dropna(subset=["GPU-hours"]) if "GPU-hours" in table else table.iloc[0:0]
    if data.empty:
        return _empty("GPU-hours per platform", "no job allocated GPUs (AllocTRES gres/gpu)")
    fig = px.bar(data, x="platform", y="GPU-hours", color="platform", color_discrete_map=PLATFORM_COLOURS,
                 text_auto=",.1f")
    fig.update_yaxes(title="GPU-hours (GPUs × Elapsed)", tickformat=",.0f", rangemode="tozero")
    return _finish(fig, "Allocated GPU-hours per platform", table["platform"].tolist(),
                   _counts_label(table, "jobs with GPUs", "jobs with GPUs") + " (on LUMI a GPU is a GCD)")


def billing_figure(jobs: pd.DataFrame, table: pd.DataFrame) -> go.Figure:
    """What each platform's jobs were billed, one panel per pool: pools are never stacked on one axis."""
    if "billing-unit" not in jobs.columns or jobs["billing-unit"].isna().all():
        return _empty("Billed per platform", "no job's platform and partition have a billing rule")
    data = (jobs.dropna(subset=["billed"]).groupby(["platform", "billing-unit"], as_index=False)
            .agg(billed=("billed", "sum"), jobs=("billed", "size")))
    fig = px.bar(data, x="platform", y="billed", color="platform", facet_col="billing-unit",
                 color_discrete_map=PLATFORM_COLOURS, text_auto=",.1f", hover_data=["jobs"])
    fig.update_yaxes(matches=None, rangemode="tozero", tickformat=",.0f", title=None)
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    counts = ", ".join(f"{p} {u} {int(n):,} jobs" for p, u, n in
                       zip(data["platform"], data["billing-unit"], data["jobs"], strict=True))
    return _finish(fig, "Billed per platform, one panel per pool", table["platform"].tolist(), counts)
