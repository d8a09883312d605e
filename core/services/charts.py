"""Plotly figures for the pages (plotly lives in core; streamlit does not)."""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio

from core.sacct import finished_that_ran
from core.services import tables
from core.services.palette import PHASE_COLOURS, STATE_COLOURS, state_colour
from core.text import plotly_plain, plotly_plain_frame
from core.units import duration_unit

#: Chart names of the efficiency columns, in Slurm's words.
EFFICIENCY_NAMES = {"cpu-efficiency": "CPU eff.", "time-efficiency": "Time eff.", "memory-efficiency": "Mem eff."}
#: What the efficiency chart shows, said under it.
EFFICIENCY_HELP = (
    "Only finished jobs that ran have efficiencies (TotalCPU and MaxRSS of a running job are only updated when a "
    "step ends). CPU eff. = TotalCPU / (Elapsed × AllocCPUS); Time eff. = Elapsed / Timelimit; Mem eff. = "
    "MaxRSS × NTasks / the job's memory (AllocTRES mem=, else ReqMem). Mem eff. can pass 100 %: MaxRSS is each "
    "task's own peak, and multiplying it by NTasks assumes every task peaked at the same moment."
)
#: Above this many points, scatter plots use WebGL.
WEBGL_POINTS = 2000
#: Most bars or timeline rows drawn; beyond it the longest/latest are shown and the title says so.
MAX_BARS = 300
#: Above this many values, box plots are drawn from their statistics: the browser gets five numbers per box, not
#: every value (600,000 values of a 1,000,000-row upload were 29 MB of JSON and 7 s of CPU per page run).
BOX_VALUES = 20_000

_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "legend_title_text": ""}


def _finish(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(title=title, **_LAYOUT)
    return fig


def _whole_counts(fig: go.Figure, tallest: int, axis: str = "y") -> None:
    """Count axes tick at whole numbers only (a job count of 2.5 means nothing)."""
    ticks = {"dtick": 1 if tallest <= 10 else None, "tickformat": ",d", "rangemode": "tozero"}
    (fig.update_yaxes if axis == "y" else fig.update_xaxes)(**ticks)


def _coloured_bars(frame: pd.DataFrame, x: str, y: str, colour: str, colours: dict[str, str], *,
                   text: str | None = None, custom_data: list[str] | None = None, grouped: bool = False) -> go.Figure:
    """Plotly Express's bar chart of ``frame`` coloured by ``colour``, built directly.

    The figure of ``px.bar(frame, x=x, y=y, color=colour, color_discrete_map=colours, text=text,
    custom_data=custom_data, barmode="group" if grouped else "relative")``.

    One bar trace per ``colour`` value in order of appearance, a value missing from ``colours`` given the template's
    next colour as Plotly Express gives it, the same hover text, axis and legend titles. Plotly Express builds and
    checks its template again for every figure (about 50 ms each); the figure a browser gets is the same.
    """
    sequence = list(pio.templates[pio.templates.default].layout.colorway or px.colors.qualitative.Plotly)
    chosen = dict(colours)
    hover = f"{x}=%{{x}}<br>{y}=%{{{'text' if text == y else 'y'}}}"
    hover += ("" if text in (None, y) else f"<br>{text}=%{{text}}") + "<extra></extra>"
    values = frame[colour]
    traces = []
    for value in values.drop_duplicates():
        if value not in chosen:
            chosen[value] = sequence[len(chosen) % len(sequence)]
        rows = frame[(values == value).to_numpy()]
        extra: dict[str, object] = {}
        if text is not None:  # the bar's own value as a number, another column as it is
            extra["text"] = rows[y].to_numpy(dtype="float64") if text == y else rows[text].to_numpy(dtype=object)
        if custom_data:
            extra["customdata"] = rows[custom_data].to_numpy(dtype=object)
        if grouped:
            extra.update(alignmentgroup="True", offsetgroup=str(value))
        traces.append(go.Bar(
            x=rows[x].to_numpy(dtype=object), y=rows[y].to_numpy(), **extra,
            name=str(value), legendgroup=str(value), showlegend=True, orientation="v", textposition="auto",
            marker={"color": chosen[value], "pattern": {"shape": ""}}, xaxis="x", yaxis="y",
            hovertemplate=hover if colour == x else f"{colour}={value}<br>{hover}"))
    xaxis: dict[str, object] = {"anchor": "y", "domain": [0.0, 1.0], "title": {"text": x}}
    if colour == x:  # one trace per bar: the bars keep the frame's order
        xaxis.update(categoryorder="array", categoryarray=list(values.drop_duplicates()))
    fig = go.Figure(traces, {"xaxis": xaxis, "yaxis": {"anchor": "x", "domain": [0.0, 1.0], "title": {"text": y}},
                             "legend": {"title": {"text": colour}, "tracegroupgap": 0}, "margin": {"t": 60},
                             "barmode": "group" if grouped else "relative"})
    return fig


def _jobs(count: int) -> str:
    return f"{count:,} job" if count == 1 else f"{count:,} jobs"


def plain(values: pd.Series) -> pd.Series:
    """Text from a file or storage made safe for Plotly labels and hover text, which render HTML tags."""
    return values.astype("object").map(lambda v: "" if pd.isna(v) else plotly_plain(v))


class Durations(NamedTuple):
    """Durations as a chart shows them: on an axis in one unit picked from the data, as text where a user reads one."""

    values: pd.Series  # the durations in ``unit``
    text: pd.Series  # each as Slurm prints it, [D-]HH:MM:SS (labels and hover)
    unit: str  # s, min, h or days: the axis title's unit


def durations(seconds: pd.Series, largest: float | None = None) -> Durations:
    """Seconds as every duration chart shows them (:func:`core.units.duration_unit` of the largest).

    Args:
        seconds: the durations in seconds (null when unknown).
        largest: the value that picks the unit when the axis reaches past every duration (a timeline's end).
    """
    numbers = pd.to_numeric(seconds, errors="coerce").astype("float64")
    top = numbers.abs().max() if largest is None else largest
    unit, scale = duration_unit(0.0 if pd.isna(top) else float(top))
    return Durations(numbers / scale, numbers.map(tables.duration_text), unit)


def _labels(jobs: pd.DataFrame) -> pd.Series:
    """The job label charts use as a category: ``job`` (unique across runs) when present, else the job id."""
    return plain(jobs["job"] if "job" in jobs.columns else jobs["job-id"])


def empty_figure(title: str, why: str) -> go.Figure:
    """A chart with nothing to draw: its title, and why there is nothing, where the bars would be."""
    fig = go.Figure()
    fig.add_annotation(text=why, showarrow=False, font={"size": 14, "color": "#6b7785"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _finish(fig, title)


def state_counts(jobs: pd.DataFrame) -> go.Figure:
    """Jobs per state."""
    if jobs.empty or "state" not in jobs or jobs["state"].isna().all():
        return empty_figure("Jobs by state", "no state in this data")
    counts = jobs["state"].fillna("unknown").value_counts().rename_axis("state").reset_index(name="jobs")
    counts["state"] = plain(counts["state"])
    fig = _coloured_bars(counts, "state", "jobs", "state", STATE_COLOURS, text="jobs")
    fig.update_layout(showlegend=False)
    _whole_counts(fig, int(counts["jobs"].max()))
    return _finish(fig, f"Jobs by state ({len(jobs):,} jobs)")


def elapsed_per_job(jobs: pd.DataFrame) -> go.Figure:
    """Elapsed time of finished jobs, longest first (the longest ``MAX_BARS`` when there are more)."""
    finished = jobs[jobs["finished"].astype(bool)] if "finished" in jobs else jobs
    data = finished.dropna(subset=["elapsed-seconds"]) if "elapsed-seconds" in finished else finished.iloc[0:0]
    if data.empty:
        return empty_figure("Elapsed time per job", "no finished job with an Elapsed in this selection")
    data = data.sort_values("elapsed-seconds", ascending=False, kind="stable")
    title = f"Elapsed per finished job, longest first ({len(data):,} jobs)"
    if len(data) > MAX_BARS:
        title = f"Elapsed per finished job: the longest {MAX_BARS} of {len(data):,}, longest first"
        data = data.head(MAX_BARS)
    elapsed = durations(data["elapsed-seconds"])
    data = data.assign(value=elapsed.values, label=_labels(data), state=plain(data["state"]), elapsed=elapsed.text,
                       name=plain(data["job-name"]) if "job-name" in data else "")
    fig = _coloured_bars(data, "label", "value", "state", STATE_COLOURS,
                         custom_data=["elapsed", "name"])
    fig.update_traces(
        hovertemplate="%{x}<br>Elapsed %{customdata[0]}<br>%{customdata[1]}<extra>%{fullData.name}</extra>")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=data["label"].tolist(), title="job")
    fig.update_yaxes(title=f"Elapsed ({elapsed.unit})")
    return _finish(fig, title)


def efficiency(jobs: pd.DataFrame) -> go.Figure:
    """CPU, time and memory efficiency of the finished jobs that ran as box plots (100 % is the whole allocation).

    A running job's time efficiency so far is its own figure (the job page), not one of these.
    """
    columns = [c for c in ("cpu-efficiency", "time-efficiency", "memory-efficiency") if c in jobs]
    jobs = jobs[finished_that_ran(jobs)]
    data = jobs.assign(label=_labels(jobs)) if len(jobs) else jobs.assign(label=pd.Series(dtype="object"))
    long = data.melt(id_vars=["label"], value_vars=columns, var_name="metric", value_name="efficiency").dropna()
    if long.empty:
        return empty_figure("Efficiency", "efficiency needs finished jobs with TotalCPU, Elapsed, AllocCPUS, "
                            "Timelimit or MaxRSS and ReqMem")
    counts = long.groupby("metric")["efficiency"].size()
    long["metric"] = long["metric"].map(lambda m: f"{EFFICIENCY_NAMES[m]} ({_jobs(counts[m])})")
    long["efficiency"] = long["efficiency"] * 100
    if len(long) > BOX_VALUES:
        fig = _summarised_boxes(long)
    else:
        fig = px.box(long, x="metric", y="efficiency", points="outliers" if len(long) > WEBGL_POINTS else "all",
                     hover_data={"label": True, "metric": False}, color="metric")
    fig.update_yaxes(title="% of what was allocated")
    fig.update_xaxes(title="")
    fig.update_layout(showlegend=False)
    return _finish(fig, "Efficiency of finished jobs")


def _summarised_boxes(long: pd.DataFrame) -> go.Figure:
    """One box per metric from its statistics, without the values themselves.

    Plotly's own rules: linear quartiles, whiskers at the furthest values within 1.5 × IQR of the box.
    """
    fig = go.Figure()
    for metric, values in long.groupby("metric", sort=False)["efficiency"]:
        q1, median, q3 = (float(values.quantile(q)) for q in (0.25, 0.5, 0.75))
        reach = 1.5 * (q3 - q1)
        lower = float(values[values >= q1 - reach].min())
        upper = float(values[values <= q3 + reach].max())
        fig.add_trace(go.Box(x=[metric], name=str(metric), q1=[q1], median=[median], q3=[q3], lowerfence=[lower],
                             upperfence=[upper], mean=[float(values.mean())], boxpoints=False))
    return fig


def cpu_vs_memory(jobs: pd.DataFrame) -> go.Figure:
    """CPU efficiency against memory efficiency, one point per job (WebGL for many points)."""
    data = jobs.dropna(subset=[c for c in ("cpu-efficiency", "memory-efficiency") if c in jobs] or ["job-id"])
    if data.empty or "cpu-efficiency" not in data or "memory-efficiency" not in data:
        return empty_figure("CPU vs memory efficiency", "needs both CPU and memory efficiency")
    data = data.assign(label=_labels(data), state=plain(data["state"]))
    fig = px.scatter(data, x="cpu-efficiency", y="memory-efficiency", color="state", color_discrete_map=STATE_COLOURS,
                     hover_data=["label"], render_mode="webgl" if len(data) > WEBGL_POINTS else "svg")
    fig.update_xaxes(tickformat=".0%", title="CPU eff.")
    fig.update_yaxes(tickformat=".0%", title="Mem eff.")
    return _finish(fig, f"CPU vs memory efficiency ({len(data):,} finished jobs)")


def job_timeline(jobs: pd.DataFrame) -> go.Figure:
    """Each job's queue wait (submit → start) and run (start → end)."""
    needed = [c for c in ("submit-time", "start-time", "end-time") if c in jobs]
    data = jobs.dropna(subset=["start-time"]) if "start-time" in needed else jobs.iloc[0:0]
    if data.empty:
        return empty_figure("Job timeline", "no Start times in this data")
    title = "Job timeline"
    if len(data) > MAX_BARS:
        data = data.nlargest(MAX_BARS, "start-time")
        title += f" — latest {MAX_BARS} of {len(jobs):,}"
    data = data.sort_values("start-time")
    labels = _labels(data)
    start = pd.to_datetime(data["start-time"], unit="s", utc=True)
    end = pd.to_datetime(data["end-time"], unit="s", utc=True) if "end-time" in data else start
    fig = go.Figure()
    hover = "%{y}<br>%{base|%Y-%m-%d %H:%M:%S} + %{customdata}<extra>%{fullData.name}</extra>"
    if "submit-time" in data:
        submit = pd.to_datetime(data["submit-time"], unit="s", utc=True)
        waited = (start - submit).dt.total_seconds()
        fig.add_trace(go.Bar(y=labels, x=waited * 1000, base=submit, orientation="h", name="queued",
                             marker_color="#f5b041", customdata=durations(waited).text, hovertemplate=hover))
    ran = (end.fillna(start) - start).dt.total_seconds()
    fig.add_trace(go.Bar(y=labels, x=ran * 1000, base=start, orientation="h", name="running",
                         customdata=durations(ran).text, hovertemplate=hover,
                         marker_color=[state_colour(s) for s in data["state"]] if "state" in data else None))
    fig.update_layout(barmode="overlay", xaxis_type="date", height=max(350, min(900, 18 * len(data))))
    fig.update_yaxes(type="category", autorange="reversed")
    return _finish(fig, title)


def queue_wait(jobs: pd.DataFrame) -> go.Figure:
    """Distribution of queue wait (start − submit), in the unit the longest wait reads best in."""
    data = jobs.dropna(subset=["queue-wait-seconds"]) if "queue-wait-seconds" in jobs else jobs.iloc[0:0]
    if data.empty:
        return empty_figure("Queue wait", "needs Submit and Start")
    wait = durations(data["queue-wait-seconds"])
    fig = px.histogram(data.assign(wait=wait.values), x="wait", nbins=40,
                       color_discrete_sequence=[STATE_COLOURS["PENDING"]])
    fig.update_xaxes(title=f"queue wait ({wait.unit})")
    fig.update_yaxes(title="jobs")
    _whole_counts(fig, len(data))  # no bin holds more than every job
    return _finish(fig, f"Queue wait ({wait.unit}) of {len(data):,} started jobs")


def disk_io(frame: pd.DataFrame) -> go.Figure:
    """Disk read and write per job (sum over steps)."""
    pairs = [("read", c) for c in ("ave-disk-read-bytes", "max-disk-read") if c in frame][:1] + \
        [("write", c) for c in ("ave-disk-write-bytes", "max-disk-write") if c in frame][:1]
    if not pairs:
        return empty_figure("Disk I/O", "no disk read/write fields in this data")
    key = [k for k in ("run", "cluster", "job-id") if k in frame.columns]
    grouped = frame.groupby(key)[[c for _, c in pairs]].sum(min_count=1).dropna(how="all")
    if grouped.empty:
        return empty_figure("Disk I/O", "disk fields are empty")
    grouped = grouped.rename(columns={c: n for n, c in pairs}) / 1024**2
    title = f"Disk read / write per job (MiB), {len(grouped):,} jobs"
    if len(grouped) > MAX_BARS:
        title = f"Disk read / write per job (MiB): the {MAX_BARS} largest of {len(grouped):,} jobs"
        grouped = grouped.loc[grouped.sum(axis=1).nlargest(MAX_BARS).index]
    grouped = grouped.reset_index()
    grouped["job"] = plain(_disk_labels(grouped))
    long = grouped.drop(columns=key).melt(id_vars="job", var_name="direction", value_name="MiB")
    fig = _coloured_bars(long, "job", "MiB", "direction", {"read": "#5dade2", "write": "#af7ac5"},
                         grouped=True)
    fig.update_xaxes(type="category")
    return _finish(fig, title)


def _disk_labels(grouped: pd.DataFrame) -> pd.Series:
    label = grouped["job-id"].astype("string")
    if "cluster" in grouped.columns and grouped["cluster"].nunique() > 1:
        label = grouped["cluster"].fillna("").astype("string") + ":" + label
    if "run" in grouped.columns and grouped["run"].nunique() > 1:
        label = label + " · " + grouped["run"].astype("string")
    return label


def times_timeline(frame: pd.DataFrame) -> go.Figure:
    """Stage timeline of each run."""
    data = frame[frame["end"] > frame["begin"]] if not frame.empty else frame
    if data.empty:
        return empty_figure("Stage timeline", "no timed stage in the selected runs")
    data = plotly_plain_frame(data)  # run and stage names come from object names and files
    total = durations(data["total"], largest=float((data["offset"] + data["total"]).max()))
    offset = durations(data["offset"], largest=float((data["offset"] + data["total"]).max()))
    data = data.assign(value=total.values, at=offset.values, took=total.text, since=offset.text)
    fig = px.bar(data, x="value", base="at", y="run", color="stage", orientation="h",
                 custom_data=["took", "since", "start"])
    fig.update_traces(hovertemplate="%{y} · %{fullData.name}<br>%{customdata[0]} from %{customdata[1]} "
                                    "(%{customdata[2]})<extra></extra>")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title=f"{total.unit} since the run started")
    return _finish(fig, "Stage timeline")


def stage_bars(frame: pd.DataFrame) -> go.Figure:
    """Time per stage, runs side by side; each bar labelled [D-]HH:MM:SS."""
    if frame.empty:
        return empty_figure("Stage durations", "no run selected")
    frame = plotly_plain_frame(frame)
    total = durations(frame["total"])
    fig = _coloured_bars(frame.assign(value=total.values, took=total.text), "stage", "value", "run", {}, text="took",
                         custom_data=["took"], grouped=True)
    # Labels inside the bars, and none on a bar too short to hold one: side by side, the short stages' labels would
    # run into one another ("00:00:0400:00:04"). The hover still says every bar's time.
    fig.update_traces(hovertemplate="%{x} · %{fullData.name}<br>%{customdata[0]}<extra></extra>", textposition="inside")
    fig.update_layout(uniformtext={"minsize": 9, "mode": "hide"})
    fig.update_yaxes(title=total.unit)
    return _finish(fig, f"Stage durations ({total.unit})")


def phase_bars(counts: pd.DataFrame, order: list[str] | None = None) -> go.Figure:
    """Jobs per phase on every platform, platforms in ``order`` (the Management tabs' order) when given."""
    if counts.empty:
        return empty_figure("Jobs by status", "no jobs")
    counts = plotly_plain_frame(counts)  # platform names come from the management object
    fig = _coloured_bars(counts, "platform", "jobs", "status", PHASE_COLOURS, text="jobs")
    _whole_counts(fig, int(counts.groupby("platform")["jobs"].sum().max()))
    if order is not None:
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=[plotly_plain(p) for p in order])
    return _finish(fig, "Jobs by status per platform")
