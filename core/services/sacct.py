"""SACCT page: Slurm accounting runs stored as parquet under ARTIFACTS/SACCT/ in the forwarder bucket."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from core.errors import NotFound
from core.naming import bucket_name, folder
from core.sacct import job_metrics, parent_job_id
from core.services.objects import read_frame
from core.settings import Settings
from core.store.base import ObjectStore

SACCT_PREFIX = folder("arti", "SACCT")


def forwarder_bucket(settings: Settings) -> str:
    """The forwarder bucket (shared by the pipeline's users)."""
    return bucket_name("forwarder", settings.bucket_prefix, settings.pipeline_user)


@dataclass(frozen=True)
class RunRef:
    """A stored SACCT run: its object, size, etag (what caches key on) and when it was stored."""

    name: str
    object: str
    bytes: int
    etag: str
    stored: datetime | None = None


_NEVER = datetime.min.replace(tzinfo=UTC)


def list_runs(store: ObjectStore, settings: Settings) -> list[RunRef]:
    """Every SACCT run object (``<user>-<run>.parquet``), the newest stored first (then by name)."""
    try:
        objects = store.iter_objects(forwarder_bucket(settings), prefix=SACCT_PREFIX)
        runs = [RunRef(o.name[len(SACCT_PREFIX):].removesuffix(".parquet"), o.name, o.bytes, o.hash, o.last_modified)
                for o in objects if o.name.endswith(".parquet") and "/" not in o.name[len(SACCT_PREFIX):]]
    except NotFound:
        return []
    runs.sort(key=lambda r: r.name)
    runs.sort(key=lambda r: r.stored or _NEVER, reverse=True)
    return runs


def default_runs(runs: list[RunRef], limit: int = 6) -> list[str]:
    """The runs shown first: the ``limit`` newest stored (``runs`` come newest first from :func:`list_runs`)."""
    return [r.name for r in runs[:limit]]


def load_run(store: ObjectStore, bucket: str, name: str) -> pd.DataFrame:
    """One run's frame, with a ``run`` column and ``parent-job-id`` for grouping array tasks and het jobs."""
    frame = read_frame(store, bucket, name)
    if "job-id" not in frame.columns:
        frame.insert(0, "job-id", pd.Series([f"row {i + 1}" for i in range(len(frame))], dtype="string"))
    if "step" not in frame.columns:
        frame.insert(1, "step", "")
    frame.insert(0, "run", name[len(SACCT_PREFIX):].removesuffix(".parquet") if name.startswith(SACCT_PREFIX)
                 else name)
    frame["parent-job-id"] = parent_job_id(frame["job-id"].astype("string"))
    return frame


def combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Several runs in one frame."""
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["run", "job-id", "step"])


def step_kind(steps: pd.Series) -> pd.Series:
    """``job`` for the job's own row, else ``batch``, ``extern``, ``interactive`` or ``numbered``."""
    s = steps.fillna("").astype(str)
    kind = s.where(s.isin(["batch", "extern", "interactive"]), "numbered")
    return kind.where(s != "", "job")


@dataclass
class Filters:
    """The SACCT page's filters; empty means "all"."""

    states: list[str] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)
    step_kinds: list[str] = field(default_factory=list)
    job_name: str = ""


def filter_options(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The values each filter can take in this frame."""
    def values(column: str) -> list[str]:
        if column not in frame.columns:
            return []
        return sorted(str(v) for v in frame[column].dropna().unique())

    return {"states": values("state"), "partitions": values("partition"),
            "step_kinds": sorted(step_kind(frame["step"]).unique()) if "step" in frame.columns else []}


def apply_filters(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Rows that pass every filter. A job's steps follow their job's partition (steps print none)."""
    mask = pd.Series(True, index=frame.index)
    if filters.states and "state" in frame.columns:
        mask &= frame["state"].isin(filters.states).fillna(False).astype(bool)
    if filters.partitions and "partition" in frame.columns:
        job_partition = frame["partition"].where(frame["step"].fillna("") == "").groupby(
            [frame["run"], frame["job-id"]]).transform("first")
        mask &= job_partition.isin(filters.partitions).fillna(False).astype(bool)
    if filters.step_kinds:
        mask &= step_kind(frame["step"]).isin(filters.step_kinds)
    if filters.job_name and "job-name" in frame.columns:
        job_name = frame["job-name"].where(frame["step"].fillna("") == "").groupby(
            [frame["run"], frame["job-id"]]).transform("first")
        mask &= job_name.fillna("").str.contains(filters.job_name, case=False, regex=False)
    return frame[mask]


def metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-job efficiencies (core.sacct.job_metrics) for every run in the frame."""
    if frame.empty:
        return job_metrics(frame)
    parts = []
    for run, rows in frame.groupby("run", sort=False):
        m = job_metrics(rows.drop(columns=["run", "parent-job-id"], errors="ignore"))
        m.insert(0, "run", run)
        parts.append(m)
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class Summary:
    """Headline numbers for the top of the page."""

    jobs: int
    steps: int
    failed: int
    cpu_hours: float | None
    median_cpu_efficiency: float | None


def summary(frame: pd.DataFrame, job_frame: pd.DataFrame) -> Summary:
    """Counts and medians of the (filtered) frame."""
    is_job = frame["step"].fillna("") == "" if "step" in frame.columns else pd.Series(True, index=frame.index)
    failed = 0
    if "state" in frame.columns:
        failed = int(frame.loc[is_job, "state"].isin(["FAILED", "OUT_OF_MEMORY", "TIMEOUT", "NODE_FAIL"]).sum())
    cpu = job_frame["total-cpu-seconds"].sum(min_count=1) if "total-cpu-seconds" in job_frame else None
    eff = job_frame["cpu-efficiency"].median() if "cpu-efficiency" in job_frame else None
    return Summary(int(is_job.sum()), int((~is_job).sum()), failed,
                   None if cpu is None or pd.isna(cpu) else float(cpu) / 3600,
                   None if eff is None or pd.isna(eff) else float(eff))
