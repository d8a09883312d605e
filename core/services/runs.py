"""Reading one stored SACCT run: its frame and what the run is, from one GET.

The frame is checked against what the parser writes; what the run is (platform, rows, when it was stored) comes
from the object's metadata.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import pandas as pd

from core.errors import DamagedObject
from core.platforms import platform_of_cluster
from core.sacct import KNOWN_FIELDS, parent_job_id, parse_sacct
from core.sacct.bounds import out_of_range
from core.services.objects import read_frame_and_metadata
from core.services.sacct import RunRef, run_name
from core.settings import ReadLimits
from core.store.base import ObjectMetadata, ObjectStore

log = logging.getLogger(__name__)


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


@cache
def _column_kinds() -> dict[str, str]:
    """``"number"`` or ``"text"`` for every column the parser can write (from parsing one empty row of each field)."""
    frame = parse_sacct("|".join(KNOWN_FIELDS) + "\n" + "|" * (len(KNOWN_FIELDS) - 1) + "\n").frame
    return {str(c): "number" if pd.api.types.is_numeric_dtype(frame[c]) else "text" for c in frame.columns}


def _check_columns(frame: pd.DataFrame, bucket: str, name: str) -> None:
    """A column the parser writes must hold what the parser writes: the charts and metrics compute on them."""
    kinds = _column_kinds()
    for column in frame.columns:
        kind = kinds.get(str(column))
        series = frame[column]
        if kind == "number" and (not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            raise DamagedObject(f"column {column} should hold numbers, not {series.dtype}", bucket=bucket, obj=name)
        if kind == "text" and not (pd.api.types.is_string_dtype(series) or series.isna().all()):
            raise DamagedObject(f"column {column} should hold text, not {series.dtype}", bucket=bucket, obj=name)


def load_described_run(store: ObjectStore, bucket: str, name: str, limits: ReadLimits | None = None
                       ) -> tuple[pd.DataFrame, RunInfo]:
    """A run's frame and what it is (platform, rows, version, stored time), from one GET.

    The frame has a ``run`` column and ``parent-job-id`` for grouping array tasks and het jobs. A page that shows
    runs so needs no request per listed run to say their platform, rows and stored time.

    Raises:
        DamagedObject: unreadable, too large, or a known sacct column holds the wrong kind of values (names it).
    """
    frame, meta = read_frame_and_metadata(store, bucket, name, limits)
    _check_columns(frame, bucket, name)
    frame, problems = out_of_range(frame)
    for problem in problems:
        log.warning("%s/%s: %s", bucket, name, problem)
    if "job-id" not in frame.columns:
        frame.insert(0, "job-id", pd.Series([f"row {i + 1}" for i in range(len(frame))], dtype="string"))
    if "step" not in frame.columns:
        frame.insert(1, "step", "")
    frame.insert(0, "run", run_name(name))
    frame["parent-job-id"] = parent_job_id(frame["job-id"].astype("string"))
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
