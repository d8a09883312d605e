"""Overview: what needs attention for the pipeline user, each item naming the page that shows it.

Failed and out-of-memory jobs of the newest SACCT runs, workspace quotas over ``QUOTA_ALERT_PERCENT``, pipelines
whose Management object has not changed for longer than ``STUCK_AFTER_MINUTES`` while jobs are active, the
newest runs, the spend per billing pool over every stored run, and each pool's budget (``ARTIFACTS/BUDGET.json``,
``BUDGET_*``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from core.errors import MonitorError, failure_message
from core.models import Orchestration
from core.naming import budget_object
from core.sacct.advice import gpu_findings
from core.services import cost as cost_service
from core.services import management as management_service
from core.services import runs as runs_service
from core.services import sacct as sacct_service
from core.services import sacct_selection
from core.settings import Settings
from core.store.base import ObjectStore

#: How many of the newest runs are searched for failed jobs and listed: the runs the SACCT page opens on.
RECENT_RUNS = sacct_service.RECENT_RUNS
#: How many management objects (the most recently changed) are read.
RECENT_MANAGEMENT = 5

#: Reads one run's frame and what the run is (platform, rows, stored; from the same GET): (bucket, run) → both.
#: The page passes its cached reader.
RunLoader = Callable[[str, sacct_service.RunRef], tuple[pd.DataFrame, runs_service.RunInfo]]
#: Per-job metrics of the runs that were read: (bucket, runs, their frames) → metrics, e.g. cached by the runs' etags.
JobMeasurer = Callable[[str, list[sacct_service.RunRef], list[pd.DataFrame]], pd.DataFrame]
#: Reads one management object of the submitter bucket, e.g. through a cache keyed by its etag.
ManagementLoader = Callable[[str, management_service.ManagementObject], Orchestration]


@dataclass(frozen=True)
class StuckPipeline:
    """A management object whose active jobs have not moved for longer than the threshold."""

    object: str
    name: str
    last_changed: datetime
    minutes: float
    active_jobs: pd.DataFrame  # platform, status, job id, script


@dataclass
class Overview:
    """Everything the Overview page lists; ``problems`` name what could not be read (the rest is still shown)."""

    failed_jobs: pd.DataFrame
    runs_searched: int
    quotas: pd.DataFrame
    management_read: int
    stuck: list[StuckPipeline]
    newest_runs: list[runs_service.RunInfo]
    problems: list[str] = field(default_factory=list)
    #: What the jobs of every stored run were billed, per pool (core.services.cost), and how many runs that covers.
    spend: list[cost_service.PoolTotal] = field(default_factory=list)
    runs_billed: int = 0
    #: Each pool with an allocation (BUDGET_* settings) against that spend.
    budget: list[cost_service.PoolBudget] = field(default_factory=list)
    #: Finished jobs of the newest runs whose GPUs recorded 0 % use (core.sacct.advice.gpu_findings), with their bill.
    idle_gpus: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The Management objects (pipeline runs) looked at, the most recently changed first.
    pipeline_runs: list[str] = field(default_factory=list)


def _default_loader(store: ObjectStore) -> RunLoader:
    return lambda bucket, run: runs_service.load_described_run(store, bucket, run.object)


def failed_jobs(jobs: pd.DataFrame, platforms: dict[str, str]) -> pd.DataFrame:
    """Jobs of the given per-job metrics that ended in a failed state or had a step run out of memory, OOM first."""
    columns = ["run", "platform", "job-id", "job-name", "state", "elapsed-seconds", "end-time"]
    if jobs.empty or "state" not in jobs.columns:
        return pd.DataFrame(columns=columns)
    failed = jobs["state"].astype("string").isin(sacct_selection.FAILED_STATES).fillna(False).astype(bool)
    if "out-of-memory" in jobs.columns:  # a step ran out of memory, whatever state the job ended in
        failed |= jobs["out-of-memory"].fillna(False).astype(bool)
    bad = jobs[failed].copy()
    bad["platform"] = bad["run"].astype(str).map(platforms).fillna("unknown")
    for name in columns:
        if name not in bad.columns:
            bad[name] = pd.NA
    bad["oom"] = (bad["state"] == "OUT_OF_MEMORY") | (bad["out-of-memory"].fillna(False).astype(bool)
                                                      if "out-of-memory" in bad.columns else False)
    bad = bad.sort_values(["oom", "end-time"], ascending=[False, False], na_position="last")
    return bad[columns].reset_index(drop=True)


def build_overview(
    store: ObjectStore, settings: Settings, now: datetime, *, load: RunLoader | None = None,
    recent_runs: int = RECENT_RUNS, load_management: ManagementLoader | None = None, measure: JobMeasurer | None = None,
    load_budget: cost_service.AllocationLoader | None = None,
) -> Overview:
    """Read what the Overview shows. A run or management object that cannot be read becomes a problem line.

    ``load`` and ``load_management`` replace the direct reads (a page passes cached ones, so a rerun
    reads no unchanged object again and makes no request per listed run); ``measure`` replaces the per-job metrics
    of the runs read (a page caches them by the runs' etags: they are the Overview's costliest part); ``load_budget``
    replaces the read of the stored allocations (:func:`core.services.cost.stored_allocations`).
    """
    problems: list[str] = []
    loader = load or _default_loader(store)
    bucket = sacct_service.forwarder_bucket(settings)
    stored = sacct_service.list_runs(store, settings)
    newest = stored[:recent_runs]
    # Every stored run is read for the spend and budget (through the page's cached reader); the failed jobs are
    # those of the newest runs.
    frames, read_runs, infos, all_infos = [], [], [], []
    for index, run in enumerate(stored):
        try:
            frame, info = loader(bucket, run)
        except (MonitorError, ValueError) as exc:
            problems.append(failure_message(f"Could not read the SACCT run {bucket}/{run.object}", exc))
            info = runs_service.unknown_run(run)
        else:
            frames.append(frame)
            read_runs.append(run)
        all_infos.append(info)
        if index < recent_runs:
            infos.append(info)
    platforms = runs_service.platforms_of(all_infos)
    if not frames:
        jobs = pd.DataFrame()
    elif measure is not None:
        jobs = measure(bucket, read_runs, frames)
    else:
        jobs = sacct_selection.metrics(sacct_service.combine(frames))
    recent = {r.name for r in newest}
    failed = failed_jobs(jobs[jobs["run"].isin(recent)] if len(jobs) else jobs, platforms)
    priced = cost_service.priced(jobs, cost_service.job_platforms(jobs, platforms), settings) if len(jobs) else jobs
    spend = cost_service.pool_totals(priced)
    stored_budget: dict[str, float] = {}
    try:
        stored_budget = cost_service.stored_allocations(store, settings, load_budget)
    except (MonitorError, ValueError) as exc:
        problems.append(failure_message(f"Could not read the allocations {bucket}/{budget_object()}", exc))
    budget = cost_service.budget(priced, settings, now, cost_service.allocations(stored_budget, settings))
    gpu_notes = gpu_findings(priced[priced["run"].isin(recent)], settings.advice) if len(priced) else pd.DataFrame()
    idle = gpu_notes[gpu_notes["finding"] == "idle GPUs"].reset_index(drop=True) if len(gpu_notes) else gpu_notes

    quotas: list[pd.DataFrame] = []
    stuck: list[StuckPipeline] = []
    objects = management_service.management_objects(store, settings)[:RECENT_MANAGEMENT]
    submitter = management_service.submitter_bucket(settings)
    read = 0
    for index, obj in enumerate(objects):
        stale = obj.last_changed is not None and management_service.is_stale(obj.last_changed, now, settings)
        if index > 0 and not stale:  # only the newest object's quotas are shown: a fresh older one has nothing to say
            continue
        try:
            orchestration = (load_management(submitter, obj) if load_management
                             else management_service.load_orchestration(store, submitter, obj.name))
        except (MonitorError, ValueError) as exc:
            problems.append(failure_message(f"Could not read the Management object {submitter}/{obj.name}", exc))
            continue
        read += 1
        if index == 0:  # quotas are a platform's current state: the most recently changed object has it
            quotas.append(management_service.quota_alerts(orchestration, settings))
        if not stale or obj.last_changed is None:
            continue
        active = []
        for platform in management_service.platform_order(orchestration):
            attention = management_service.platform_attention(platform, orchestration.platforms[platform],
                                                              stale=True)
            if not attention.stuck.empty:
                active.append(attention.stuck.assign(platform=platform))
        if active:
            stuck.append(StuckPipeline(obj.name, orchestration.name, obj.last_changed,
                                       (now - obj.last_changed).total_seconds() / 60,
                                       pd.concat(active, ignore_index=True)))
    quota_frame = quotas[0] if quotas else pd.DataFrame(columns=list(management_service.QUOTA_COLUMNS))
    searched = sum(1 for r in read_runs if r.name in recent)
    return Overview(failed, searched, quota_frame, read, stuck, infos, problems, spend, len(frames), budget, idle,
                    [o.name for o in objects])
