"""SACCT page: Slurm accounting runs stored as parquet under ARTIFACTS/SACCT/ in the forwarder bucket."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pandas as pd

from core.billing import Rates, billed
from core.errors import DamagedObject
from core.naming import bucket_name, folder
from core.sacct import KNOWN_FIELDS, column_name, job_metrics, parent_job_id, parse_sacct
from core.sacct.advice import FAILURE_STATES, Thresholds, failures, job_findings, waste_summary
from core.serialize import frame_to_csv
from core.services.objects import read_frame_and_metadata
from core.settings import ReadLimits, Settings
from core.store.base import ObjectMetadata, ObjectStore
from core.store.listing import objects_under
from core.units import iec_size, slurm_duration

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
    runs = [RunRef(run_name(o.name), o.name, o.bytes, o.hash, o.last_modified)
            for o in objects_under(store, forwarder_bucket(settings), SACCT_PREFIX)
            if o.name.endswith(".parquet") and "/" not in o.name[len(SACCT_PREFIX):]]
    runs.sort(key=lambda r: r.name)
    runs.sort(key=lambda r: r.stored or _NEVER, reverse=True)
    return runs


#: How many of the newest stored runs the SACCT page opens on and the Overview counts: one rule for both pages.
RECENT_RUNS = 6


def recent_runs_rule(count: int) -> str:
    """How a page says which runs it counts (the same words on the Overview and the SACCT page)."""
    return (f"the {count} most recently stored SACCT run{'s' if count != 1 else ''}"
            f" (at most {RECENT_RUNS}, newest first)")


def default_runs(runs: list[RunRef], limit: int = RECENT_RUNS) -> list[str]:
    """The runs shown first: the ``limit`` newest stored (``runs`` come newest first from :func:`list_runs`)."""
    return [r.name for r in runs[:limit]]


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


def load_run(store: ObjectStore, bucket: str, name: str, limits: ReadLimits | None = None) -> pd.DataFrame:
    """One run's frame, with a ``run`` column and ``parent-job-id`` for grouping array tasks and het jobs.

    Raises:
        DamagedObject: unreadable, too large, or a known sacct column holds the wrong kind of values (names it).
    """
    return load_run_and_metadata(store, bucket, name, limits)[0]


def run_name(name: str) -> str:
    """The run's name from its object's name (``ARTIFACTS/SACCT/<run>.parquet``)."""
    return name[len(SACCT_PREFIX):].removesuffix(".parquet") if name.startswith(SACCT_PREFIX) else name


def load_run_and_metadata(store: ObjectStore, bucket: str, name: str, limits: ReadLimits | None = None
                          ) -> tuple[pd.DataFrame, ObjectMetadata]:
    """:func:`load_run` and the object's metadata (platform, rows, version), from one GET."""
    frame, meta = read_frame_and_metadata(store, bucket, name, limits)
    _check_columns(frame, bucket, name)
    if "job-id" not in frame.columns:
        frame.insert(0, "job-id", pd.Series([f"row {i + 1}" for i in range(len(frame))], dtype="string"))
    if "step" not in frame.columns:
        frame.insert(1, "step", "")
    frame.insert(0, "run", run_name(name))
    frame["parent-job-id"] = parent_job_id(frame["job-id"].astype("string"))
    return frame, meta


def combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Several runs in one frame."""
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["run", "job-id", "step"])


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


def apply_filters(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The sacct rows that pass the filters (see :func:`select`)."""
    return select(frame, metrics(frame), filters).rows


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


def in_time_range(frame: pd.DataFrame, start: float | None, end: float | None) -> pd.DataFrame:
    """Rows whose job ran in ``[start, end)`` (epoch seconds; ``None`` leaves that side open).

    With both sides open every row is kept; otherwise a job with no Start, Submit or End is left out.
    """
    if start is None and end is None:
        return frame
    when = job_times(frame)
    mask = when.notna()
    if start is not None:
        mask &= when >= start
    if end is not None:
        mask &= when < end
    return frame[mask.fillna(False).astype(bool)]


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
    parts = []
    for run, rows in frame.groupby("run", sort=False):
        m = job_metrics(rows.drop(columns=["run", "parent-job-id"], errors="ignore"))
        m.insert(0, "run", run)
        parts.append(m)
    out = pd.concat(parts, ignore_index=True)
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


def _sum(values: pd.Series) -> tuple[float | None, int]:
    known = values.dropna()
    return (float(known.sum()) if len(known) else None), len(known)


def summary(selection: Selection) -> Summary:
    """Counts, sums and medians of the selected jobs; steps counted from the selected rows."""
    jobs, rows = selection.jobs, selection.rows
    steps = int((rows["step"].fillna("") != "").sum()) if "step" in rows.columns else 0
    failed = int(jobs["state"].isin(FAILED_STATES).sum()) if "state" in jobs.columns else 0
    finished = int(jobs["finished"].sum()) if "finished" in jobs.columns else len(jobs)
    used, used_jobs = _sum(jobs["total-cpu-seconds"] / 3600) if "total-cpu-seconds" in jobs else (None, 0)
    core, core_jobs = _sum(jobs["core-seconds"] / 3600) if "core-seconds" in jobs else (None, 0)
    eff = jobs["cpu-efficiency"].dropna() if "cpu-efficiency" in jobs else pd.Series(dtype="float64")
    return Summary(len(jobs), steps, failed, finished, used, used_jobs, core, core_jobs,
                   float(eff.median()) if len(eff) else None, len(eff))


def summary_counts(s: Summary) -> str:
    """What each headline figure counts, said under them."""
    return (f"{s.jobs:,} jobs, {s.finished:,} of them finished. CPU-hours used: TotalCPU of {s.used_cpu_jobs:,} jobs; "
            f"core-hours allocated: Elapsed × AllocCPUS of {s.core_hour_jobs:,} jobs; median CPU eff. of "
            f"{s.cpu_efficiency_jobs:,} finished jobs.")


# --- Tables as sacct users read them ------------------------------------------------------------------------------

#: How a table column is shown: ``duration`` ([D-]HH:MM:SS), ``size`` (binary units), ``time`` (a date in the
#: cluster's zone), ``percent``, ``hours`` (one decimal), ``count`` or ``text``. Values stay numeric (so columns
#: sort as numbers); only the shown text is formatted.
ColumnKind = str

#: Per-job table: metrics column → (header in Slurm's words, kind).
JOB_COLUMNS: dict[str, tuple[str, ColumnKind]] = {
    "run": ("Run", "text"), "cluster": ("Cluster", "text"), "job-id": ("JobID", "text"),
    "job-name": ("JobName", "text"), "state": ("State", "text"), "exit-code": ("ExitCode", "text"),
    "partition": ("Partition", "text"), "alloc-cpus": ("AllocCPUS", "count"), "n-nodes": ("NNodes", "count"),
    "n-tasks": ("NTasks", "count"), "elapsed-seconds": ("Elapsed", "duration"),
    "timelimit-seconds": ("Timelimit", "duration"), "total-cpu-seconds": ("TotalCPU", "duration"),
    "core-seconds": ("CPUTime", "duration"), "cpu-efficiency": ("CPU eff.", "percent"),
    "time-efficiency": ("Time eff.", "percent"), "memory-efficiency": ("Mem eff.", "percent"),
    "max-rss": ("MaxRSS × NTasks", "size"), "req-mem-bytes": ("Memory allocated", "size"),
    "submit-time": ("Submit", "time"), "start-time": ("Start", "time"), "end-time": ("End", "time"),
    "queue-wait-seconds": ("Queue wait", "duration"), "steps": ("Steps", "count"),
}
_SIZE_COLUMNS = {column_name(f) for f in ("MaxRSS", "AveRSS", "MaxVMSize", "AveVMSize", "ReqMem", "AveDiskRead",
                                          "AveDiskWrite", "MaxDiskRead", "MaxDiskWrite")}
_TIME_COLUMNS = {column_name(f) for f in ("Submit", "Start", "End", "Eligible")}
_DURATION_COLUMNS = {column_name(f) for f in ("AveCPU", "Timelimit", "Elapsed", "Planned", "PlannedCPU", "CPUTime",
                                              "TotalCPU", "UserCPU", "SystemCPU", "MinCPU", "Suspended", "Reserved",
                                              "ResvCPU")}
_FIELD_OF_COLUMN = {column_name(f): f for f in KNOWN_FIELDS}


def field_name(column: str) -> str:
    """The sacct field a frame column came from (``elapsed-seconds`` → ``Elapsed``); other columns are kept."""
    return _FIELD_OF_COLUMN.get(column, column)


def duration_text(seconds: float) -> str:
    """Seconds as Slurm prints a duration, ``[D-]HH:MM:SS``; empty when unknown."""
    return "" if seconds is None or pd.isna(seconds) else slurm_duration(float(seconds))


def aligned_durations(seconds: pd.Series) -> pd.Series:
    """Durations as ``[D-]HH:MM:SS`` text padded on the left with spaces to one width; unknown values empty.

    For tables too big for a pandas Styler: Streamlit's own duration formats cannot print days as Slurm does (its
    clock format runs hours past 24, ``26:00:00``), so the column is text. A space sorts before every digit, both
    by code point and in the browser's collation, so the padded texts sort in the order of the numbers:
    ``  23:59:59`` before ``1-00:00:00``, `` 9-00:00:00`` before ``10-00:00:00``.

    Args:
        seconds: durations in seconds (null when unknown).
    """
    values = pd.to_numeric(seconds, errors="coerce").astype("float64")
    known = values.notna()
    total = values[known].round().astype("int64")
    days, rest = total // 86400, total % 86400
    clock = ((rest // 3600).astype(str).str.zfill(2) + ":" + (rest % 3600 // 60).astype(str).str.zfill(2) + ":"
             + (rest % 60).astype(str).str.zfill(2))
    text = (days.astype(str) + "-").where(days > 0, "") + clock
    width = int(text.str.len().max()) if len(text) else 0
    out = pd.Series("", index=seconds.index, dtype="object")
    out[known] = text.str.pad(width, side="left")
    return out


def size_text(size: float) -> str:
    """Bytes in binary units (``1.50 GiB``); empty when unknown."""
    return iec_size(None if size is None or pd.isna(size) else float(size))


def time_text(epoch: float, zone: str) -> str:
    """Epoch seconds as sacct prints a time (``2024-05-24T13:07:00``) in ``zone``; empty when unknown."""
    if epoch is None or pd.isna(epoch):
        return ""
    moment = datetime.fromtimestamp(float(epoch), tz=UTC).astimezone(ZoneInfo(zone))
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class Table:
    """A table ready to show: Slurm's headers, numbers kept numeric, and how each column is shown."""

    frame: pd.DataFrame
    kinds: dict[str, ColumnKind]
    zone: str

    def text(self, column: str) -> pd.Series:
        """A column as the table shows it (empty cells empty)."""
        kind = self.kinds[column]
        return self.frame[column].map(lambda v: cell_text(kind, v, self.zone))


def cell_text(kind: ColumnKind, value: object, zone: str) -> str:
    """One value as a table of ``kind`` shows it; empty when unknown."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if kind == "text":
        return str(value)
    number = float(str(value))
    if kind == "duration":
        return duration_text(number)
    if kind == "size":
        return size_text(number)
    if kind == "time":
        return time_text(number, zone)
    if kind == "percent":
        return f"{number:.0%}"
    if kind == "hours":
        return f"{number:,.1f}"
    return f"{round(number):,}"


def job_table(jobs: pd.DataFrame, zone: str) -> Table:
    """The per-job table: one row per job, Slurm's headers; durations, sizes and dates in ``zone`` as text."""
    columns = {c: spec for c, spec in JOB_COLUMNS.items() if c in jobs.columns}
    frame = pd.DataFrame({header: jobs[c] for c, (header, _) in columns.items()})
    return Table(frame.reset_index(drop=True), {header: kind for header, kind in columns.values()}, zone)


def row_table(rows: pd.DataFrame, zone: str) -> Table:
    """Every sacct row as sacct prints it: field names as headers, JobID with its step."""
    out: dict[str, pd.Series] = {}
    kinds: dict[str, ColumnKind] = {}
    for column in rows.columns:
        if column in ("parent-job-id", "req-mem-scope", "step"):
            continue
        if column == "job-id":
            step = rows["step"].fillna("").astype("string") if "step" in rows.columns else ""
            job = rows["job-id"].astype("string")
            out["JobID"], kinds["JobID"] = job.where(step == "", job + "." + step), "text"
            continue
        header = "Run" if column == "run" else field_name(column)
        out[header] = rows[column]
        kinds[header] = ("duration" if column in _DURATION_COLUMNS else "size" if column in _SIZE_COLUMNS
                         else "time" if column in _TIME_COLUMNS else "text")
    return Table(pd.DataFrame(out).reset_index(drop=True), kinds, zone)


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


# --- Findings -----------------------------------------------------------------------------------------------------

#: How findings are made and ordered, said above them.
FINDINGS_HELP = (
    "Notes for finished jobs that ran at least {minutes:g} min: Time eff. below {time:g} %, CPU eff. below {cpu:g} % "
    "(more than one core), Mem eff. below {memory:g} %, and every OUT_OF_MEMORY job or step. The advice leaves "
    "{margin:g} % over what the job used (--time: over the longest completed job of the same name in the run). "
    "Worst first: out of memory, then by the core-hours at stake (idle core-hours; unused Timelimit × AllocCPUS; "
    "the job's core-hours × its unused memory share). Thresholds are settings (ADVICE_* in .env)."
)


def thresholds(settings: Settings) -> Thresholds:
    """The advice thresholds of the settings."""
    return Thresholds(
        min_seconds=settings.advice_min_minutes * 60,
        time_efficiency=settings.advice_time_efficiency_percent / 100,
        cpu_efficiency=settings.advice_cpu_efficiency_percent / 100,
        memory_efficiency=settings.advice_memory_efficiency_percent / 100,
        margin=settings.advice_margin_percent / 100,
        oom_factor=settings.advice_oom_factor,
    )


def findings_help(settings: Settings) -> str:
    """:data:`FINDINGS_HELP` with the configured thresholds."""
    return FINDINGS_HELP.format(
        minutes=settings.advice_min_minutes, time=settings.advice_time_efficiency_percent,
        cpu=settings.advice_cpu_efficiency_percent, memory=settings.advice_memory_efficiency_percent,
        margin=settings.advice_margin_percent)


def findings(jobs: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Every note of the jobs (core.sacct.advice.job_findings), worst first."""
    return job_findings(jobs, thresholds(settings))


def findings_csv(notes: pd.DataFrame) -> bytes:
    """The findings as CSV, with the headers the page shows."""
    return frame_to_csv(headed_table(notes, FINDING_HEADERS, "UTC").frame)


#: Findings table: column → (header, kind).
FINDING_HEADERS: dict[str, tuple[str, ColumnKind]] = {
    "run": ("Run", "text"), "job-id": ("JobID", "text"), "job-name": ("JobName", "text"), "state": ("State", "text"),
    "finding": ("Finding", "text"), "figure": ("Figure", "text"), "threshold": ("Threshold", "text"),
    "advice": ("Ask next time", "text"), "core-hours at stake": ("Core-hours at stake", "hours"),
}
#: Per-run and per-platform waste table: column → (header, kind).
WASTE_HEADERS: dict[str, tuple[str, ColumnKind]] = {
    "run": ("Run", "text"), "platform": ("Platform", "text"), "jobs": ("Jobs", "count"),
    "finished jobs": ("Finished", "count"), "wasted core-hours": ("Idle core-hours", "hours"),
    "jobs with CPU time": ("Jobs with TotalCPU", "count"),
    "unused memory GiB-hours": ("Unused memory GiB-hours", "hours"), "jobs with memory": ("Jobs with MaxRSS", "count"),
    "failed jobs": ("Failed", "count"),
    "out of memory": ("Out of memory", "count"),
}
#: Failures table: column → (header, kind).
FAILURE_HEADERS: dict[str, tuple[str, ColumnKind]] = {
    "run": ("Run", "text"), "platform": ("Platform", "text"), "state": ("State", "text"),
    "exit-code": ("ExitCode", "text"), "jobs": ("Jobs", "count"),
}


def headed_table(frame: pd.DataFrame, headers: dict[str, tuple[str, ColumnKind]], zone: str) -> Table:
    """A frame with the given headers and kinds (columns it lacks are left out)."""
    columns = {c: spec for c, spec in headers.items() if c in frame.columns}
    shown = pd.DataFrame({header: frame[c] for c, (header, _) in columns.items()})
    return Table(shown.reset_index(drop=True), {header: kind for header, kind in columns.values()}, zone)


def waste(jobs: pd.DataFrame, by: str = "run") -> pd.DataFrame:
    """Wasted core-hours, unused memory and failures per run or platform (core.sacct.advice.waste_summary)."""
    return waste_summary(jobs, by)


def failure_counts(jobs: pd.DataFrame, by: str = "run") -> pd.DataFrame:
    """Failed jobs by state and exit code per run or platform (core.sacct.advice.failures)."""
    return failures(jobs, by)


# --- Billing ------------------------------------------------------------------------------------------------------


def rates(settings: Settings) -> Rates:
    """The billing rates of the settings."""
    return Rates(
        puhti_bu_per_core_hour=settings.billing_puhti_bu_per_core_hour,
        puhti_bu_per_gib_hour=settings.billing_puhti_bu_per_gib_hour,
        mahti_bu_per_node_hour=settings.billing_mahti_bu_per_node_hour,
        mahti_bu_per_core_hour=settings.billing_mahti_bu_per_core_hour,
        roihu_bu_per_core_hour=settings.billing_roihu_bu_per_core_hour,
        roihu_bu_per_gib_hour=settings.billing_roihu_bu_per_gib_hour,
        roihu_hugemem_bu_per_core_hour=settings.billing_roihu_hugemem_bu_per_core_hour,
        roihu_hugemem_bu_per_gib_hour=settings.billing_roihu_hugemem_bu_per_gib_hour,
        roihu_bu_per_node_hour=settings.billing_roihu_bu_per_node_hour,
        lumi_core_hours_per_node_hour=settings.billing_lumi_core_hours_per_node_hour,
        lumi_gb_per_core_hour=settings.billing_lumi_gb_per_core_hour,
    )


@dataclass(frozen=True)
class Billing:
    """CSC billing units of the jobs on Puhti, Mahti and Roihu, LUMI core-hours of those on LUMI, with their counts."""

    csc_bu: float | None
    csc_jobs: int
    lumi_core_hours: float | None
    lumi_jobs: int

    def caption(self) -> str:
        """What the billing figure counts."""
        parts = [f"CSC CPU billing units of {self.csc_jobs:,} jobs on Puhti, Mahti or Roihu CPU partitions"]
        if self.lumi_jobs:
            parts.append(f"LUMI bills CPU core-hours: {self.lumi_core_hours or 0:,.1f} of {self.lumi_jobs:,} jobs")
        return "; ".join(parts) + " (a job is billed when its run's platform and its partition are known)."


def billing(jobs: pd.DataFrame, platforms: Mapping[str, str], settings: Settings) -> Billing:
    """What the jobs are billed (core.billing.billed), summed per unit; ``platforms`` maps run → platform."""
    if jobs.empty:
        return Billing(None, 0, None, 0)
    platform = jobs["run"].astype(str).map(dict(platforms)).fillna("")
    amount = billed(jobs, platform, rates(settings))
    csc = amount[platform.isin(["puhti", "mahti", "roihu"])].dropna()
    lumi = amount[platform == "lumi"].dropna()
    return Billing(float(csc.sum()) if len(csc) else None, len(csc),
                   float(lumi.sum()) if len(lumi) else None, len(lumi))


#: Kinds of failure (state and exit code) a run's sentence names, most common first; the rest are counted.
FAILURE_KINDS_SHOWN = 10


def _jobs_text(count: int) -> str:
    return f"{count:,} job" if count == 1 else f"{count:,} jobs"


def run_waste_text(jobs: pd.DataFrame) -> str:
    """One run's idle core-hours, unused memory and failures in a sentence, each with the jobs it counts."""
    if jobs.empty:
        return "No jobs."
    row = waste_summary(jobs.assign(run="run"), "run").iloc[0]
    idle, unused = row["wasted core-hours"], row["unused memory GiB-hours"]
    parts = [
        f"Idle core-hours: {'—' if pd.isna(idle) else f'{idle:,.1f}'} over {row['jobs with CPU time']:,} finished "
        f"jobs with TotalCPU",
        f"unused memory: {'—' if pd.isna(unused) else f'{unused:,.1f}'} GiB-hours over {row['jobs with memory']:,} "
        f"finished jobs with MaxRSS",
    ]
    failed = failures(jobs.assign(run="run"), "run")
    if len(failed):
        shown = failed.head(FAILURE_KINDS_SHOWN)
        kinds = ", ".join(f"{r.state}{f' (exit {r._3})' if r._3 else ''} ×{r.jobs}" for r in shown.itertuples())
        if len(failed) > len(shown):
            rest = failed["jobs"].iloc[len(shown):]
            kinds += f" and {len(rest):,} other kinds ({_jobs_text(int(rest.sum()))})"
        parts.append(f"{row['failed jobs']:,} failed: {kinds}")
    else:
        parts.append("no failed job")
    if row["out of memory"]:
        parts.append(f"{row['out of memory']:,} ran out of memory")
    return "; ".join(parts) + "."
