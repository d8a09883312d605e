"""What each stored SACCT run is: its platform, rows and when it was stored (from the object's metadata)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.errors import NotFound
from core.platforms import platform_of_cluster
from core.services.sacct import RunRef
from core.store.base import ObjectStore


@dataclass(frozen=True)
class RunInfo:
    """A stored run as the run table shows it; ``None`` where the object does not say."""

    name: str
    object: str
    platform: str | None
    cluster: str | None
    rows: int | None
    version: int | None
    stored: datetime | None
    bytes: int


def describe_run(store: ObjectStore, bucket: str, run: RunRef) -> RunInfo:
    """One run's metadata, from a HEAD of its object.

    A run stored before platforms were recorded has no platform unless it kept sacct's Cluster in its metadata.
    """
    try:
        meta = store.head_object(bucket, run.object)
    except NotFound:
        return RunInfo(run.name, run.object, None, None, None, None, run.stored, run.bytes)
    custom = meta.custom
    cluster = custom.get("cluster")
    # Metadata is anyone's text: only the known platform names (or "other") come through.
    stored = custom.get("platform")
    platform = platform_of_cluster(stored) if isinstance(stored, str) else None
    if platform is None and isinstance(cluster, str):
        platform = platform_of_cluster(cluster)
    rows = custom.get("rows")
    version = custom.get("version")
    return RunInfo(run.name, run.object, platform, cluster if isinstance(cluster, str) else None,
                   rows if isinstance(rows, int) else None, version if isinstance(version, int) else None,
                   meta.last_modified or run.stored, meta.size)


def describe_runs(store: ObjectStore, bucket: str, runs: Iterable[RunRef]) -> list[RunInfo]:
    """Every run's metadata, in the order given."""
    return [describe_run(store, bucket, run) for run in runs]


def run_table(infos: Iterable[RunInfo], timezone: str) -> pd.DataFrame:
    """The run table: run, platform, rows, version and stored time in ``timezone`` (numbers stay numbers)."""
    items = list(infos)
    stored = pd.to_datetime(pd.Series([i.stored for i in items], dtype="object"), utc=True)
    return pd.DataFrame({
        "run": pd.Series([i.name for i in items], dtype="string"),
        "platform": pd.Series([i.platform for i in items], dtype="string"),
        "cluster": pd.Series([i.cluster for i in items], dtype="string"),
        "rows": pd.array([i.rows for i in items], dtype="Int64"),
        "version": pd.array([i.version for i in items], dtype="Int64"),
        "stored": stored.dt.tz_convert(timezone),
        "bytes": pd.array([i.bytes for i in items], dtype="Int64"),
    })


def platforms_of(infos: Iterable[RunInfo]) -> dict[str, str]:
    """Run name → platform, ``unknown`` for a run that does not say."""
    return {i.name: i.platform or "unknown" for i in infos}
