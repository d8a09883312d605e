"""Pipeline page: one pipeline run (a Management object) with its TIMES stages and Slurm jobs on one time axis.

Matching rules (the README repeats them):

- **TIMES run.** Management object ``MANAGEMENT/<n>.json`` is pipeline run ``<n>``; its stages are ``TIMES/run-<n>``.
  No such TIMES object: the page says so and shows the jobs alone.
- **SACCT records.** A Management job (platform, job id) matches the rows of every stored SACCT run of that platform
  whose JobID is the id, or whose parent job is the id (an array's tasks ``<id>_<n>``, a heterogeneous job's
  components ``<id>+<n>``). The platform of a run is the one it was stored with (sacct's Cluster field).
- **Not matched.** A job Management lists without an id was never submitted; a submitted job no stored run holds has
  "no sacct record yet" (collect or upload the platform's sacct); neither is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.billing import POOLS
from core.errors import MonitorError
from core.models import Orchestration
from core.sacct import job_metrics
from core.sacct.advice import FAILURE_STATES
from core.services import cost as cost_service
from core.services import management as management_service
from core.services import runs as runs_service
from core.services import sacct as sacct_service
from core.services import tables
from core.services import times as times_service
from core.settings import Settings
from core.store.base import ObjectStore

#: Reads one stored SACCT run's frame and what the run is, from one GET (the page passes its cached reader).
RunReader = Callable[[sacct_service.RunRef], tuple[pd.DataFrame, runs_service.RunInfo]]
_NUMBER = re.compile(r"MANAGEMENT/(?:.*/)?(\d+)\.json$")


def times_run_of(management_object: str) -> str | None:
    """The TIMES run of a Management object: ``MANAGEMENT/3.json`` → ``run-3``; None when the name has no number."""
    match = _NUMBER.search(management_object)
    return f"run-{int(match.group(1))}" if match else None


def pipeline_runs(store: ObjectStore, settings: Settings) -> list[str]:
    """The Management objects (one per pipeline run), newest last."""
    return management_service.list_management(store, settings)


@dataclass(frozen=True)
class PipelineRun:
    """One pipeline run joined across Management, TIMES and SACCT."""

    management_object: str
    name: str
    times_run: str | None
    #: stage, begin, end (epoch seconds; end NaN for a stage under way), seconds.
    stages: pd.DataFrame = field(compare=False)
    #: one row per Slurm job (array tasks and het components their own rows, grouped by ``group``).
    jobs: pd.DataFrame = field(compare=False)
    #: what could not be matched, in words.
    notes: list[str] = field(default_factory=list)


_JOB_COLUMNS = ["platform", "group", "job-id", "script", "phase", "state", "run", "partition", "submit", "start",
                "end", "wait-seconds", "run-seconds", "cores", "gpus", "core-hours", "gpu-hours", "billed", "unit"]


def _stages(store: ObjectStore, settings: Settings, times_run: str | None, notes: list[str]) -> pd.DataFrame:
    empty = pd.DataFrame(columns=["stage", "begin", "end", "seconds"])
    if times_run is None:
        return empty
    entry = times_service.run_objects(store, settings).get(times_run)
    if entry is None:
        notes.append(f"No TIMES run {times_run} is stored: the stages are not shown.")
        return empty
    read = times_service.read_run(store, times_service.pipeline_bucket(settings), entry.name, settings.read_limits)
    frame = times_service.combine_runs({times_run: read})
    out = pd.DataFrame({
        "stage": frame["stage"].astype(str),
        "begin": pd.to_numeric(frame["begin"], errors="coerce").replace(0, np.nan),
        "end": pd.to_numeric(frame["end"], errors="coerce").replace(0, np.nan),
    })
    out = out[out["begin"].notna()].reset_index(drop=True)
    out["seconds"] = out["end"] - out["begin"]
    return out


def _job_rows(frame: pd.DataFrame, job_id: str) -> pd.DataFrame:
    """The job rows (no steps) of ``job_id`` in one run: the job itself, or its array tasks / het components."""
    if frame.empty or "job-id" not in frame.columns:
        return frame.iloc[0:0]
    steps = frame["step"].fillna("").astype(str) if "step" in frame.columns else pd.Series("", index=frame.index)
    ids = frame["job-id"].astype(str)
    parent = ids.str.replace(r"[_+].*$", "", regex=True)
    return frame[(steps == "") & ((ids == job_id) | (parent == job_id))]


def load_pipeline_run(store: ObjectStore, settings: Settings, management_object: str,
                      read_run: RunReader) -> PipelineRun:
    """Join one Management object with its TIMES run and the SACCT rows of its jobs (see the module's rules)."""
    notes: list[str] = []
    bucket = management_service.submitter_bucket(settings)
    orchestration: Orchestration = management_service.load_orchestration(store, bucket, management_object)
    times_run = times_run_of(management_object)
    if times_run is None:
        notes.append(f"{management_object} has no run number, so no TIMES run can be matched to it.")
    stages = _stages(store, settings, times_run, notes)

    by_platform: dict[str, list[tuple[str, pd.DataFrame]]] = {}
    for ref in sacct_service.list_runs(store, settings):
        try:
            frame, info = read_run(ref)
        except (MonitorError, ValueError) as exc:
            notes.append(f"Skipped the SACCT run {ref.name}: {exc}")
            continue
        by_platform.setdefault(info.platform or "", []).append((ref.name, frame))

    # Every (job, run) match first, then the per-job figures of all of them in one pass (a match is its own group).
    matches: list[tuple[dict[str, object], str, pd.DataFrame]] = []
    for platform, entry in orchestration.platforms.items():
        for job in entry.jobs:
            base: dict[str, object] = {"platform": platform, "group": job.id, "script": job.path,
                                       "phase": job.status.phase}
            if job.id in ("", "None"):
                notes.append(f"{platform}: {job.path} has no job id (never submitted; {job.status.phase}).")
                continue
            found = False
            for run_name, frame in by_platform.get(platform, []):
                matched = _job_rows(frame, job.id)
                if not matched.empty:
                    found = True
                    matches.append((base, run_name, matched))
            if not found:
                notes.append(f"{platform}: job {job.id} ({job.path}) has no sacct record yet in the stored "
                             f"{platform} runs.")
    rows: list[dict[str, object]] = []
    if matches:
        every = pd.concat([matched.assign(_match=i) for i, (_, _, matched) in enumerate(matches)],
                          ignore_index=True)
        figures = job_metrics(every.drop(columns=["run", "parent-job-id"], errors="ignore"), by=("_match",))
        platforms = figures["_match"].map(lambda i: matches[i][0]["platform"])
        figures = cost_service.priced(figures, platforms, settings)
        for i, metrics in figures.groupby("_match", sort=True):
            job_base, run_name, _ = matches[int(i)]
            for _, m in metrics.iterrows():
                submit, start, end = (float(m.get(c, np.nan)) for c in ("submit-time", "start-time", "end-time"))
                gpus = float(m.get("gpus", np.nan))  # the job's GPUs as every page reads them (core.sacct.gpu)
                cores = float(m.get("alloc-cpus", np.nan))
                seconds = float(m.get("elapsed-seconds", np.nan)) if not np.isnan(start) else np.nan
                rows.append({**job_base, "job-id": str(m["job-id"]), "state": str(m.get("state")), "run": run_name,
                             "partition": m.get("partition"), "submit": submit, "start": start, "end": end,
                             "wait-seconds": (start - submit) if not np.isnan(start) else np.nan,
                             "run-seconds": seconds, "cores": cores, "gpus": gpus,
                             "core-hours": cores * seconds / 3600, "gpu-hours": gpus * seconds / 3600,
                             "billed": float(m.get("billed", np.nan)), "unit": m.get("billing-unit")})
    jobs = pd.DataFrame(rows, columns=_JOB_COLUMNS)
    return PipelineRun(management_object, orchestration.name, times_run, stages, jobs, notes)


def _sum(series: pd.Series) -> float:
    """A sum that is NaN when nothing was recorded (never 0 for "not recorded")."""
    return float(series.sum()) if series.notna().any() else float("nan")


def _pools(jobs: pd.DataFrame) -> list[str]:
    return [str(p) for p in dict.fromkeys(jobs["unit"].dropna())]


#: The page's tables: column → (header, kind), read as every table is (core.services.tables).
_SUMS: dict[str, tuple[str, tables.ColumnKind]] = {
    "jobs": ("jobs", "count"), "failed": ("failed", "count"), "queue wait seconds": ("queue wait", "duration"),
    "core-hours": ("core-hours", "hours"), "GPU-hours": ("GPU-hours", "hours"),
}
PLATFORM_HEADERS: dict[str, tuple[str, tables.ColumnKind]] = {
    "platform": ("platform", "text"), "wall seconds": ("wall time", "duration"), **_SUMS,
    **{f"billed {pool}": (f"billed {pool}", "hours") for pool in POOLS},
}
STAGE_HEADERS: dict[str, tuple[str, tables.ColumnKind]] = {
    "stage": ("stage", "text"), "seconds": ("time", "duration"), **_SUMS,
}
PATH_HEADERS: dict[str, tuple[str, tables.ColumnKind]] = {
    "platform": ("platform", "text"), "job-id": ("job-id", "text"), "script": ("script", "text"),
    "state": ("state", "text"), "wait-seconds": ("queue wait", "duration"), "run-seconds": ("run", "duration"),
}


def platform_summary(run: PipelineRun) -> pd.DataFrame:
    """Per platform: jobs, failures, wall time, queue wait, core- and GPU-hours, and what each pool billed.

    Wall time is first submit → last end; one column per pool, never added across pools.
    """
    pools = _pools(run.jobs)
    rows = []
    for platform, jobs in run.jobs.groupby("platform", sort=False):
        first, last = jobs["submit"].min(), jobs["end"].max()
        row: dict[str, object] = {
            "platform": platform, "jobs": len(jobs), "failed": int(jobs["state"].isin(FAILURE_STATES).sum()),
            "wall seconds": last - first if pd.notna(first) and pd.notna(last) else np.nan,
            "queue wait seconds": _sum(jobs["wait-seconds"]), "core-hours": _sum(jobs["core-hours"]),
            "GPU-hours": _sum(jobs["gpu-hours"]),
        }
        for pool in pools:
            row[f"billed {pool}"] = _sum(jobs.loc[jobs["unit"] == pool, "billed"])
        rows.append(row)
    return pd.DataFrame(rows, columns=["platform", "jobs", "failed", "wall seconds", "queue wait seconds",
                                       "core-hours", "GPU-hours", *(f"billed {pool}" for pool in pools)])


def stage_summary(run: PipelineRun) -> pd.DataFrame:
    """Per TIMES stage: its time, and the jobs submitted during it with their waits, hours and failures."""
    rows = []
    for stage in run.stages.itertuples(index=False):
        end = stage.end if pd.notna(stage.end) else np.inf
        jobs = run.jobs[(run.jobs["submit"] >= stage.begin) & (run.jobs["submit"] <= end)]
        rows.append({"stage": stage.stage, "seconds": stage.seconds, "jobs": len(jobs),
                     "failed": int(jobs["state"].isin(FAILURE_STATES).sum()),
                     "queue wait seconds": _sum(jobs["wait-seconds"]), "core-hours": _sum(jobs["core-hours"]),
                     "GPU-hours": _sum(jobs["gpu-hours"])})
    return pd.DataFrame(rows, columns=["stage", "seconds", "jobs", "failed", "queue wait seconds", "core-hours",
                                       "GPU-hours"])


def critical_path(run: PipelineRun) -> pd.DataFrame:
    """The waits and runs that made the run as long as it was.

    From the job that ended last, step back to the job that ended last before it was submitted (the one it waited
    for), and so on: each step's queue wait and run time. Dependencies are read from the times alone (Management
    does not record them), so a job submitted right after another ended is taken to have waited for it.
    """
    jobs = run.jobs[run.jobs["end"].notna()].sort_values("end")
    path = []
    current = jobs.iloc[-1] if not jobs.empty else None
    while current is not None:
        path.append(current)
        before = jobs[jobs["end"] <= current["submit"]]
        current = before.iloc[-1] if not before.empty else None
    out = pd.DataFrame(list(reversed(path)))
    if out.empty:
        return pd.DataFrame(columns=["platform", "job-id", "script", "state", "wait-seconds", "run-seconds"])
    return out[["platform", "job-id", "script", "state", "wait-seconds", "run-seconds"]].reset_index(drop=True)


def compare_text(compared: pd.DataFrame, zone: str) -> pd.DataFrame:
    """:func:`compare` as the page shows it: each figure by its header, its values as its column shows them."""
    kinds = {column: kind for column, (_, kind) in PLATFORM_HEADERS.items()}
    out = compared.copy()
    for column in compared.columns[2:]:
        out[column] = [tables.cell_text(kinds.get(str(figure), "text"), value, zone)
                       for figure, value in zip(compared["figure"], compared[column], strict=True)]
    out["figure"] = [PLATFORM_HEADERS.get(str(figure), (str(figure), "text"))[0] for figure in compared["figure"]]
    return out


def compare(first: PipelineRun, second: PipelineRun) -> pd.DataFrame:
    """Per platform, the figures of two runs side by side and the change (second − first)."""
    a, b = platform_summary(first).set_index("platform"), platform_summary(second).set_index("platform")
    figures = list(dict.fromkeys([*a.columns, *b.columns]))
    rows = []
    for platform in list(dict.fromkeys([*a.index, *b.index])):
        for figure in figures:
            x = a.loc[platform, figure] if platform in a.index and figure in a.columns else np.nan
            y = b.loc[platform, figure] if platform in b.index and figure in b.columns else np.nan
            rows.append({"platform": platform, "figure": figure, first.management_object: x,
                         second.management_object: y, "change": y - x})
    return pd.DataFrame(rows)


def segments(run: PipelineRun) -> pd.DataFrame:
    """The bars of the timeline: a bar per stage, and per job a queue-wait bar and a run bar (start → end or now).

    Columns: ``lane`` (the row it is drawn on), ``kind`` (stage, wait, run), ``begin``, ``end`` (epoch seconds),
    ``state``, ``job-id``, ``platform``.
    """
    rows: list[dict[str, object]] = []
    for stage in run.stages.itertuples(index=False):
        end = stage.end if pd.notna(stage.end) else stage.begin
        rows.append({"lane": f"stage · {stage.stage}", "kind": "stage", "begin": stage.begin, "end": end,
                     "state": "stage", "job-id": "", "platform": ""})
    for job in run.jobs.sort_values(["platform", "submit"], kind="stable").to_dict("records"):
        lane = f"{job['platform']} · {job['group']}"
        submit, start, end = job["submit"], job["start"], job["end"]
        common = {"lane": lane, "state": job["state"], "job-id": job["job-id"], "platform": job["platform"]}
        if pd.notna(submit):
            rows.append({**common, "kind": "wait", "begin": submit, "end": start if pd.notna(start) else submit})
        if pd.notna(start):
            if pd.isna(end):  # still running: its bar ends where its elapsed time so far does
                end = start + (job["run-seconds"] if pd.notna(job["run-seconds"]) else 0.0)
            rows.append({**common, "kind": "run", "begin": start, "end": end})
    return pd.DataFrame(rows, columns=["lane", "kind", "begin", "end", "state", "job-id", "platform"])
