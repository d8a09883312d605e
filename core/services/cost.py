"""Cost of jobs in their billing pools (core.billing), totals per pool, and the project's budget per pool.

Pools are never added to one another: CSC CPU BU, CSC GPU BU, LUMI core-hours and LUMI GPU-hours each have their own
figure, and a headline over several pools shows one figure per pool.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from pydantic import PositiveFloat, TypeAdapter, ValidationError

from core.billing import POOLS, bill, formula
from core.errors import DamagedObject, ObjectTooLarge
from core.models import Orchestration
from core.naming import budget_object
from core.platforms import platform_of_cluster
from core.services.sacct import forwarder_bucket
from core.settings import Settings
from core.store.base import ObjectEntry, ObjectStore
from core.store.listing import objects_under

#: Days the burn rate is measured over.
BURN_DAYS = 30


def job_platforms(jobs: pd.DataFrame, runs: Mapping[str, str] | None = None, default: str = "other") -> pd.Series:
    """Each job's platform: its run's (``runs``: run → platform), else sacct's Cluster, else ``default``."""
    platform = pd.Series(None, index=jobs.index, dtype="object")
    if runs and "run" in jobs.columns:
        platform = jobs["run"].astype(str).map(dict(runs)).astype("object")
    if "cluster" in jobs.columns:
        from_cluster = jobs["cluster"].astype("object").map(
            lambda c: platform_of_cluster(c if isinstance(c, str) else None))
        platform = platform.where(platform.notna(), from_cluster)
    return platform.where(platform.notna(), default).astype(str)


def priced(jobs: pd.DataFrame, platform: pd.Series, settings: Settings) -> pd.DataFrame:
    """Per-job metrics with ``platform``, ``billed`` and ``billing-unit`` (the pool) added."""
    billing = bill(jobs, platform, settings.billing)
    return jobs.assign(platform=platform.to_numpy(), billed=billing["billed"].to_numpy(),
                       **{"billing-unit": billing["billing-unit"].to_numpy()})


def once_per_job(jobs: pd.DataFrame) -> pd.DataFrame:
    """Each job once: its first record per platform and job id, runs coming newest stored first.

    A job held by two stored runs (overlapping uploads, an upload and a collect) is one job: every total, the budget
    and a pipeline's cost count it once, from its newest record.
    """
    key = [c for c in ("platform", "job-id") if c in jobs.columns]
    if jobs.empty or "job-id" not in key:
        return jobs
    return jobs[~jobs.duplicated(key, keep="first")]


@dataclass(frozen=True)
class PoolTotal:
    """What the jobs were billed from one pool, and over how many jobs."""

    pool: str
    amount: float
    jobs: int


def pool_totals(jobs: pd.DataFrame) -> list[PoolTotal]:
    """Sums per pool of :func:`priced` jobs in :data:`core.billing.POOLS` order; pools without a billed job left out."""
    if jobs.empty or "billed" not in jobs.columns:
        return []
    jobs = once_per_job(jobs)
    out = []
    for pool in POOLS:
        mine = jobs.loc[jobs["billing-unit"] == pool, "billed"].dropna()
        if len(mine):
            out.append(PoolTotal(pool, float(mine.sum()), len(mine)))
    return out


def unbilled(jobs: pd.DataFrame) -> int:
    """Jobs no rule billed (unknown platform or partition, or a GPU count sacct did not print), each counted once."""
    jobs = once_per_job(jobs)
    return int(jobs["billed"].isna().sum()) if "billed" in jobs.columns else len(jobs)


def totals_caption(totals: list[PoolTotal], not_billed: int) -> str:
    """What the per-pool figures count, said under them."""
    parts = [f"{t.pool}: {t.amount:,.1f} over {t.jobs:,} job{'s' if t.jobs != 1 else ''}" for t in totals]
    text = "; ".join(parts) if parts else "No job billed"
    rest = f"; {not_billed:,} job{'s' if not_billed != 1 else ''} not billed (platform or partition unknown, or no " \
           "GPU count printed)" if not_billed else ""
    return (f"{text}{rest}. A job held by several runs counts once; each pool is billed apart and never added to "
            "another; a running job counts what it has been billed so far (README: billing).")


def job_formula(job: Mapping[str, object], settings: Settings) -> str | None:
    """How one priced job's figure was made (core.billing.formula), or ``None`` when it is not billed."""
    return formula(dict(job), str(job.get("platform") or ""), settings.billing)


# --- Budget -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolBudget:
    """One pool's allocation against the stored runs' use, its 30-day burn and when it runs out at that pace."""

    pool: str
    allocated: float
    used: float
    jobs: int
    burn_per_day: float
    runs_out: date | None
    alert_percent: float
    horizon_days: float
    today: date

    @property
    def used_share(self) -> float:
        """Used / allocated."""
        return self.used / self.allocated

    @property
    def needs_attention(self) -> bool:
        """Use passed QUOTA_ALERT_PERCENT, or the allocation runs out within BUDGET_HORIZON_DAYS."""
        soon = self.runs_out is not None and self.runs_out <= self.today + timedelta(days=self.horizon_days)
        return self.used_share * 100 >= self.alert_percent or soon

    def sentence(self) -> str:
        """Used, allocated, burn and projected date in one line."""
        when = (f"runs out about {self.runs_out:%Y-%m-%d} at that pace" if self.runs_out is not None
                else "no use in the last 30 days, so no projected date")
        if self.used >= self.allocated:
            when = "allocation used up"
        return (f"{self.pool}: {self.used:,.1f} of {self.allocated:,.1f} used ({self.used_share:.0%}) over "
                f"{self.jobs:,} stored job{'s' if self.jobs != 1 else ''}; last {BURN_DAYS} days "
                f"{self.burn_per_day:,.1f} per day; {when}.")


#: A stored allocation object is a few numbers: anything bigger is refused unread.
MAX_BUDGET_BYTES = 64 * 1024
_ALLOCATIONS: TypeAdapter[dict[str, PositiveFloat]] = TypeAdapter(dict[str, PositiveFloat])


def _within_budget_size(size: int, bucket: str, name: str) -> None:
    if size > MAX_BUDGET_BYTES:
        raise ObjectTooLarge(f"{size:,} bytes, more than an allocation needs", bucket=bucket, obj=name)


def read_allocations(store: ObjectStore, bucket: str, name: str) -> dict[str, float]:
    """Pool → allocation of a stored budget object: JSON such as ``{"CSC GPU BU": 10000, "LUMI GPU-hours": 500}``.

    Each key is a pool of :data:`core.billing.POOLS`, each value a positive number; anything else is a
    DamagedObject naming the object (and what is wrong), never a budget half read.
    """
    _, data = store.get_object(bucket, name)
    _within_budget_size(len(data), bucket, name)
    try:
        values = _ALLOCATIONS.validate_python(json.loads(data))
    except (ValueError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = f"{'.'.join(map(str, first['loc']))}: {first['msg']}" if first else str(exc)
        raise DamagedObject(f"not an allocation per pool ({', '.join(POOLS)}): {where}", bucket=bucket,
                            obj=name) from None
    unknown = sorted(set(values) - set(POOLS))
    if unknown:
        raise DamagedObject(f"not an allocation per pool ({', '.join(POOLS)}): unknown pool {unknown[0]!r}",
                            bucket=bucket, obj=name)
    return {pool: float(values[pool]) for pool in POOLS if pool in values}


AllocationLoader = Callable[[str, ObjectEntry], dict[str, float]]


def stored_allocations(store: ObjectStore, settings: Settings, load: AllocationLoader | None = None
                       ) -> dict[str, float]:
    """Pool → allocation of the stored budget object; empty when there is none.

    The object is :func:`core.naming.budget_object` in the forwarder bucket. ``load(bucket, entry)`` replaces the
    direct read (a page passes a cached one keyed by the listed etag). An object over :data:`MAX_BUDGET_BYTES` is
    refused unread.
    """
    name = budget_object()
    bucket = forwarder_bucket(settings)
    entry = next((e for e in objects_under(store, bucket, name) if e.name == name), None)
    if entry is None:
        return {}
    _within_budget_size(entry.bytes, bucket, entry.name)
    return load(bucket, entry) if load else read_allocations(store, bucket, entry.name)


def allocations(stored: Mapping[str, float], settings: Settings) -> dict[str, float]:
    """Pool → allocation: the stored object's, each pool replaced by its ``BUDGET_*`` setting when one is set."""
    return {**stored, **settings.budget.allocations()}


def job_day(jobs: pd.DataFrame) -> pd.Series:
    """When each job was billed, as epoch seconds: its End, else its Start (running), else Submit."""
    when = pd.Series(np.nan, index=jobs.index, dtype="float64")
    for column in ("end-time", "start-time", "submit-time"):
        if column in jobs.columns:
            when = when.fillna(pd.to_numeric(jobs[column], errors="coerce").astype("float64"))
    return when


def budget(jobs: pd.DataFrame, settings: Settings, now: datetime | None = None,
           allocated: Mapping[str, float] | None = None) -> list[PoolBudget]:
    """Every pool that has an allocation, against :func:`priced` jobs of the stored runs.

    ``allocated``: pool → allocation (:func:`allocations`); the ``BUDGET_*`` settings alone when not given.

    ``used`` sums every billed job of the pool (each job once: :func:`once_per_job`); the burn rate is the billing of
    jobs that ended (or, running, started) in the last :data:`BURN_DAYS` days, per day; the projected date is
    today + (allocated − used) / burn.
    """
    pools = dict(allocated) if allocated is not None else settings.budget.allocations()
    if not pools:
        return []
    jobs = once_per_job(jobs)
    moment = now or datetime.now(UTC)
    today = moment.date()
    since = (moment - timedelta(days=BURN_DAYS)).timestamp()
    when = job_day(jobs) if len(jobs) else pd.Series(dtype="float64")
    out = []
    for pool, allocation in ((p, pools[p]) for p in POOLS if p in pools):
        mine = jobs["billing-unit"] == pool if "billing-unit" in jobs.columns else pd.Series(False, index=jobs.index)
        billed = jobs.loc[mine, "billed"].dropna() if len(jobs) else pd.Series(dtype="float64")
        recent = billed[(when[billed.index] >= since).to_numpy()] if len(billed) else billed
        used = float(billed.sum())
        burn = float(recent.sum()) / BURN_DAYS
        left = allocation - used
        runs_out = today + timedelta(days=left / burn) if burn > 0 and left > 0 else None
        if left <= 0:
            runs_out = today
        out.append(PoolBudget(pool, allocation, used, len(billed), burn, runs_out, settings.quota_alert_percent,
                              settings.budget.horizon_days, today))
    return out


BUDGET_HELP = ("Counts only the jobs of the stored SACCT runs (what was uploaded or collected), billed at the rates "
               "in the settings, against the allocations in ARTIFACTS/BUDGET.json (each pool replaced by its "
               "BUDGET_* setting); CSC's MyCSC and LUMI's lumi-allocations show the project's official balance.")


def pipeline_cost(job_ids: Mapping[str, list[str]], jobs: pd.DataFrame) -> pd.DataFrame:
    """What each platform's jobs of a pipeline cost so far, from the stored runs that hold them.

    ``job_ids``: platform → the Slurm ids its Management entry lists; ``jobs``: :func:`priced` jobs of the stored
    runs (with ``platform``). A job counts on a platform when a run of that platform holds its id (an array task or
    het component counts with its job). One column per pool, null where none of the platform's jobs was billed from
    it.
    """
    columns = ["platform", "jobs", "with a sacct record", *POOLS]
    rows = []
    for platform, ids in job_ids.items():
        wanted = {str(i) for i in ids if i}
        if jobs.empty or "platform" not in jobs.columns:
            mine = jobs.iloc[0:0]
        else:
            parent = jobs["parent-job-id"].astype(str) if "parent-job-id" in jobs.columns else jobs["job-id"]
            mine = jobs[(jobs["platform"] == platform) & (jobs["job-id"].astype(str).isin(wanted)
                                                          | parent.astype(str).isin(wanted))]
        found = set(mine["job-id"].astype(str)) | (set(mine["parent-job-id"].astype(str))
                                                    if "parent-job-id" in mine.columns else set())
        row: dict[str, object] = {"platform": platform, "jobs": len(wanted),
                                  "with a sacct record": len(wanted & found)}
        for total in pool_totals(mine):
            row[total.pool] = total.amount
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def management_job_ids(orchestration: Orchestration) -> dict[str, list[str]]:
    """Platform → the Slurm ids of its jobs in a Management object (jobs not submitted yet have none)."""
    return {name: [job.id for job in platform.jobs if job.id not in ("None", "")]
            for name, platform in orchestration.platforms.items()}
