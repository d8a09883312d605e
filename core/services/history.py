"""The accounting history: every collected or uploaded sacct row, per cluster and month, in object storage.

Layout (in the forwarder bucket, Hive-style partitions that DuckDB, Spark or Trino read as they are)::

    ARTIFACTS/SACCT/history/cluster=<cluster>/month=<yyyy-mm>/sacct.parquet   every sacct row of the month's jobs
    ARTIFACTS/SACCT/history/cluster=<cluster>/month=<yyyy-mm>/jobs.parquet    one row per job: its figures

A job belongs to the month (UTC) of its Submit time, which never changes while the job runs, so a job stays in one
partition whatever state it reaches. A job is its cluster and its job id as printed (``123``, ``123_4``); its rows are
the job's own line and its steps'. Each month is compacted into these two objects: a merge reads the month, replaces
the rows of every job it brings a newer state of, and writes both objects again, each with one atomic put, so a
reader sees the month before or after the merge, never a part of it. ``sacct.parquet`` is written first and
``jobs.parquet`` records which generation of it it was computed from, so a merge interrupted between the two puts
is completed by the next one.

Which state of a job wins: a finished one over an unfinished one, then the one collected last (an unfinished job is
replaced by what it became; an old upload never turns a finished job back into a running one). A merge that brings
nothing new writes nothing.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa

from core.billing import POOLS, per_pool
from core.errors import DamagedObject, NotFound, ObjectTooLarge
from core.naming import folder
from core.platforms import platform_of_cluster
from core.sacct import job_metrics
from core.sacct.metrics import UNFINISHED_STATES
from core.serialize import frame_to_parquet, parquet_to_frame, parquet_to_table
from core.services.charts import durations
from core.services.sacct import RunRef, forwarder_bucket
from core.services.sacct_selection import FAILED_STATES
from core.services.tables import aligned_durations
from core.settings import ReadLimits, Settings
from core.store.base import MetaValue, ObjectEntry, ObjectStore
from core.store.listing import objects_under
from core.text import plotly_plain

__all__ = ["HISTORY_PREFIX", "JOBS_OBJECT", "ROWS_OBJECT", "MergeResult", "MonthRef", "cluster_name",
           "history_jobs", "list_months", "merge_into_history", "merge_month", "month_of", "partition_folder",
           "prepare_rows", "read_month_jobs", "read_month_rows"]

log = logging.getLogger(__name__)

#: Where the history dataset lives in the forwarder bucket.
HISTORY_PREFIX = folder("arti", "SACCT", "history")
ROWS_OBJECT = "sacct.parquet"
JOBS_OBJECT = "jobs.parquet"
PARQUET = "application/vnd.apache.parquet"
#: Columns the history adds to the parser's: the job's cluster, when the row was collected and from where.
COLLECTED_AT = "collected-at"
SOURCE = "source"
#: Float columns of mostly distinct values in both objects, written byte-stream-split (core.serialize).
SPLIT_FLOATS = frozenset({"submit-time", "start-time", "end-time", "elapsed-seconds", "total-cpu-seconds",
                          "max-rss", "max-disk-read", "max-disk-write", "core-seconds", "queue-wait-seconds",
                          "cpu-efficiency", "time-efficiency", "memory-efficiency", "gpu-seconds"})
#: The job table's ratios: 32-bit floats (7 significant digits; the page shows a percentage with one decimal).
RATIOS = frozenset({"cpu-efficiency", "time-efficiency", "memory-efficiency"})
_CLUSTER = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_PARTITION = re.compile(r"cluster=([^/]+)/month=(\d{4}-\d{2})/([^/]+)$")
#: A month's objects are far larger than one upload: the read limits of one history object.
HISTORY_LIMITS = ReadLimits(rows=20_000_000, bytes=8 * 1024**3)


def cluster_name(text: str) -> str:
    """A cluster name as a partition value: lower case; letters, digits, ``.``, ``_``, ``-``."""
    name = text.strip().lower()
    if not _CLUSTER.match(name):
        raise ValueError(f"cluster name {text!r} is not 1-63 letters, digits, '.', '_' or '-'")
    return name


def partition_folder(cluster: str, month: str) -> str:
    """``ARTIFACTS/SACCT/history/cluster=<cluster>/month=<yyyy-mm>/``."""
    return f"{HISTORY_PREFIX}cluster={cluster_name(cluster)}/month={month}/"


@dataclass(frozen=True)
class MonthRef:
    """One month of one cluster as listed: its two objects (``None`` when absent)."""

    cluster: str
    month: str
    rows: ObjectEntry | None
    jobs: ObjectEntry | None


def list_months(store: ObjectStore, settings: Settings) -> list[MonthRef]:
    """Every stored cluster-month, from one listing of the history folder, by cluster then month."""
    found: dict[tuple[str, str], dict[str, ObjectEntry]] = {}
    for entry in objects_under(store, forwarder_bucket(settings), HISTORY_PREFIX):
        match = _PARTITION.match(entry.name[len(HISTORY_PREFIX):])
        if match:
            found.setdefault((match[1], match[2]), {})[match[3]] = entry
    return [MonthRef(c, m, parts.get(ROWS_OBJECT), parts.get(JOBS_OBJECT)) for (c, m), parts in sorted(found.items())]


def month_of(epoch: pd.Series) -> pd.Series:
    """``yyyy-mm`` (UTC) of epoch seconds; null where the time is null."""
    when = pd.to_datetime(pd.to_numeric(epoch, errors="coerce"), unit="s", utc=True)
    return when.dt.strftime("%Y-%m").astype("string")


def _job_ids(frame: pd.DataFrame) -> pd.Series:
    return frame["job-id"].astype("string")


def prepare_rows(frame: pd.DataFrame, *, cluster: str | None, source: str,
                 collected_at: float | None = None) -> tuple[pd.DataFrame, int]:
    """The parsed rows as the history keeps them, and how many rows could not be placed.

    Adds ``cluster`` (sacct's Cluster when printed, else ``cluster``), ``collected-at`` and ``source``, and the
    job's ``month`` (from the job's Submit, else its Start or End, taken from any of its rows). Rows without a job id
    or without any of those times cannot be placed in a month and are counted, not kept.
    """
    if "job-id" not in frame.columns:
        return frame.iloc[0:0], len(frame)
    rows = frame.copy()
    given = cluster_name(cluster) if cluster else None
    if "cluster" in rows.columns:
        named = rows["cluster"].astype("string").str.strip().str.lower()
        rows["cluster"] = named.where(named.notna() & (named != ""), given)
    else:
        rows["cluster"] = given
    rows["cluster"] = rows["cluster"].astype("string")
    when = pd.Series(np.nan, index=rows.index, dtype="float64")
    for column in ("submit-time", "start-time", "end-time"):
        if column in rows.columns:
            when = when.fillna(pd.to_numeric(rows[column], errors="coerce").astype("float64"))
    # Every row of a job takes the job's time: steps print no Submit in some formats.
    when = when.groupby(_job_codes(rows)).transform("min")
    rows["month"] = month_of(when)
    placed = rows["month"].notna() & rows["cluster"].notna() & rows["job-id"].notna()
    rows = rows[placed]
    if not rows.empty:
        bad = ~rows["cluster"].str.fullmatch(_CLUSTER.pattern[1:-1]).fillna(False).astype(bool)
        if bad.any():
            raise ValueError(f"cluster name {rows['cluster'][bad].iloc[0]!r} is not 1-63 letters, digits, '.', "
                             "'_' or '-'")
    rows[COLLECTED_AT] = float(collected_at if collected_at is not None else time.time())
    rows[SOURCE] = source
    return rows.reset_index(drop=True), int((~placed).sum())


def _job_codes(rows: pd.DataFrame) -> np.ndarray:
    """Each row's job (its cluster and job id) as an integer from 0: the rows of one job share it."""
    if rows.empty:
        return np.zeros(0, dtype="int64")
    clusters, _ = pd.factorize(rows["cluster"].astype("string").fillna(""))
    ids, names = pd.factorize(_job_ids(rows).fillna(""))
    codes, _ = pd.factorize(clusters.astype("int64") * max(len(names), 1) + ids)
    return np.asarray(codes, dtype="int64")


def _keys(rows: pd.DataFrame) -> pd.Series:
    return (rows["cluster"].astype("string").fillna("") + "\x1f" + _job_ids(rows).fillna("")).reset_index(drop=True)


def _row_hashes(rows: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's content: what the job's state is, whoever collected it and when.

    Each column is hashed in its own type, no row turned into text; pandas hashes every missing value of a column
    alike (NaN of any sign or payload, None, NA), so a value read back from parquet equals the one a parse gave.
    """
    content = [c for c in sorted(rows.columns) if c not in (COLLECTED_AT, SOURCE, "_origin", "_pull")]
    return np.asarray(pd.util.hash_pandas_object(rows[content], index=False), dtype="uint64")


def _digests(codes: np.ndarray, hashes: np.ndarray, jobs: int) -> np.ndarray:
    """Per job code: the sum (modulo 2**64) of its rows' hashes, a digest that does not depend on the rows' order."""
    digest = np.zeros(jobs, dtype="uint64")
    if len(codes):
        order = np.argsort(codes, kind="stable")
        ordered = codes[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        digest[ordered[starts]] = np.add.reduceat(hashes[order], starts)
    return digest


def _finished_rows(rows: pd.DataFrame) -> np.ndarray:
    """Rows that are a job's own line (no step) in a finished state."""
    step = rows["step"].astype("string").fillna("") if "step" in rows.columns else pd.Series("", index=rows.index)
    if "state" not in rows.columns:
        return np.zeros(len(rows), dtype=bool)
    state = rows["state"].astype("string")
    return np.asarray((step == "") & state.notna() & ~state.isin(UNFINISHED_STATES).fillna(False), dtype=bool)


def dedupe_pulls(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Several pulls of overlapping windows as one set of rows: each job's rows from the last pull that had it."""
    parts = [f.assign(_pull=i) for i, f in enumerate(frames) if not f.empty]
    if not parts:
        return frames[0].iloc[0:0] if frames else pd.DataFrame()
    rows = pd.concat(parts, ignore_index=True)
    codes = _job_codes(rows)
    pulls = rows["_pull"].to_numpy(dtype="int64")
    last = np.full(int(codes.max()) + 1, -1, dtype="int64")
    np.maximum.at(last, codes, pulls)
    return rows[pulls == last[codes]].drop(columns="_pull").reset_index(drop=True)


@dataclass(frozen=True)
class MonthMerge:
    """What merging new rows into one month did; ``taken`` marks the rows of ``rows`` that came in with it."""

    rows: pd.DataFrame
    new_jobs: int
    updated_jobs: int
    taken: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def changed(self) -> bool:
        return bool(self.new_jobs or self.updated_jobs)


def merge_month(existing: pd.DataFrame, incoming: pd.DataFrame) -> MonthMerge:
    """The month's rows after ``incoming`` (one pull, already deduplicated) is merged into ``existing``.

    A job of ``incoming`` replaces the same job of ``existing`` when it is finished and the stored one is not, or
    when both are equally finished and it was collected at the same time or later, and its rows differ; otherwise
    the stored rows stay as they are. Jobs are compared by a digest of their rows, computed only for the jobs
    both sides hold: the work grows with what comes in, not with the month.
    """
    if incoming.empty:
        return MonthMerge(existing, 0, 0, np.zeros(len(existing), dtype=bool))
    if existing.empty:
        codes = _job_codes(incoming)
        return MonthMerge(incoming.reset_index(drop=True), int(codes.max()) + 1, 0, np.ones(len(incoming), bool))
    both = pd.concat([existing.assign(_origin=0), incoming.assign(_origin=1)], ignore_index=True)
    codes = _job_codes(both)
    jobs = int(codes.max()) + 1
    new = both["_origin"].to_numpy() == 1
    old = ~new
    in_old = np.bincount(codes[old], minlength=jobs) > 0
    in_new = np.bincount(codes[new], minlength=jobs) > 0
    common = in_old & in_new
    fresh = in_new & ~in_old
    compared = common[codes]
    part = both[compared]
    part_codes, part_new = codes[compared], new[compared]
    hashes = _row_hashes(part)
    differs = _digests(part_codes[part_new], hashes[part_new], jobs) != _digests(
        part_codes[~part_new], hashes[~part_new], jobs)
    finished = _finished_rows(part)
    new_finished = np.bincount(part_codes[part_new & finished], minlength=jobs) > 0
    old_finished = np.bincount(part_codes[~part_new & finished], minlength=jobs) > 0
    at = part[COLLECTED_AT].to_numpy(dtype="float64")
    new_at, old_at = np.full(jobs, np.nan), np.full(jobs, np.nan)
    np.fmax.at(new_at, part_codes[part_new], at[part_new])
    np.fmax.at(old_at, part_codes[~part_new], at[~part_new])
    wins = (new_finished & ~old_finished) | ((new_finished == old_finished) & (new_at >= old_at))
    replaced = common & wins & differs
    taken = fresh | replaced
    keep = (old & ~replaced[codes]) | (new & taken[codes])
    merged = both[keep].drop(columns="_origin").reset_index(drop=True)
    return MonthMerge(merged, int(fresh.sum()), int(replaced.sum()), new[keep])


# --- Per-job figures ----------------------------------------------------------------------------------------------

#: The job table's columns: what the History page groups and aggregates.
JOB_COLUMNS = (
    "cluster", "platform", "month", "job-id", "job-name", "state", "partition", "account", "user", "finished",
    "failed", "alloc-cpus", "n-nodes", "elapsed-seconds", "core-seconds", "total-cpu-seconds", "submit-time",
    "start-time", "end-time", "queue-wait-seconds", "cpu-efficiency", "time-efficiency", "memory-efficiency",
    "req-mem-bytes", "gpus", "gpu-type", "nvme-gib", "gpu-seconds",
)


def jobs_of_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per job of a month's rows: core.sacct.job_metrics plus who ran it, where, and its GPUs."""
    metrics = job_metrics(rows.drop(columns=["month", COLLECTED_AT, SOURCE], errors="ignore"))
    if metrics.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in JOB_COLUMNS})
    key = metrics["cluster"].astype("string") + "\x1f" + metrics["job-id"].astype("string")
    own = rows[rows["step"].astype("string").fillna("") == ""] if "step" in rows.columns else rows
    own = own.assign(_key=_keys(own).to_numpy()).drop_duplicates("_key").set_index("_key")
    out = metrics.drop(columns=["parent-job-id", "exit-code", "out-of-memory", "n-tasks", "max-rss", "req-mem-scope",
                                "steps"], errors="ignore")
    for name in ("account", "user", "month"):
        out[name] = (own[name].reindex(key.to_numpy()).to_numpy() if name in own.columns
                     else pd.Series(pd.NA, index=out.index))
        out[name] = out[name].astype("string")
    if "month" in rows.columns:  # jobs printed only through their steps
        months = rows.assign(_key=_keys(rows).to_numpy()).drop_duplicates("_key").set_index("_key")["month"]
        out["month"] = out["month"].fillna(pd.Series(months.reindex(key.to_numpy()).to_numpy(), index=out.index))
    clusters = out["cluster"].astype("string")
    platforms = {c: platform_of_cluster(c) or "other" for c in clusters.dropna().unique()}
    out["platform"] = clusters.map(platforms).astype("string").fillna("other")
    out["user"] = out["user"].str.lower()
    state = out["state"].astype("string")
    out["failed"] = (out["finished"].astype(bool) & state.isin(FAILED_STATES).fillna(False)).astype(bool)
    # GPUs as core.sacct reads them (AllocTRES, else ReqTRES, else AllocGRES; typed or not): null when not printed.
    out["gpu-seconds"] = out["gpus"] * out["elapsed-seconds"]
    return _job_order(out[list(JOB_COLUMNS)])


def _job_order(jobs: pd.DataFrame) -> pd.DataFrame:
    """The job table in its stored order: by cluster, then job id."""
    return jobs.sort_values(["cluster", "job-id"], kind="stable").reset_index(drop=True)


# --- Reading and writing months -----------------------------------------------------------------------------------


def month_parquet(frame: pd.DataFrame) -> bytes:
    """A month's object as written: parquet, :data:`SPLIT_FLOATS` byte-stream-split, :data:`RATIOS` 32-bit."""
    return frame_to_parquet(frame, split_floats=SPLIT_FLOATS, single_floats=RATIOS)


@contextmanager
def _named(bucket: str, name: str) -> Iterator[None]:
    """A month's decoding errors as errors naming its object: too large, or not a readable parquet object."""
    try:
        yield
    except ObjectTooLarge as exc:
        raise ObjectTooLarge(exc.reason, bucket=bucket, obj=name) from None
    except ValueError as exc:
        raise DamagedObject(str(exc), bucket=bucket, obj=name) from None


def _read(store: ObjectStore, bucket: str, name: str, columns: Sequence[str] | None = None
          ) -> tuple[pd.DataFrame, dict[str, MetaValue]] | None:
    try:
        meta, data = store.get_object(bucket, name)
    except NotFound:
        return None
    with _named(bucket, name):
        if columns is None:
            return parquet_to_frame(data, HISTORY_LIMITS), dict(meta.custom)
        return parquet_to_table(data, HISTORY_LIMITS, columns=columns).to_pandas(), dict(meta.custom)


def read_month_rows(store: ObjectStore, settings: Settings, cluster: str, month: str) -> pd.DataFrame:
    """Every stored sacct row of one cluster-month (empty when the month has none)."""
    read = _read(store, forwarder_bucket(settings), partition_folder(cluster, month) + ROWS_OBJECT)
    return read[0] if read is not None else pd.DataFrame()


def read_month_jobs(store: ObjectStore, bucket: str, name: str, columns: Sequence[str] | None = None
                    ) -> pd.DataFrame:
    """The per-job table of one month, only ``columns`` decoded (all when ``None``)."""
    read = _read(store, bucket, name, columns)
    if read is None:
        raise NotFound("the month was replaced while it was read; reload", bucket=bucket, obj=name)
    return read[0]


@dataclass
class MergeResult:
    """What a merge into the history did, over all months it touched."""

    new_jobs: int = 0
    updated_jobs: int = 0
    months: set[tuple[str, str]] = field(default_factory=set)
    unplaced_rows: int = 0

    @property
    def months_written(self) -> int:
        """How many cluster-months were written (once or more)."""
        return len(self.months)

    def add(self, other: MergeResult) -> None:
        """Count ``other`` in too."""
        self.new_jobs += other.new_jobs
        self.updated_jobs += other.updated_jobs
        self.months |= other.months
        self.unplaced_rows += other.unplaced_rows

    def text(self) -> str:
        """The counts in a sentence."""
        said = (f"{self.new_jobs:,} new {'job' if self.new_jobs == 1 else 'jobs'}, {self.updated_jobs:,} updated, "
                f"{self.months_written:,} {'month' if self.months_written == 1 else 'months'} written")
        if self.unplaced_rows:
            said += f"; {self.unplaced_rows:,} rows without a job id, cluster or time were not kept"
        return said


def _updated_jobs(stored: tuple[pd.DataFrame, dict[str, MetaValue]] | None, generation: int,
                  columns_before: pd.Index, rows: pd.DataFrame, taken: np.ndarray, month: str) -> pd.DataFrame | None:
    """The month's job table after a merge, from the stored one: only the jobs the merge took are computed again.

    ``None`` when the stored table cannot be carried over: absent, of another generation than the rows it is
    merged into, or computed from rows with other columns (a figure may depend on which fields sacct printed).
    A job's figures depend on its own rows only, so the result equals :func:`jobs_of_rows` of the whole month.
    """
    if stored is None or stored[1].get("generation") != generation or set(columns_before) != set(rows.columns):
        return None
    before = stored[0]
    computed = jobs_of_rows(rows[taken].assign(month=month))
    if list(before.columns) != list(computed.columns):
        return None
    codes = _job_codes(pd.concat([before[["cluster", "job-id"]], computed[["cluster", "job-id"]]], ignore_index=True))
    recomputed = np.zeros(int(codes.max()) + 1, dtype=bool)
    recomputed[codes[len(before):]] = True
    kept = before[~recomputed[codes[:len(before)]]]
    kept = kept.astype({c: computed[c].dtype for c in computed.columns if kept[c].dtype != computed[c].dtype})
    return _job_order(pd.concat([kept, computed], ignore_index=True))


def _write_month(store: ObjectStore, bucket: str, cluster: str, month: str, incoming: pd.DataFrame) -> MergeResult:
    where = partition_folder(cluster, month)
    stored = _read(store, bucket, where + ROWS_OBJECT)
    existing, meta = stored if stored is not None else (pd.DataFrame(), {})
    merged = merge_month(existing, incoming.drop(columns="month"))
    generation = meta.get("generation", 0)
    generation = generation if isinstance(generation, int) else 0
    jobs: pd.DataFrame | None = None
    if merged.changed:
        generation += 1
        order = merged.rows.sort_values(["job-id"] + (["step"] if "step" in merged.rows.columns else []),
                                        kind="stable").index.to_numpy()
        rows = merged.rows.take(order).reset_index(drop=True)
        store.put_object(bucket, where + ROWS_OBJECT, month_parquet(rows), content_type=PARQUET, metadata={
            "generation": generation, "rows": len(rows), "jobs": int(_job_codes(rows).max()) + 1,
            "cluster": cluster, "month": month})
        if not existing.empty:
            jobs = _updated_jobs(_read(store, bucket, where + JOBS_OBJECT), generation - 1, existing.columns, rows,
                                 merged.taken[order], month)
    else:
        rows = existing
        try:  # a merge that stopped between the two puts left the job table one generation behind
            jobs_meta = store.head_object(bucket, where + JOBS_OBJECT).custom
            if jobs_meta.get("generation") == generation:
                return MergeResult()
        except NotFound:
            pass
    if jobs is None:
        jobs = jobs_of_rows(rows.assign(month=month))
    store.put_object(bucket, where + JOBS_OBJECT, month_parquet(jobs), content_type=PARQUET, metadata={
        "generation": generation, "jobs": len(jobs), "cluster": cluster, "month": month})
    return MergeResult(merged.new_jobs, merged.updated_jobs, {(cluster, month)})


def merge_into_history(store: ObjectStore, settings: Settings, rows: pd.DataFrame) -> MergeResult:
    """Merge rows from :func:`prepare_rows` (or several pulls through :func:`dedupe_pulls`) month by month.

    Each month is written with its own atomic puts; an interrupted merge leaves every month whole, and merging
    the same rows again completes it without duplicating a job.
    """
    result = MergeResult()
    if rows.empty:
        return result
    bucket = forwarder_bucket(settings)
    for (cluster, month), part in rows.groupby(["cluster", "month"], sort=True):
        done = _write_month(store, bucket, str(cluster), str(month), part)
        log.info("history %s/%s: %s", cluster, month, done.text())
        result.add(done)
    return result


def history_jobs(store: ObjectStore, settings: Settings, months: Iterable[MonthRef],
                 columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The job tables of ``months`` in one frame (only ``columns``), uncached: pages go through their cache."""
    bucket = forwarder_bucket(settings)
    frames = [read_month_jobs(store, bucket, m.jobs.name, columns) for m in months if m.jobs is not None]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in (columns or JOB_COLUMNS)})
    return pd.concat(frames, ignore_index=True)


# --- The History page ---------------------------------------------------------------------------------------------

#: Grouping choices of the page → the job table's column.
GROUPS: dict[str, str] = {"platform": "platform", "partition": "partition", "account": "account", "user": "user",
                          "job name": "job-name"}
PERIODS = ("week", "month")
#: The job table's columns the page reads (the rest are not decoded).
PAGE_COLUMNS = ("cluster", "platform", "job-name", "partition", "account", "user", "finished", "failed",
                "alloc-cpus", "n-nodes", "elapsed-seconds", "core-seconds", "submit-time", "start-time",
                "queue-wait-seconds", "cpu-efficiency", "time-efficiency", "memory-efficiency", "req-mem-bytes",
                "gpus", "gpu-type", "nvme-gib", "gpu-seconds")
#: The figures of one group in one period, in the order the page shows them.
FIGURES = ("jobs", "failure rate", "core-hours", "GPU-hours", *POOLS, "median CPU eff.",
           "median memory eff.", "median time eff.", "queue wait median", "queue wait p90")


#: Threads decoding months while others arrive.
DECODERS = 2


@dataclass(frozen=True)
class _Part:
    """A few months' share of the page's table: their text columns (Arrow dictionaries) and their jobs' figures."""

    texts: pa.Table
    figures: dict[str, np.ndarray]


#: The text columns the page groups by: categories in the prepared table.
_TEXTS = ("cluster", *GROUPS.values())
#: Stored bytes of the months prepared together: a year is prepared in about ten parts, each while the next months
#: are still arriving, and each part is large enough that its own fixed costs stay small.
PART_BYTES = 4 * 2**20


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind))


def _is_number(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
                or pa.types.is_null(kind))


def _page_table(bucket: str, name: str, data: bytes) -> pa.Table:
    """One month's :data:`PAGE_COLUMNS`, each checked to hold the kind of value the job table holds there."""
    with _named(bucket, name):
        table = parquet_to_table(data, HISTORY_LIMITS, columns=PAGE_COLUMNS, dictionaries=True)
        for column in table.schema:
            if not (_is_text(column.type) if column.name in (*_TEXTS, "gpu-type") else _is_number(column.type)):
                raise ValueError(f"its column {column.name!r} holds {column.type}, not what a job table holds there")
    return table


def _part(bucket: str, months: Sequence[tuple[str, bytes]], settings: Settings) -> _Part:
    """Decode a few months and compute their jobs' figures: done by a decoder thread while later months arrive."""
    tables = [_page_table(bucket, name, data) for name, data in months]
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except pa.ArrowException:
        raise _misfit(bucket, [name for name, _ in months], tables) from None
    texts = table.select([c for c in _TEXTS if c in table.column_names])
    jobs = table.to_pandas(split_blocks=True, use_threads=False)
    for column in PAGE_COLUMNS:
        if column not in jobs.columns:  # months stored before the column existed: not recorded
            jobs[column] = pd.Series(np.nan, index=jobs.index, dtype="float64")
    return _Part(texts, job_figures(jobs, settings))


def _misfit(bucket: str, names: Sequence[str], tables: Sequence[pa.Table]) -> DamagedObject:
    """The error naming the first month whose job table does not fit with the ones before it."""
    for at in range(1, len(tables)):
        try:
            pa.concat_tables(tables[:at + 1], promote_options="permissive")
        except pa.ArrowException as exc:
            return DamagedObject(f"its columns do not fit the other months' ({exc})", bucket=bucket, obj=names[at])
    return DamagedObject("the months' job tables do not fit together", bucket=bucket)


def page_jobs(store: ObjectStore, settings: Settings, months: Iterable[MonthRef]) -> pd.DataFrame:
    """The jobs of ``months`` :func:`prepare` d for the page, uncached (the page goes through its cache).

    Only the :data:`PAGE_COLUMNS` are decoded, text columns as categories (each distinct value once): a year of
    1,000,000 jobs reads as about 100 MiB. The months are decoded and their jobs' figures computed a few at a time
    (:data:`PART_BYTES`) as they arrive, while the next ones are read; the parts are then put together. A month
    stored before a column existed reads it as not recorded; a month whose column holds another kind of value is
    named in the error.
    """
    bucket = forwarder_bucket(settings)
    names = [month.jobs.name for month in months if month.jobs is not None]
    try:
        with ThreadPoolExecutor(DECODERS) as pool:  # decoding releases the GIL: decode while the next ones arrive
            preparing: list[Future[_Part]] = []
            waiting: list[tuple[str, bytes]] = []
            for name, _, data in store.get_objects(bucket, names):
                waiting.append((name, data))
                if sum(len(d) for _, d in waiting) >= PART_BYTES:
                    preparing.append(pool.submit(_part, bucket, waiting, settings))
                    waiting = []
            if waiting:
                preparing.append(pool.submit(_part, bucket, waiting, settings))
            parts = [future.result() for future in preparing]
    except NotFound as exc:
        raise NotFound("the month was replaced while it was read; reload", bucket=bucket, obj=exc.obj) from None
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in PAGE_COLUMNS})
        return prepare(empty[list(_TEXTS)], job_figures(empty, settings), settings.sacct_timezone)
    try:
        texts = pa.concat_tables([p.texts for p in parts], promote_options="permissive").unify_dictionaries()
    except pa.ArrowException as exc:
        raise DamagedObject(f"the months' job tables do not fit together ({exc})", bucket=bucket) from None
    figures = {name: np.concatenate([p.figures[name] for p in parts]) for name in parts[0].figures}
    return prepare(texts.to_pandas(use_threads=False), figures, settings.sacct_timezone)


def month_range(months: Sequence[MonthRef]) -> tuple[date, date] | None:
    """The first and last day of the stored months (``None`` when there are none)."""
    if not months:
        return None
    first = date.fromisoformat(min(m.month for m in months) + "-01")
    last_month = date.fromisoformat(max(m.month for m in months) + "-01")
    return first, _month_end(last_month)


def _month_end(first_day: date) -> date:
    following = (first_day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def months_to_read(months: Sequence[MonthRef], first: date, last: date) -> list[MonthRef]:
    """The months whose jobs can have started between ``first`` and ``last``.

    A job belongs to its Submit month, so the month before ``first`` too: a job submitted then may have started in
    the range.
    """
    before = (first.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return [m for m in months if before <= m.month <= last.strftime("%Y-%m") and m.jobs is not None]


def _when(jobs: pd.DataFrame) -> pd.Series:
    """A job's time on the page: its Start, else its Submit (as the SACCT page's day filter)."""
    return pd.to_numeric(jobs["start-time"], errors="coerce").fillna(pd.to_numeric(jobs["submit-time"],
                                                                                   errors="coerce"))


def _day_bounds(first: date, last: date, timezone: str) -> tuple[float, float]:
    zone = ZoneInfo(timezone)
    low = datetime.combine(first, datetime.min.time(), zone).timestamp()
    return low, datetime.combine(last + timedelta(days=1), datetime.min.time(), zone).timestamp()


def in_days(prepared: pd.DataFrame, first: date, last: date, timezone: str) -> np.ndarray:
    """Which jobs of a :func:`prepare` d table started (else were submitted) on ``first``..``last`` in ``timezone``."""
    low, high = _day_bounds(first, last, timezone)
    when = prepared["when"].to_numpy()
    inside: np.ndarray = (when >= low) & (when < high)
    return inside


def _period_starts(when: pd.Series | np.ndarray, timezone: str) -> tuple[pd.Categorical, pd.Categorical]:
    """The first day of each time's week (Monday) and month in ``timezone``, as categories of naive timestamps.

    A time zone's offset only ever changes on a quarter-hour, so every time in one quarter-hour has the same local
    day: each quarter-hour is converted once (about 35,000 in a year) instead of every job, and a job's period is
    looked up by its quarter-hour's offset from the first. Categories make a group-by on the period use their codes
    instead of hashing a million timestamps.
    """
    times = np.asarray(when, dtype="float64")
    known = ~np.isnan(times)
    first = int(np.floor(np.nanmin(times) / 900)) if known.any() else 0
    quarters = np.full(len(times), first, dtype="int64")  # a job with no time: the first, then no period
    quarters[known] = np.floor(times[known] / 900)
    span = int(quarters.max()) - first + 1 if known.any() else 0
    if span <= max(4 * len(times), _QUARTERS_AT_ONCE):  # every quarter-hour from the first to the last
        offsets, quarter_values = quarters - first, first + np.arange(span, dtype="int64")
    else:  # times scattered over centuries: only the ones that occur
        offsets, quarter_values = pd.factorize(quarters)
    local = (pd.to_datetime(quarter_values * 900, unit="s", utc=True).tz_convert(timezone).tz_localize(None)
             .normalize())
    starts = {"week": local - pd.to_timedelta(local.day_of_week, unit="D"),
              "month": local.to_period("M").to_timestamp()}
    out = []
    for start in starts.values():
        of_quarter, days = pd.factorize(start, sort=True)
        rows = np.where(known, of_quarter[offsets] if len(of_quarter) else -1, -1)
        out.append(pd.Categorical.from_codes(rows, categories=pd.DatetimeIndex(days)))
    return out[0], out[1]


#: Quarter-hours converted at once at most when times are few (ten years).
_QUARTERS_AT_ONCE = 400_000


def periods(jobs: pd.DataFrame, period: str, timezone: str) -> pd.Series:
    """The first day of each job's week (Monday) or month, in ``timezone``, as a date."""
    week, month = _period_starts(_when(jobs), timezone)
    starts = pd.Series(week if period == "week" else month, index=jobs.index).astype("datetime64[ns]")
    return starts.dt.date


def _category(values: pd.Series) -> pd.Categorical:
    """A text column as categories, a missing value as ``(none)`` (the page's group of jobs that printed none)."""
    category = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    if category.isna().any():
        if NONE not in category.cat.categories:
            category = category.cat.add_categories([NONE])
        category = category.fillna(NONE)
    return category.array


#: How the page names the group of jobs that printed no value of the grouping column.
NONE = "(none)"
_EFFICIENCIES = {"median CPU eff.": "cpu-efficiency", "median memory eff.": "memory-efficiency",
                 "median time eff.": "time-efficiency"}


def _flag(values: pd.Series) -> np.ndarray:
    """A yes/no column as booleans; a value not recorded (a month stored before the column existed) is no."""
    flags: np.ndarray = values.eq(True).to_numpy(dtype=bool, na_value=False)
    return flags


def job_figures(jobs: pd.DataFrame, settings: Settings) -> dict[str, np.ndarray]:
    """Per job of a job table (:data:`PAGE_COLUMNS`), the figures :func:`summarize` adds up, one array each.

    ``when`` (Start, else Submit; epoch seconds), finished and failed (0 or 1), core-hours, GPU-hours, what it was
    billed in each pool (core.billing, with the settings' rates), the three efficiencies where the job finished and
    ran (null otherwise) and its queue wait. A job's figures depend on its own row only, so a year's are its
    months' put together.
    """
    finished, failed = _flag(jobs["finished"]), _flag(jobs["failed"])
    ran = finished & (pd.to_numeric(jobs["elapsed-seconds"], errors="coerce") > 0).to_numpy()
    return {
        "when": _when(jobs).to_numpy(dtype="float64"),
        "_finished": finished.astype("int8"), "_failed": failed.astype("int8"),
        "core-hours": pd.to_numeric(jobs["core-seconds"], errors="coerce").to_numpy(dtype="float64") / 3600,
        "GPU-hours": pd.to_numeric(jobs["gpu-seconds"], errors="coerce").to_numpy(dtype="float64") / 3600,
        **per_pool(jobs, jobs["platform"], settings.billing),
        **{name: np.where(ran, pd.to_numeric(jobs[column], errors="coerce").to_numpy(dtype="float64"), np.nan)
           for name, column in _EFFICIENCIES.items()},
        "_wait": pd.to_numeric(jobs["queue-wait-seconds"], errors="coerce").to_numpy(dtype="float64"),
    }


def prepare(texts: pd.DataFrame, figures: dict[str, np.ndarray], timezone: str) -> pd.DataFrame:
    """The job table as the page groups it, computed once per read of the months.

    Every choice of the page (period, grouping, days, figure) is then one filter and one group-by of this table:
    the :func:`job_figures`, ``week`` and ``month`` (the first day of the job's week and month in ``timezone``), and
    ``cluster`` and the :data:`GROUPS` columns of ``texts`` as categories (``(none)`` where the job printed none).
    """
    week, month = _period_starts(figures["when"], timezone)
    rows = len(figures["when"])
    categories = {column: _category(texts[column]) if column in texts.columns
                  else pd.Categorical([NONE] * rows) for column in _TEXTS}
    return pd.DataFrame({"when": figures["when"], "week": week, "month": month, **categories,
                         **{name: values for name, values in figures.items() if name != "when"}},
                        copy=False)  # the columns are new arrays: no need to copy them into one block


def _figures(prepared: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    grouped = prepared.groupby(by, sort=True, observed=True)
    out = grouped.size().rename("jobs").to_frame()
    out = out.join(grouped[["_finished", "_failed"]].sum())
    out = out.join(grouped[["core-hours", "GPU-hours", *POOLS]].sum(min_count=1))
    out = out.join(grouped[list(_EFFICIENCIES)].median())
    wait = grouped["_wait"]
    out["queue wait median"] = wait.median()
    out["queue wait p90"] = wait.quantile(0.9)
    out["failure rate"] = out["_failed"] / out["_finished"].where(out["_finished"] > 0)
    out["finished jobs"] = out["_finished"]
    return out.drop(columns=["_finished", "_failed"])


def summarize(prepared: pd.DataFrame, period: str, group: str, jobs: np.ndarray | None = None) -> pd.DataFrame:
    """The :data:`FIGURES` per period and group of a :func:`prepare` d table (of the ``jobs`` chosen, a mask).

    Columns ``period`` (the first day, a date), ``group`` and the figures: jobs, failure rate (of the finished
    jobs), core-hours allocated, GPU-hours allocated (null when no job recorded its GPUs), billing per pool
    (core.billing.POOLS: CSC CPU BU, CSC GPU BU, LUMI core-hours, LUMI GPU-hours), median CPU, memory and time
    efficiency of the finished jobs that ran, and queue wait median and 90th percentile (seconds) of the jobs that
    started.
    """
    columns = ["period", "group", *FIGURES, "finished jobs"]
    if prepared.empty:
        return pd.DataFrame(columns=columns)
    periods = prepared[period].array
    if jobs is not None and not jobs.all():  # the others get no period: the group-by leaves them out (no copy)
        periods = pd.Categorical.from_codes(np.where(jobs, periods.codes, -1), dtype=periods.dtype)
    out = _figures(prepared.assign(period=periods).rename(columns={GROUPS[group]: "group"}), ["period", "group"])
    out = out.reset_index()
    out["period"] = out["period"].astype("datetime64[ns]").dt.date
    out["group"] = out["group"].astype("string")
    return out[columns]


def compare_months(prepared: pd.DataFrame, today: date) -> pd.DataFrame:
    """This month (so far) against the last one: the :data:`FIGURES` of the :func:`prepare` d jobs, a column each."""
    this = today.replace(day=1)
    last = (this - timedelta(days=1)).replace(day=1)
    if prepared.empty:
        return pd.DataFrame(index=list(FIGURES))
    month = prepared["month"]
    chosen = prepared[((month == pd.Timestamp(this)) | (month == pd.Timestamp(last))).to_numpy()]
    figures = _figures(chosen, ["month"])
    figures.index = pd.DatetimeIndex(figures.index.astype("datetime64[ns]")).date
    table = table_text(figures.reindex([last, this]))[list(FIGURES)].T.astype("object").map(
        lambda v: "not recorded" if v is None or v == "" or (isinstance(v, float) and np.isnan(v)) else str(v).strip())
    table.columns = [f"{last:%Y-%m} (last month)", f"{this:%Y-%m} (this month, to {today:%d %b})"]
    table.index = [f"{name} %" if name in _PERCENT else name for name in FIGURES]
    return table


def comparison_note(months: Sequence[MonthRef], today: date) -> str:
    """What the page says instead of comparing this month with the last when neither has stored jobs."""
    last = today.replace(day=1) - timedelta(days=1)
    newest = max((m.month for m in months if m.jobs is not None), default=None)
    stored = f"; the newest stored month is {newest}" if newest else ""
    return (f"No jobs are stored for {last:%Y-%m} or {today:%Y-%m}, so there is nothing to compare: collect or upload "
            f"their sacct output{stored}.")


def month_notes(months: Sequence[MonthRef], first: date, last: date, today: date) -> list[str]:
    """What the page must say of the chosen range, month by month in order.

    Months with no stored jobs (consecutive ones in one note: a gap of a year is one line, not twelve), the month
    still running, and months the range cuts.
    """
    stored = {m.month for m in months if m.jobs is not None}
    notes: list[str] = []
    empty: list[date] = []  # the months of a gap so far

    def end_of_gap() -> None:
        if len(empty) == 1:
            notes.append(f"{empty[0]:%Y-%m}: no jobs stored (nothing collected or uploaded for it)")
        elif empty:
            notes.append(f"{empty[0]:%Y-%m} to {empty[-1]:%Y-%m} ({len(empty)} months): no jobs stored (nothing "
                         "collected or uploaded for them)")
        empty.clear()

    month = first.replace(day=1)
    while month <= last:
        end = _month_end(month)
        if f"{month:%Y-%m}" not in stored:
            empty.append(month)
        else:
            end_of_gap()
            if month <= today <= end:
                notes.append(f"{month:%Y-%m}: partial, the month is not over (up to {today:%Y-%m-%d})")
            elif first > month or last < end:
                cut_from, cut_to = max(first, month), min(last, end)
                notes.append(f"{month:%Y-%m}: partial, only {cut_from:%d}–{cut_to:%d} {month:%b} are in the range")
        month = end + timedelta(days=1)
    end_of_gap()
    return notes


def sacct_run_name(month: MonthRef) -> str:
    """How the SACCT page names a stored month: ``history:<cluster>/<yyyy-mm>``."""
    return f"history:{month.cluster}/{month.month}"


def month_runs(months: Sequence[MonthRef]) -> list[RunRef]:
    """Stored months as SACCT runs (their ``sacct.parquet``), the newest month first."""
    refs = [RunRef(sacct_run_name(m), m.rows.name, m.rows.bytes, m.rows.hash, m.rows.last_modified)
            for m in months if m.rows is not None]
    return sorted(refs, key=lambda r: r.name.split("/")[-1], reverse=True)


def sacct_link(months: Sequence[MonthRef], start: date, period: str, group: str, value: str,
               jobs: pd.DataFrame) -> dict[str, list[str]]:
    """The SACCT page's URL parameters that open the jobs of one bar.

    The months holding them, the bar's days, and the group when SACCT filters by it (partition, job name; a
    platform chooses its clusters' months; SACCT has no account or user filter).
    """
    end = _month_end(start) if period == "month" else start + timedelta(days=6)
    column = GROUPS[group]
    clusters: set[str] = set()
    if "cluster" in jobs.columns:
        chosen = np.ones(len(jobs), dtype=bool)
        if column in jobs.columns:  # categories compare by their codes: no text per job
            values = jobs[column]
            if not isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype("string").fillna(NONE)
            chosen = (values == value).to_numpy(dtype=bool, na_value=False)
        clusters = {str(name) for name in jobs["cluster"][chosen].dropna().unique()}
    first_month = (start.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    runs = [sacct_run_name(m) for m in months if m.rows is not None and (not clusters or m.cluster in clusters)
            and first_month <= m.month <= end.strftime("%Y-%m")]
    params = {"runs": runs, "days": [f"{start:%Y-%m-%d}..{end:%Y-%m-%d}"]}
    if column == "partition" and value != "(none)":
        params["partition"] = [value]
    if column == "job-name" and value != "(none)":
        params["name"] = [value]
    return params


#: Figures that add up across groups (stacked bars); the others are rates and medians (bars side by side).
ADDITIVE = frozenset({"jobs", "core-hours", "GPU-hours", *POOLS})
_PERCENT = ("failure rate", "median CPU eff.", "median memory eff.", "median time eff.")
_WAITS = ("queue wait median", "queue wait p90")


def chart(table: pd.DataFrame, figure: str, period: str) -> go.Figure:
    """Bars of one figure per period, one colour per group; each bar carries its group (a click names it)."""
    shown = table.dropna(subset=[figure]).copy()
    shown["group"] = shown["group"].map(plotly_plain)
    if figure in _WAITS:  # in the unit the longest wait reads in; the hover says [D-]HH:MM:SS
        wait = durations(shown[figure])
        shown["value"], shown["text"], unit = wait.values, wait.text, f" ({wait.unit})"
        hover = "%{customdata[1]}"
    else:
        shown["value"] = shown[figure].astype("float64") * (100.0 if figure in _PERCENT else 1.0)
        shown["text"], unit = "", " %" if figure in _PERCENT else ""
        hover = "%{y:,.3~f}" + unit
    # One trace per group, built directly: plotly.express spends a quarter of a second on the same figure.
    template = "%{customdata[0]}<br>%{x|%Y-%m-%d}: " + hover + "<extra></extra>"
    fig = go.Figure([go.Bar(x=part["period"], y=part["value"], name=str(name), legendgroup=str(name),
                            customdata=np.column_stack([part["group"], part["text"]]), hovertemplate=template)
                     for name, part in shown.groupby("group", sort=False)])
    fig.update_xaxes(type="date", tickformat="%Y-%m-%d" if period == "week" else "%Y-%m",
                     title_text=f"{period} starting")
    fig.update_yaxes(title_text=f"{figure}{unit}")
    fig.update_layout(title=f"{figure} per {period}" + (" (finished jobs that ran)" if "eff." in figure else ""),
                      barmode="relative" if figure in ADDITIVE else "group", legend_title_text="", margin={"t": 40})
    return fig


def table_text(table: pd.DataFrame) -> pd.DataFrame:
    """The aggregate table as a Slurm user reads it.

    Percentages, hours with one decimal, waits as [D-]HH:MM:SS padded to sort; a figure nobody recorded stays
    empty, never 0. Numbers stay numbers (columns sort).
    """
    out = table.copy()
    for name in _PERCENT:
        out[name] = (out[name].astype("float64") * 100).round(1)
    for name in ("core-hours", "GPU-hours", *POOLS):
        out[name] = out[name].astype("float64").round(1)
    for name in _WAITS:
        out[name] = aligned_durations(out[name])
    return out


def _stored_months(store: ObjectStore, settings: Settings, cluster: str | None, since: float | None) -> list[MonthRef]:
    """The stored months of ``cluster`` (every cluster's when ``None``) that can hold jobs from ``since`` on.

    ``since`` is epoch seconds; a job belongs to its Submit month and may have started in a later one, so the month
    before ``since``'s is read too.
    """
    months = list_months(store, settings)
    if cluster is not None:
        months = [m for m in months if m.cluster == cluster_name(cluster)]
    if since is None:
        return months
    before = datetime.fromtimestamp(since, ZoneInfo("UTC")).date().replace(day=1) - timedelta(days=1)
    return [m for m in months if m.month >= before.strftime("%Y-%m")]


def stored_jobs(store: ObjectStore, settings: Settings, *, cluster: str | None = None,
                since: float | None = None) -> pd.DataFrame:
    """The history's jobs (one row per job, :data:`JOB_COLUMNS`), of one cluster and from a time on when asked.

    ``since`` (epoch seconds) keeps the jobs whose Start, else Submit, is at or after it; only the months that can
    hold them are read. Ordered by Submit, then cluster and job id.
    """
    jobs = history_jobs(store, settings, _stored_months(store, settings, cluster, since))
    if since is not None and not jobs.empty:
        jobs = jobs[_when(jobs) >= since]
    if jobs.empty:
        return jobs.reset_index(drop=True)
    return jobs.sort_values(["submit-time", "cluster", "job-id"], kind="stable").reset_index(drop=True)


def stored_rows(store: ObjectStore, settings: Settings, *, cluster: str | None = None,
                since: float | None = None) -> pd.DataFrame:
    """The stored sacct rows (the parser's columns and ``cluster``), as sacct would print them for those jobs.

    Only one cluster's when ``cluster`` is given, and only the jobs whose Start, else Submit, is at or after
    ``since``; only the months that can hold them are read.
    """
    bucket = forwarder_bucket(settings)
    frames = [read[0] for m in _stored_months(store, settings, cluster, since) if m.rows is not None
              and (read := _read(store, bucket, m.rows.name)) is not None and not read[0].empty]
    if not frames:
        return pd.DataFrame(columns=["cluster", "job-id", "step"])
    rows = pd.concat(frames, ignore_index=True).drop(columns=["month", COLLECTED_AT, SOURCE], errors="ignore")
    if since is not None:
        keys = _job_codes(rows)
        when = pd.Series(np.nan, index=rows.index, dtype="float64")
        for column in ("start-time", "submit-time"):
            if column in rows.columns:
                own = pd.to_numeric(rows[column], errors="coerce").astype("float64")
                when = when.fillna(own.groupby(keys).transform("min"))
        rows = rows[(when >= since).to_numpy()]
    return rows.reset_index(drop=True)
