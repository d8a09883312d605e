"""What each stored SACCT run is: its platform, rows and when it was stored (from the object's metadata)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.platforms import platform_of_cluster
from core.services.sacct import RunRef, load_run_and_metadata, run_name
from core.settings import ReadLimits
from core.store.base import ObjectMetadata, ObjectStore


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


def unknown_run(run: RunRef) -> RunInfo:
    """What the listing alone tells of a run (its object could not be read)."""
    return RunInfo(run.name, run.object, None, None, None, None, run.stored, run.bytes)


def run_info(name: str, meta: ObjectMetadata) -> RunInfo:
    """The run ``name`` as its object's metadata describes it.

    A run stored before platforms were recorded has no platform unless it kept sacct's Cluster in its metadata.
    """
    custom = meta.custom
    cluster = custom.get("cluster")
    # Metadata is anyone's text: only the known platform names (or "other") come through.
    stored = custom.get("platform")
    platform = platform_of_cluster(stored) if isinstance(stored, str) else None
    if platform is None and isinstance(cluster, str):
        platform = platform_of_cluster(cluster)
    rows = custom.get("rows")
    version = custom.get("version")
    return RunInfo(name, meta.name, platform, cluster if isinstance(cluster, str) else None,
                   _count(rows), _count(version), meta.last_modified, meta.size)


def _count(value: object) -> int | None:
    """A row count or version number from metadata, or ``None`` for what no store writes (text, <0, >2**53)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53 else None


def load_described_run(store: ObjectStore, bucket: str, name: str, limits: ReadLimits | None = None
                       ) -> tuple[pd.DataFrame, RunInfo]:
    """A run's frame (:func:`core.services.sacct.load_run`) and what it is, from one GET.

    A page that shows runs so needs no request per listed run to say their platform, rows and stored time.
    """
    frame, meta = load_run_and_metadata(store, bucket, name, limits)
    return frame, run_info(run_name(name), meta)


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
