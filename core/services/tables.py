"""Tables as Slurm users read them: one formatting path for every table the pages show.

A :class:`Table` keeps its values as numbers (so columns sort as numbers) and says how each column is shown
(:data:`ColumnKind`); :func:`cell_text` is the one place a value becomes the text a user reads, with the units of
:mod:`core.units` ([D-]HH:MM:SS, binary sizes) and dates in the cluster's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from core.sacct import KNOWN_FIELDS, column_name
from core.units import iec_size, iec_unit, slurm_duration

#: How a table column is shown: ``duration`` ([D-]HH:MM:SS), ``size`` (binary units), ``time`` (a date in the
#: cluster's zone), ``percent``, ``hours`` (one decimal), ``count`` or ``text``. Values stay numeric (so columns
#: sort as numbers); only the shown text is formatted.
ColumnKind = str

#: Per-job table: metrics column → (header in Slurm's words, kind). What a reader looks for first (the job, its state
#: and efficiencies, its Elapsed) comes first, in view without scrolling; the run (a long name) after them.
JOB_COLUMNS: dict[str, tuple[str, ColumnKind]] = {
    "job-id": ("JobID", "text"), "job-name": ("JobName", "text"), "state": ("State", "text"),
    "cpu-efficiency": ("CPU eff.", "percent"), "memory-efficiency": ("Mem eff.", "percent"),
    "time-efficiency": ("Time eff.", "percent"), "elapsed-seconds": ("Elapsed", "duration"),
    "run": ("Run", "text"), "cluster": ("Cluster", "text"), "exit-code": ("ExitCode", "text"),
    "partition": ("Partition", "text"), "alloc-cpus": ("AllocCPUS", "count"), "n-nodes": ("NNodes", "count"),
    "n-tasks": ("NTasks", "count"), "timelimit-seconds": ("Timelimit", "duration"),
    "total-cpu-seconds": ("TotalCPU", "duration"), "core-seconds": ("CPUTime", "duration"),
    "max-rss": ("MaxRSS × NTasks", "size"), "req-mem-bytes": ("Memory allocated", "size"),
    "submit-time": ("Submit", "time"), "start-time": ("Start", "time"), "end-time": ("End", "time"),
    "queue-wait-seconds": ("Queue wait", "duration"), "steps": ("Steps", "count"),
    "gpus": ("GPUs", "count"), "gpu-type": ("GPU type", "text"), "gpu-hours": ("GPU-hours", "hours"),
    "gpu-use": ("GPU use", "percent"), "billed": ("Billed", "hours"), "billing-unit": ("Billing unit", "text"),
}
_SIZE_COLUMNS = {column_name(f) for f in ("MaxRSS", "AveRSS", "MaxVMSize", "AveVMSize", "ReqMem", "AveDiskRead",
                                          "AveDiskWrite", "MaxDiskRead", "MaxDiskWrite")}
_TIME_COLUMNS = {column_name(f) for f in ("Submit", "Start", "End", "Eligible")}
_DURATION_COLUMNS = {column_name(f) for f in ("AveCPU", "Timelimit", "Elapsed", "Planned", "PlannedCPU", "CPUTime",
                                              "TotalCPU", "UserCPU", "SystemCPU", "MinCPU", "Suspended", "Reserved",
                                              "ResvCPU")}
_FIELD_OF_COLUMN = {column_name(f): f for f in KNOWN_FIELDS}
#: Fields whose value on a step's row is its job's: sacct prints them on the job's row and leaves them empty (or
#: repeats them) on its steps' rows, and so does the row table.
STEP_INHERITS = ("Partition", "Account", "User", "Group", "QOS", "Timelimit", "ReqMem", "ReqTRES")


def inherited_help(field: str) -> str:
    """The column help of a field a step inherits from its job."""
    return (f"A step runs with its job's {field}: sacct prints it on the job's row, and an empty cell on a step's "
            "row means the job's value.")


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
    #: A column's help, shown on its header.
    help: dict[str, str] = field(default_factory=dict)

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


def _one_run(frame: pd.DataFrame) -> bool:
    """Whether every row is of one run: its name, said above the table, is then not repeated on every row."""
    return "run" in frame.columns and frame["run"].nunique(dropna=False) <= 1


def job_table(jobs: pd.DataFrame, zone: str) -> Table:
    """The per-job table: one row per job, Slurm's headers; durations, sizes and dates in ``zone`` as text.

    The Run column is there when the jobs are of several runs.
    """
    if "gpu-util" in jobs.columns:  # recorded percent → the fraction a percent column shows
        jobs = jobs.assign(**{"gpu-use": jobs["gpu-util"].astype("float64") / 100})
    columns = {c: spec for c, spec in JOB_COLUMNS.items() if c in jobs.columns and not (c == "run" and _one_run(jobs))}
    frame = pd.DataFrame({header: jobs[c] for c, (header, _) in columns.items()})
    return Table(frame.reset_index(drop=True), {header: kind for header, kind in columns.values()}, zone)


def row_table(rows: pd.DataFrame, zone: str) -> Table:
    """Every sacct row as sacct prints it: field names as headers, JobID with its step; Run when of several runs."""
    out: dict[str, pd.Series] = {}
    kinds: dict[str, ColumnKind] = {}
    for column in rows.columns:
        if column in ("parent-job-id", "req-mem-scope", "step") or (column == "run" and _one_run(rows)):
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
    has_steps = "step" in rows.columns and bool(rows["step"].notna().any())
    helps = {f: inherited_help(f) for f in STEP_INHERITS if f in out} if has_steps else {}
    return Table(pd.DataFrame(out).reset_index(drop=True), kinds, zone, helps)


def headed_table(frame: pd.DataFrame, headers: dict[str, tuple[str, ColumnKind]], zone: str) -> Table:
    """A frame with the given headers and kinds (columns it lacks are left out)."""
    columns = {c: spec for c, spec in headers.items() if c in frame.columns}
    shown = pd.DataFrame({header: frame[c] for c, (header, _) in columns.items()})
    return Table(shown.reset_index(drop=True), {header: kind for header, kind in columns.values()}, zone)


@dataclass(frozen=True)
class GridColumn:
    """A column of a table too big to style cell by cell, as the grid shows it with its own formats.

    ``values`` still sort as the numbers do; ``number_format`` is the grid's printf format or name (``percent``) for a
    numeric column, ``None`` for text and dates; ``right`` aligns text to the right (durations).
    """

    values: pd.Series
    number_format: str | None = None
    right: bool = False
    is_time: bool = False


def grid_column(kind: ColumnKind, values: pd.Series, zone: str) -> GridColumn:
    """A column of ``kind`` for a table too big to style: the same units as :func:`cell_text`, chosen per column.

    Durations are ``[D-]HH:MM:SS`` text padded to one width (:func:`aligned_durations`: the grid's own duration
    formats print no days); sizes are numbers in the binary unit :func:`core.units.iec_size` gives the column's largest
    value; times are dates in ``zone``.
    """
    if kind == "duration":
        return GridColumn(aligned_durations(values), right=True)
    if kind == "size":
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        largest = numbers.abs().max()
        unit, scale = iec_unit(0.0 if pd.isna(largest) else float(largest))
        return GridColumn(numbers / scale, "%.0f B" if unit == "B" else f"%.2f {unit}")
    if kind == "time":
        moments = pd.to_datetime(pd.to_numeric(values, errors="coerce").astype("float64"), unit="s", utc=True)
        return GridColumn(moments.dt.tz_convert(zone), is_time=True)
    if kind == "percent":
        return GridColumn(values, "percent")
    if kind == "hours":
        return GridColumn(values, "%,.1f")
    return GridColumn(values)
