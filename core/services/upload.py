"""Upload page: raw sacct text in, a validated table out, stored as a new parquet version."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa

from core.errors import Conflict, InputTooLarge, InvalidInput, NotFound
from core.naming import sacct_run_object
from core.platforms import PLATFORMS, platform_of_frame, platform_of_name
from core.sacct import ParsedSacct, ParseWarning, cut_text, parse_sacct, whole_values_hint
from core.serialize import frame_to_parquet, parquet_to_frame
from core.services import charts, history
from core.services import findings as findings_service
from core.services.objects import read_frame_and_metadata
from core.services.runs import run_info
from core.services.sacct import RunRef, forwarder_bucket
from core.services.sacct_selection import metrics
from core.settings import Settings
from core.store.base import MetaValue, ObjectStore
from core.store.versioning import put_versioned

__all__ = ["PREVIEW_FINDINGS", "PREVIEW_ROWS", "ParsedSacct", "PreparedRun", "RunPlatform", "StoredRun",
           "UploadPreview", "check_size", "current_version", "cut_values_note", "input_identity", "parse_fields",
           "parse_upload", "prepare_run", "preview", "preview_jobs", "read_upload", "run_name", "run_object",
           "run_platform", "store_run", "warning_heading"]

log = logging.getLogger(__name__)
#: Rows of the parsed input shown as a table (the count of all of them is said beside it).
PREVIEW_ROWS = 500
#: Findings shown as a table, worst first (the CSV download has every one).
PREVIEW_FINDINGS = 500
_RUN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def check_size(size: int, settings: Settings) -> None:
    """Refuse inputs over the upload limit before reading them."""
    if size > settings.upload_limit_bytes:
        raise InputTooLarge(size, settings.upload_limit_bytes, "the sacct input")


def input_identity(kind: str, content: str | bytes, fields_text: str, delimiter_text: str = "") -> str:
    """What a parse was made from: which input, its content (or a file's upload id), the field list and delimiter.

    A shown parse is only kept, and only stored, while the page's input still has this identity.
    """
    digest = hashlib.sha256(content.encode("utf-8") if isinstance(content, str) else content)
    for part in (kind, fields_text.strip(), delimiter_text):
        digest.update(b"\0" + part.encode("utf-8"))
    return digest.hexdigest()


def parse_fields(text: str) -> list[str] | None:
    """A field list typed as ``JobID,State,...`` (commas, spaces or ``|``); ``None`` when empty."""
    fields = [f for f in re.split(r"[\s,|]+", text.strip()) if f]
    return fields or None


def parse_delimiter(text: str) -> str | None:
    r"""A ``--delimiter`` as typed on the page: ``\t`` (or the word ``tab``) is a tab; ``None`` when empty (detect)."""
    word = text.strip()
    if word.lower() in ("\\t", "tab") or text == "\t":
        return "\t"
    return word or None


def parse_upload(
    data: bytes | str,
    settings: Settings,
    *,
    fields: Sequence[str] | None = None,
    delimiter: str | None = None,
    source: str = "input",
) -> ParsedSacct:
    """Check the size, then parse (SacctParseError says what was expected; warnings name lines).

    ``delimiter`` is sacct's ``--delimiter`` for headerless output; a header's own delimiter wins, and without
    either the delimiter is detected from the lines.
    """
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    check_size(size, settings)
    parsed = parse_sacct(data, timezone=settings.sacct_timezone, fields=fields, delimiter=delimiter)
    log.info("parsed %s: %s, %d rows, %d warnings", source, parsed.format, len(parsed.frame), len(parsed.warnings))
    note = cut_values_note(parsed)
    if note:
        log.warning("parsed %s: %s", source, note)
    return parsed


def cut_values_note(parsed: ParsedSacct) -> str:
    """Which grouped text fields (Account, JobName, Partition, ...) fixed-width sacct cut, and how to get them whole.

    Empty when none was cut, or the output is not fixed width (a "+" is then the value's own).
    """
    cut = cut_text(parsed.frame) if parsed.format == "fixed-width" else {}
    if not cut:
        return ""
    named = "; ".join(f"{f} ({', '.join(map(repr, values[:2]))}" + (f" and {len(values) - 2:,} more" if len(values) > 2
                                                                     else "") + ")" for f, values in cut.items())
    return (f"sacct's fixed-width columns cut values with '+': {named}. Jobs whose values start alike read as one "
            "in charts, filters and the History; the warnings name the lines. " + whole_values_hint(list(cut)))


#: What the Upload page and ``hpc-monitor jobs`` say of input that has no JobID field.
NO_JOB_IDS = ("The input has no JobID field, so its rows cannot be told apart as jobs: nothing per job (efficiency, "
              "billing, findings) is computed. Keep JobID in sacct's --format (it is one of sacct's default fields).")


def has_job_ids(parsed: ParsedSacct) -> bool:
    """Whether the parsed input printed JobID (without it, rows are not jobs: :data:`NO_JOB_IDS`)."""
    return "job-id" in parsed.frame.columns


def preview_jobs(parsed: ParsedSacct) -> pd.DataFrame | None:
    """Per-job metrics of a parsed upload for the preview charts; ``None`` when the input has no JobID column."""
    if not has_job_ids(parsed):
        return None
    return metrics(parsed.frame.assign(run="upload"))


@dataclass(frozen=True)
class PreparedRun:
    """A parsed table as Store writes it: its parquet, encoded once, and what the object's metadata says of it.

    A page keeps this between its runs instead of the table: a seventh of the memory for a parsable2 input, and
    Streamlit's check that the session state pickles (``enforceSerializableSessionState``) copies bytes instead of
    pickling a table on every run.
    """

    data: bytes
    rows: int
    format: str
    warnings: tuple[ParseWarning, ...]
    #: The platform and cluster from sacct's Cluster field, ``None`` when it was not printed.
    cluster_platform: str | None
    cluster: str | None


def prepare_run(parsed: ParsedSacct) -> PreparedRun:
    """Encode the parsed table for storing (:func:`store_run` writes exactly these bytes)."""
    platform, cluster = platform_of_frame(parsed.frame)
    return PreparedRun(frame_to_parquet(parsed.frame), len(parsed.frame), parsed.format, tuple(parsed.warnings),
                       platform, cluster)


@dataclass(frozen=True)
class UploadPreview:
    """What the Upload page shows of one parse, computed once.

    The page's later runs (a run name typed, Store) redo none of it; only the findings grow with the input.

    Attributes:
        run: the whole parsed table as Store writes it.
        rows: the first :data:`PREVIEW_ROWS` rows of the parsed table.
        jobs: how many jobs the input holds (0 without a JobID column).
        charts: jobs by state and efficiency, empty without jobs.
        findings: every finding, worst first.
        waste: the run's idle core-hours, unused memory and failures in a sentence (empty without jobs).
        findings_csv: every finding as CSV with the page's headers, the bytes the download button hands out (made
            here, once per parse: a button whose data is computed on its click can miss it while the page reruns).
        cut_note: the values fixed-width sacct cut at its columns' width (:func:`cut_values_note`), or empty.
        jobs_note: :data:`NO_JOB_IDS` when the input printed no JobID, else empty.
    """

    run: PreparedRun
    rows: pd.DataFrame
    jobs: int
    charts: tuple[go.Figure, ...]
    findings: pd.DataFrame
    waste: str
    findings_csv: bytes = b""
    cut_note: str = ""
    jobs_note: str = ""


def preview(parsed: ParsedSacct, settings: Settings) -> UploadPreview:
    """The encoded run, table head, job count, charts, findings and waste sentence of a parsed upload."""
    jobs = preview_jobs(parsed)
    rows = parsed.frame.head(PREVIEW_ROWS).copy()
    note = cut_values_note(parsed)
    if jobs is None or jobs.empty:
        return UploadPreview(prepare_run(parsed), rows, 0, (), pd.DataFrame(), "", cut_note=note,
                             jobs_note="" if jobs is not None else NO_JOB_IDS)
    notes = findings_service.findings(jobs, settings)
    shown = ((charts.state_counts(jobs), charts.efficiency(jobs)), notes, findings_service.run_waste_text(jobs))
    count = len(jobs)
    del jobs  # the per-job table is not kept: encoding the run below then has its memory
    return UploadPreview(prepare_run(parsed), rows, count, *shown, findings_csv=findings_service.findings_csv(notes),
                         cut_note=note)


def read_upload(
    data: bytes | str,
    settings: Settings,
    *,
    fields: Sequence[str] | None = None,
    delimiter: str | None = None,
    source: str = "input",
    progress: Callable[[str], None] = lambda _: None,
) -> UploadPreview:
    """:func:`parse_upload`, then :func:`preview`; ``progress`` hears when the parse is done and charting begins.

    The parsed table is dropped once it is encoded, and the memory its parse and preview took is handed back to the
    system: allocators keep what was freed for reuse, so a 1,000,000-row input otherwise left the app half a GB
    bigger for as long as it ran.
    """
    parsed = parse_upload(data, settings, fields=fields, delimiter=delimiter, source=source)
    progress(f"Parsed {len(parsed.frame):,} rows ({parsed.format}); charting the jobs…")
    shown = preview(parsed, settings)
    del parsed
    _release_freed_memory()
    return shown


def _release_freed_memory() -> None:
    pa.default_memory_pool().release_unused()
    # glibc only (musl has no malloc_trim): elsewhere the memory is simply kept for reuse.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def warning_heading(parsed: ParsedSacct | PreparedRun) -> str:
    """How many warnings there are and on how many lines (one line can carry several)."""
    count = len(parsed.warnings)
    lines = len({w.line for w in parsed.warnings})
    return (f"{count:,} {'warning' if count == 1 else 'warnings'} on {lines:,} "
            f"{'line' if lines == 1 else 'lines'}")


def run_name(text: str) -> str:
    """A run name fit for an object name: spaces become dashes; letters, digits, ``.``, ``_``, ``-``."""
    name = re.sub(r"\s+", "-", text.strip())
    if not _RUN.match(name):
        raise InvalidInput("a run name is 1-80 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return name


def run_object(settings: Settings, run: str) -> str:
    """``ARTIFACTS/SACCT/<user>-<run>.parquet`` (the seed's file name)."""
    return sacct_run_object(settings.pipeline_user, run_name(run))


def current_version(store: ObjectStore, settings: Settings, run: str) -> int | None:
    """The stored version of the run, ``None`` when it was never stored."""
    try:
        meta = store.head_object(forwarder_bucket(settings), run_object(settings, run))
    except NotFound:
        return None
    version = meta.custom.get("version", 1)
    return version if isinstance(version, int) else 1


@dataclass(frozen=True)
class RunPlatform:
    """The platform a parsed run belongs to.

    ``cluster`` is set when sacct's Cluster field named it: then the platform is fixed, not a choice.
    """

    platform: str
    cluster: str | None


def run_platform(parsed: ParsedSacct | PreparedRun, run: str, settings: Settings) -> RunPlatform:
    """The platform from the Cluster field when printed, else from the run name, else the configured default."""
    if isinstance(parsed, PreparedRun):
        platform, cluster = parsed.cluster_platform, parsed.cluster
    else:
        platform, cluster = platform_of_frame(parsed.frame)
    if platform is not None:
        return RunPlatform(platform, cluster)
    return RunPlatform(platform_of_name(run, settings.default_platform), None)


@dataclass(frozen=True)
class StoredRun:
    """Where an upload was stored, and as which version."""

    bucket: str
    object: str
    version: int
    rows: int
    #: What adding the run's jobs to the history did.
    merged: history.MergeResult | None = None

    def history_text(self) -> str:
        """A sentence on what the history got from this run."""
        if self.merged is None:
            return ""
        return f"History: {self.merged.text()}."


def merge_stored_runs(store: ObjectStore, settings: Settings, runs: Iterable[RunRef]) -> history.MergeResult:
    """Merge stored SACCT runs into the history as :func:`store_run` merges an upload's jobs.

    For runs written without an upload (the demo's): each run's jobs go under its cluster, else its platform, and a
    run whose rows have no JobID adds nothing.
    """
    bucket, merged = forwarder_bucket(settings), history.MergeResult()
    for run in runs:
        frame, meta = read_frame_and_metadata(store, bucket, run.object)
        info = run_info(run.name, meta)
        merged.add(_into_history(store, settings, frame, info.cluster or info.platform, run.name))
    return merged


def _into_history(store: ObjectStore, settings: Settings, frame: pd.DataFrame, cluster: str | None,
                  run: str) -> history.MergeResult:
    """A run's rows merged into the history, as hpc-monitor collect would merge them, under ``cluster``."""
    rows, unplaced = history.prepare_rows(frame, cluster=cluster, source=f"upload:{run}")
    merged = history.merge_into_history(store, settings, rows)
    merged.unplaced_rows += unplaced
    return merged


def store_run(
    store: ObjectStore, settings: Settings, run: str, parsed: ParsedSacct | PreparedRun, *, replace: bool = False,
    platform: str | None = None,
) -> StoredRun:
    """Store the parsed table as the next version; an existing run is only replaced when ``replace`` is true.

    ``parsed`` is the table, or the bytes :func:`prepare_run` encoded from it (written as they are).

    The run's platform goes into the object's metadata (``x-object-meta-platform``): the Cluster field's when sacct
    printed it (it wins over ``platform``), else ``platform``, else the one :func:`run_platform` picks. The previous
    version stays stored under ``.versions/`` and readable until the new one is complete.
    """
    bucket, name = forwarder_bucket(settings), run_object(settings, run)
    where = run_platform(parsed, run, settings)
    chosen = where.platform if where.cluster is not None or platform is None else platform.strip().lower()
    if chosen not in PLATFORMS:
        raise InvalidInput(f"platform {chosen!r} is not one of {', '.join(PLATFORMS)}")
    if not replace and current_version(store, settings, run) is not None:
        raise Conflict("this run is already stored; confirm to store a new version", bucket=bucket, obj=name)
    prepared = parsed if isinstance(parsed, PreparedRun) else prepare_run(parsed)
    meta: dict[str, MetaValue] = {"format": prepared.format, "rows": prepared.rows, "platform": chosen}
    if where.cluster is not None:
        meta["cluster"] = where.cluster
    version = put_versioned(store, bucket, name, prepared.data, content_type="application/vnd.apache.parquet",
                            metadata=meta)
    log.info("stored %s/%s version %d (%d rows)", bucket, name, version, prepared.rows)
    # The same jobs go into the history, under the run's cluster.
    frame = parsed.frame if isinstance(parsed, ParsedSacct) else parquet_to_frame(prepared.data)
    merged = _into_history(store, settings, frame, where.cluster or chosen, run_name(run))
    return StoredRun(bucket, name, version, prepared.rows, merged)
