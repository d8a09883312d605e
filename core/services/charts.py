"""Plotly figures for the pages (plotly lives in core; streamlit does not)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.services.management import PHASE_COLOURS

#: Slurm state colours, consistent on every chart.
STATE_COLOURS: dict[str, str] = {
    "COMPLETED": "#28b463", "RUNNING": "#2e86c1", "PENDING": "#f5b041", "FAILED": "#e74c3c",
    "TIMEOUT": "#d35400", "CANCELLED": "#a04000", "OUT_OF_MEMORY": "#8e44ad", "NODE_FAIL": "#7b241c",
    "PREEMPTED": "#5d6d7e", "BOOT_FAIL": "#641e16", "DEADLINE": "#b03a2e", "REQUEUED": "#85c1e9",
    "SUSPENDED": "#aab7b8",
}
#: Above this many points, scatter plots use WebGL.
WEBGL_POINTS = 2000
#: Most bars or timeline rows drawn; beyond it the longest/latest are shown and the title says so.
MAX_BARS = 300

_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "template": "plotly_white", "legend_title_text": ""}


def _finish(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(title=title, **_LAYOUT)
    return fig


def _empty(title: str, why: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=why, showarrow=False, font={"size": 14, "color": "#6b7785"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _finish(fig, title)


def state_counts(jobs: pd.DataFrame) -> go.Figure:
    """Jobs per state."""
    if jobs.empty or "state" not in jobs or jobs["state"].isna().all():
        return _empty("Jobs by state", "no state in this data")
    counts = jobs["state"].fillna("unknown").value_counts().rename_axis("state").reset_index(name="jobs")
    fig = px.bar(counts, x="state", y="jobs", color="state", color_discrete_map=STATE_COLOURS, text="jobs")
    fig.update_layout(showlegend=False)
    return _finish(fig, "Jobs by state")


def elapsed_per_job(jobs: pd.DataFrame) -> go.Figure:
    """Elapsed time per job, array tasks and het components grouped under their parent job."""
    data = jobs.dropna(subset=["elapsed-seconds"]) if "elapsed-seconds" in jobs else jobs.iloc[0:0]
    if data.empty:
        return _empty("Elapsed time per job", "no Elapsed in this data")
    title = "Elapsed time per job (hours)"
    data = data.assign(hours=data["elapsed-seconds"] / 3600)
    if len(data) > MAX_BARS:
        data = data.nlargest(MAX_BARS, "hours")
        title += f" — longest {MAX_BARS} of {len(jobs):,}"
    fig = px.bar(data, x="job-id", y="hours", color="state", color_discrete_map=STATE_COLOURS,
                 hover_data=["parent-job-id", "job-name"] if "job-name" in data else ["parent-job-id"])
    fig.update_xaxes(type="category", categoryorder="array",
                     categoryarray=data.sort_values(["parent-job-id", "job-id"])["job-id"].tolist())
    return _finish(fig, title)


def efficiency(jobs: pd.DataFrame) -> go.Figure:
    """CPU, time and memory efficiency of every job as box plots (100 % is the whole allocation)."""
    columns = [c for c in ("cpu-efficiency", "time-efficiency", "memory-efficiency") if c in jobs]
    long = jobs.melt(id_vars=["job-id"], value_vars=columns, var_name="metric", value_name="efficiency").dropna()
    if long.empty:
        return _empty("Efficiency", "efficiency needs TotalCPU, Elapsed, AllocCPUS, Timelimit or MaxRSS/ReqMem")
    long["metric"] = long["metric"].str.replace("-efficiency", "", regex=False)
    long["efficiency"] = long["efficiency"] * 100
    fig = px.box(long, x="metric", y="efficiency", points="outliers" if len(long) > WEBGL_POINTS else "all",
                 hover_data=["job-id"], color="metric")
    fig.update_yaxes(title="% of what was allocated")
    fig.update_layout(showlegend=False)
    return _finish(fig, "Efficiency per job")


def cpu_vs_memory(jobs: pd.DataFrame) -> go.Figure:
    """CPU efficiency against memory efficiency, one point per job (WebGL for many points)."""
    data = jobs.dropna(subset=[c for c in ("cpu-efficiency", "memory-efficiency") if c in jobs] or ["job-id"])
    if data.empty or "cpu-efficiency" not in data or "memory-efficiency" not in data:
        return _empty("CPU vs memory efficiency", "needs both CPU and memory efficiency")
    fig = px.scatter(data, x="cpu-efficiency", y="memory-efficiency", color="state", color_discrete_map=STATE_COLOURS,
                     hover_data=["job-id"], render_mode="webgl" if len(data) > WEBGL_POINTS else "svg")
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(tickformat=".0%")
    return _finish(fig, "CPU vs memory efficiency")


def job_timeline(jobs: pd.DataFrame) -> go.Figure:
    """Each job's queue wait (submit → start) and run (start → end)."""
    needed = [c for c in ("submit-time", "start-time", "end-time") if c in jobs]
    data = jobs.dropna(subset=["start-time"]) if "start-time" in needed else jobs.iloc[0:0]
    if data.empty:
        return _empty("Job timeline", "no Start times in this data")
    title = "Job timeline"
    if len(data) > MAX_BARS:
        data = data.nlargest(MAX_BARS, "start-time")
        title += f" — latest {MAX_BARS} of {len(jobs):,}"
    data = data.sort_values("start-time")
    start = pd.to_datetime(data["start-time"], unit="s", utc=True)
    end = pd.to_datetime(data["end-time"], unit="s", utc=True) if "end-time" in data else start
    fig = go.Figure()
    if "submit-time" in data:
        submit = pd.to_datetime(data["submit-time"], unit="s", utc=True)
        fig.add_trace(go.Bar(y=data["job-id"], x=(start - submit).dt.total_seconds() * 1000, base=submit,
                             orientation="h", name="queued", marker_color="#f5b041"))
    fig.add_trace(go.Bar(y=data["job-id"], x=(end.fillna(start) - start).dt.total_seconds() * 1000, base=start,
                         orientation="h", name="running",
                         marker_color=[STATE_COLOURS.get(str(s), "#2e86c1") for s in data.get("state", [])]))
    fig.update_layout(barmode="overlay", xaxis_type="date", height=max(350, min(900, 18 * len(data))))
    fig.update_yaxes(type="category", autorange="reversed")
    return _finish(fig, title)


def queue_wait(jobs: pd.DataFrame) -> go.Figure:
    """Distribution of queue wait (start − submit) in minutes."""
    data = jobs.dropna(subset=["queue-wait-seconds"]) if "queue-wait-seconds" in jobs else jobs.iloc[0:0]
    if data.empty:
        return _empty("Queue wait", "needs Submit and Start")
    fig = px.histogram(data.assign(minutes=data["queue-wait-seconds"] / 60), x="minutes", nbins=40,
                       color_discrete_sequence=["#f5b041"])
    return _finish(fig, "Queue wait (minutes)")


def disk_io(frame: pd.DataFrame) -> go.Figure:
    """Disk read and write per job (sum over steps)."""
    pairs = [("read", c) for c in ("ave-disk-read-bytes", "max-disk-read") if c in frame][:1] + \
        [("write", c) for c in ("ave-disk-write-bytes", "max-disk-write") if c in frame][:1]
    if not pairs:
        return _empty("Disk I/O", "no disk read/write fields in this data")
    grouped = frame.groupby("job-id")[[c for _, c in pairs]].sum(min_count=1).dropna(how="all")
    if grouped.empty:
        return _empty("Disk I/O", "disk fields are empty")
    grouped = grouped.rename(columns={c: n for n, c in pairs}) / 1024**2
    if len(grouped) > MAX_BARS:
        grouped = grouped.loc[grouped.sum(axis=1).nlargest(MAX_BARS).index]
    long = grouped.reset_index().melt(id_vars="job-id", var_name="direction", value_name="MiB")
    fig = px.bar(long, x="job-id", y="MiB", color="direction", barmode="group",
                 color_discrete_map={"read": "#5dade2", "write": "#af7ac5"})
    fig.update_xaxes(type="category")
    return _finish(fig, "Disk read / write per job (MiB)")


def times_timeline(frame: pd.DataFrame) -> go.Figure:
    """Stage timeline of each run."""
    data = frame[frame["end"] > frame["begin"]] if not frame.empty else frame
    if data.empty:
        return _empty("Stage timeline", "no timed stage in the selected runs")
    fig = px.bar(data, x="total", base="offset", y="run", color="stage", orientation="h", hover_data=["start"])
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title="seconds since the run started")
    return _finish(fig, "Stage timeline")


def stage_bars(frame: pd.DataFrame) -> go.Figure:
    """Seconds per stage, runs side by side."""
    if frame.empty:
        return _empty("Stage durations", "no run selected")
    fig = px.bar(frame, x="stage", y="total", color="run", barmode="group", text_auto=".1f")
    fig.update_yaxes(title="seconds")
    return _finish(fig, "Stage durations (s)")


def phase_bars(counts: pd.DataFrame, order: list[str] | None = None) -> go.Figure:
    """Jobs per phase on every platform, platforms in ``order`` (the Management tabs' order) when given."""
    if counts.empty:
        return _empty("Jobs by status", "no jobs")
    fig = px.bar(counts, x="platform", y="jobs", color="status", color_discrete_map=PHASE_COLOURS, text="jobs")
    tallest = int(counts.groupby("platform")["jobs"].sum().max())
    fig.update_yaxes(dtick=1 if tallest <= 10 else None, tickformat=",d")  # job counts are whole numbers
    if order is not None:
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)
    return _finish(fig, "Jobs by status per platform")
