"""Which jobs the SACCT page shows: per-job metrics of the loaded runs, the filters and the headline summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from core.sacct import cut_values, job_metrics
from core.sacct.advice import FAILURE_STATES, Thresholds


def step_kind(steps: pd.Series) -> pd.Series:
    """``job`` for the job's own row, else ``batch``, ``extern``, ``interactive`` or ``numbered``."""
    s = steps.fillna("").astype(str)
    kind = s.where(s.isin(["batch", "extern", "interactive"]), "numbered")
    return kind.where(s != "", "job")


#: Job states that count as failed in the headline.
FAILED_STATES = FAILURE_STATES
#: What each filter applies to, as the page says it.
FILTER_SCOPE = ("State, Partition, Job name and the days select jobs by the job's own row (its steps follow it); "
                "every figure, chart and the jobs table use those jobs. Row kind selects which of their sacct rows "
                "the Steps count, Disk I/O and the All sacct rows table use.")


@dataclass
class Filters:
    """The SACCT page's filters; empty means "all"."""

    states: list[str] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)
    step_kinds: list[str] = field(default_factory=list)
    job_name: str = ""
    #: Epoch seconds ``[start, end)`` the job ran in (its Start, else Submit, else End); ``None`` leaves a side open.
    time_range: tuple[float | None, float | None] = (None, None)


def job_key(frame: pd.DataFrame) -> list[str]:
    """The columns that identify a job: its run, its cluster when the run names one, and its job id."""
    return ["run", *(["cluster"] if "cluster" in frame.columns else []), "job-id"]


def filter_options(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The values each filter can take in this frame (states and partitions of job rows)."""
    is_job = frame["step"].fillna("") == "" if "step" in frame.columns else pd.Series(True, index=frame.index)

    def values(column: str) -> list[str]:
        if column not in frame.columns:
            return []
        return sorted(str(v) for v in frame.loc[is_job, column].dropna().unique())

    return {"states": values("state"), "partitions": values("partition"),
            "step_kinds": sorted(step_kind(frame["step"]).unique()) if "step" in frame.columns else []}


@dataclass(frozen=True)
class Selection:
    """The jobs that pass the filters (one metrics row each) and the sacct rows of those jobs that pass Row kind."""

    jobs: pd.DataFrame
    rows: pd.DataFrame


def select(frame: pd.DataFrame, jobs: pd.DataFrame, filters: Filters) -> Selection:
    """Apply the filters: State, Partition and Job name to jobs (``jobs`` from :func:`metrics`), Row kind to rows."""
    mask = pd.Series(True, index=jobs.index)
    if filters.states and "state" in jobs.columns:
        mask &= jobs["state"].isin(filters.states).fillna(False).astype(bool)
    if filters.partitions and "partition" in jobs.columns:
        mask &= jobs["partition"].isin(filters.partitions).fillna(False).astype(bool)
    if filters.job_name and "job-name" in jobs.columns:
        mask &= jobs["job-name"].fillna("").astype(str).str.contains(filters.job_name, case=False, regex=False)
    start, end = filters.time_range
    if start is not None or end is not None:
        when = pd.Series(float("nan"), index=jobs.index, dtype="float64")
        for column in ("start-time", "submit-time", "end-time"):
            if column in jobs.columns:
                when = when.fillna(jobs[column].astype("float64"))
        if start is not None:
            mask &= when >= start
        if end is not None:
            mask &= when < end
    chosen = jobs[mask]
    key = [k for k in job_key(frame) if k in chosen.columns]
    if len(chosen) == len(jobs):
        rows = frame
    else:
        wanted = pd.MultiIndex.from_frame(chosen[key].astype("string"))
        rows = frame[pd.MultiIndex.from_frame(frame[key].astype("string")).isin(wanted)]
    if filters.step_kinds and "step" in rows.columns:
        rows = rows[step_kind(rows["step"]).isin(filters.step_kinds)]
    return Selection(chosen.reset_index(drop=True), rows)


def _job_labels(jobs: pd.DataFrame) -> pd.Series:
    """A label per job that is unique across the loaded runs: the job id, with its cluster and run where needed."""
    label = jobs["job-id"].astype("string")
    if "cluster" in jobs.columns and jobs["cluster"].nunique() > 1:
        label = jobs["cluster"].fillna("").astype("string") + ":" + label
    if jobs["run"].nunique() > 1:
        label = label + " · " + jobs["run"].astype("string")
    return label


def job_times(frame: pd.DataFrame) -> pd.Series:
    """When each row's job ran, as epoch seconds.

    The job row's Start, else its Submit, else its End (a pending job has only Submit); steps follow their job.
    Null when sacct printed none of them.
    """
    when = pd.Series(float("nan"), index=frame.index, dtype="float64")
    for column in ("start-time", "submit-time", "end-time"):
        if column in frame.columns:
            when = when.fillna(frame[column].astype("float64"))
    is_job = frame["step"].fillna("") == "" if "step" in frame.columns else pd.Series(True, index=frame.index)
    keys = [frame[c] for c in ("run", "job-id") if c in frame.columns]
    if not keys:
        return when
    job_when = when.where(is_job).groupby(keys).transform("first")
    return job_when.fillna(when)


def time_span(frame: pd.DataFrame, timezone: str) -> tuple[date, date] | None:
    """The first and last day (in the cluster's zone) any job of the frame ran; ``None`` when no time is printed."""
    when = job_times(frame).dropna()
    if when.empty:
        return None
    zone = ZoneInfo(timezone)
    first, last = (datetime.fromtimestamp(float(v), zone).date() for v in (when.min(), when.max()))
    return first, last


def day_range(first: date, last: date, timezone: str) -> tuple[float, float]:
    """Epoch seconds from the start of ``first`` to the end of ``last`` (whole days in the cluster's zone)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time.min, zone)
    end = datetime.combine(last + timedelta(days=1), time.min, zone)
    return start.timestamp(), end.timestamp()


def metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-job efficiencies (core.sacct.job_metrics) for every run in the frame, one row per run and job.

    ``job`` labels each job uniquely across runs (charts and tables use it): the same job id in two runs is two jobs.
    """
    if frame.empty or "run" not in frame.columns:
        out = job_metrics(frame)
        out.insert(0, "run", pd.Series(dtype="string"))
        out.insert(1, "job", pd.Series(dtype="string"))
        return out
    out = job_metrics(frame.drop(columns=["parent-job-id"], errors="ignore"), by=("run",))
    out.insert(1, "job", _job_labels(out))
    return out


@dataclass(frozen=True)
class Summary:
    """Headline numbers of the selected jobs, each with how many jobs it counts."""

    jobs: int
    steps: int
    failed: int
    finished: int
    used_cpu_hours: float | None
    used_cpu_jobs: int
    core_hours: float | None
    core_hour_jobs: int
    median_cpu_efficiency: float | None
    cpu_efficiency_jobs: int
    too_short_jobs: int  # finished jobs with a CPU eff. that ran less than the findings' minimum, left out of it
    min_minutes: float


def _sum(values: pd.Series) -> tuple[float | None, int]:
    known = values.dropna()
    return (float(known.sum()) if len(known) else None), len(known)


def summary(selection: Selection, thresholds: Thresholds) -> Summary:
    """Counts, sums and medians of the selected jobs; steps counted from the selected rows.

    The median CPU eff. leaves out the jobs that ran less than ``thresholds.min_minutes``, as the findings do: a
    2-second test job's 0 % says nothing about the work beside it.
    """
    jobs, rows = selection.jobs, selection.rows
    steps = int((rows["step"].fillna("") != "").sum()) if "step" in rows.columns else 0
    failed = int(jobs["state"].isin(FAILED_STATES).sum()) if "state" in jobs.columns else 0
    finished = int(jobs["finished"].sum()) if "finished" in jobs.columns else len(jobs)
    used, used_jobs = _sum(jobs["total-cpu-seconds"] / 3600) if "total-cpu-seconds" in jobs else (None, 0)
    core, core_jobs = _sum(jobs["core-seconds"] / 3600) if "core-seconds" in jobs else (None, 0)
    eff = jobs["cpu-efficiency"].dropna() if "cpu-efficiency" in jobs else pd.Series(dtype="float64")
    elapsed = pd.to_numeric(jobs.loc[eff.index, "elapsed-seconds"], errors="coerce") if "elapsed-seconds" in jobs \
        else pd.Series(float("nan"), index=eff.index)
    judged = eff[(elapsed >= thresholds.min_seconds).to_numpy()]
    return Summary(len(jobs), steps, failed, finished, used, used_jobs, core, core_jobs,
                   float(judged.median()) if len(judged) else None, len(judged), len(eff) - len(judged),
                   thresholds.min_minutes)


def summary_counts(s: Summary) -> str:
    """What each headline figure counts, said under them."""
    return (f"{s.jobs:,} jobs, {s.finished:,} of them finished. CPU-hours used: TotalCPU of {s.used_cpu_jobs:,} jobs; "
            f"core-hours allocated: Elapsed × AllocCPUS of {s.core_hour_jobs:,} jobs; median CPU eff. of "
            f"{s.cpu_efficiency_jobs:,} finished jobs that ran at least {s.min_minutes:g} min"
            + (f" ({s.too_short_jobs:,} shorter left out, as the findings do)." if s.too_short_jobs else "."))


def parse_days(text: str | None, span: tuple[date, date]) -> tuple[date, date] | None:
    """A day range from a URL (``2024-05-24..2024-05-25``) kept within ``span``; ``None`` when absent or unreadable."""
    if not text:
        return None
    first, sep, last = text.partition("..")
    try:
        days = (date.fromisoformat(first), date.fromisoformat(last if sep else first))
    except ValueError:
        return None
    low, high = max(days[0], span[0]), min(days[1], span[1])
    return (low, high) if low <= high else None


def timeline_counts(jobs: pd.DataFrame, limit: int) -> str:
    """Which of ``jobs`` the job timeline draws, and why the others are not there.

    The timeline draws the jobs that have a Start (a job still pending, or cancelled before it started, has no run
    to draw) and, of those, the ``limit`` that started last.
    """
    total = len(jobs)
    started = int(jobs["start-time"].notna().sum()) if "start-time" in jobs.columns else 0
    drawn = min(started, limit)
    if drawn == total:
        return f"All {total:,} jobs: queue wait (Submit → Start), then run (Start → End) coloured by state."
    reasons = []
    if started < total:
        reasons.append(f"{total - started:,} have no Start (still pending, or cancelled before they started)")
    if drawn < started:
        reasons.append(f"only the {limit:,} that started last of the {started:,} that started are drawn; narrow the "
                       "days or the state filter to see the others")
    return f"Showing {drawn:,} of {total:,} jobs: " + "; ".join(reasons) + "."


def cut_values_caption(values: pd.Series, what: str) -> str:
    """Said where jobs are grouped by ``values`` (their ``what``: account, job name, partition…) cut with "+".

    Fixed-width sacct ends a value it cut at the column's width with "+", so one such group may hold jobs of several.
    Empty when no value ends so.
    """
    cut = cut_values(values)
    if not cut:
        return ""
    examples = ", ".join(repr(v) for v in cut[:3]) + (f" and {len(cut) - 3:,} more" if len(cut) > 3 else "")
    return (f"Grouped by truncated values: {examples} end in '+', where fixed-width sacct cut the {what} at the "
            f"column's width, so one such group may hold jobs of several {what}s. For whole values store sacct -P "
            "output of those jobs.")
