"""Parse Slurm ``sacct`` output into a typed table, and compute per-job efficiency.

Formats are detected from the text: fixed width (a header line, a dashes line, right-aligned values), ``--parsable``
(every line ends with the delimiter), ``--parsable2`` and ``--json`` (Slurm 21.08 or later). Headerless input
(``--noheader``) needs ``fields=``; the delimiter (``|`` or any ``--delimiter``) is detected.

Columns are the seed's kebab-case field names (``AveCPUFreq`` → ``ave-cpu-freq``) with a unit suffix for the fields
the seed lists (``Elapsed`` → ``elapsed-seconds``, ``Submit`` → ``submit-time``, ``AveDiskRead`` →
``ave-disk-read-bytes``, ...); ``JobID`` becomes ``job-id`` (the id as printed, without its step) and ``step``.

Values: durations → seconds (float); timestamps → epoch seconds read in the given time zone; sizes with K/M/G/T/P
suffixes → 1024-based for byte fields (memory, RSS, VM size, disk read/write), 1000-based otherwise (frequencies,
pages, energy); counts → nullable integers. ``Unknown``, ``None``, ``UNLIMITED``, ``Partition_Limit``, ``INVALID``
and empty → null, never 0. ``state`` is the state word (``CANCELLED by 123`` → ``CANCELLED``).

The work is vectorised: pyarrow's CSV reader splits the bytes (into fields, or for fixed width into lines that
``binary_slice`` cuts at sacct's byte offsets), and Arrow kernels convert whole columns, each distinct value once
where values repeat, on a thread pool while the next block is read. Columns stay in Arrow until the frame is
built. Python loops run only over the rare rows that need a decision (truncated fixed-width values, rows with the
wrong field count).
"""

from __future__ import annotations

import json
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.errors import SacctParseError

# --- Field names --------------------------------------------------------------------------------------------------

#: Fields sacct can print (``sacct --helpformat``), in their canonical spelling.
KNOWN_FIELDS: tuple[str, ...] = (
    "Account", "AdminComment", "AllocCPUS", "AllocNodes", "AllocTRES", "AssocID", "AveCPU", "AveCPUFreq",
    "AveDiskRead", "AveDiskWrite", "AvePages", "AveRSS", "AveVMSize", "BlockID", "Cluster", "Comment", "Constraints",
    "ConsumedEnergy", "ConsumedEnergyRaw", "Container", "CPUTime", "CPUTimeRAW", "DBIndex", "DerivedExitCode",
    "Elapsed", "ElapsedRaw", "Eligible", "End", "ExitCode", "Extra", "FailedNode", "Flags", "GID", "Group", "JobID",
    "JobIDRaw", "JobName", "Layout", "Licenses", "MaxDiskRead", "MaxDiskReadNode", "MaxDiskReadTask", "MaxDiskWrite",
    "MaxDiskWriteNode", "MaxDiskWriteTask", "MaxPages", "MaxPagesNode", "MaxPagesTask", "MaxRSS", "MaxRSSNode",
    "MaxRSSTask", "MaxVMSize", "MaxVMSizeNode", "MaxVMSizeTask", "McsLabel", "MinCPU", "MinCPUNode", "MinCPUTask",
    "NCPUS", "NNodes", "NodeList", "NTasks", "Partition", "Planned", "PlannedCPU", "PlannedCPURAW", "Priority", "QOS",
    "QOSRAW", "Reason", "ReqCPUFreq", "ReqCPUFreqGov", "ReqCPUFreqMax", "ReqCPUFreqMin", "ReqCPUS", "ReqMem",
    "ReqNodes", "ReqTRES", "Reservation", "ReservationId", "Reserved", "ResvCPU", "ResvCPURAW", "Start", "State",
    "Submit", "SubmitLine", "Suspended", "SystemComment", "SystemCPU", "Timelimit", "TimelimitRaw", "TotalCPU",
    "TRESUsageInAve", "TRESUsageInMax", "TRESUsageInMaxNode", "TRESUsageInMaxTask", "TRESUsageInMin",
    "TRESUsageInMinNode", "TRESUsageInMinTask", "TRESUsageInTot", "TRESUsageOutAve", "TRESUsageOutMax",
    "TRESUsageOutMaxNode", "TRESUsageOutMaxTask", "TRESUsageOutMin", "TRESUsageOutMinNode", "TRESUsageOutMinTask",
    "TRESUsageOutTot", "UID", "User", "UserCPU", "WCKey", "WCKeyID", "WorkDir",
)
_CANONICAL = {name.lower(): name for name in KNOWN_FIELDS}

#: The seed's unit suffixes (``metric_units`` in its ``parse_sacct_dict``).
UNIT_SUFFIXES: dict[str, str] = {
    "ave-cpu": "seconds", "ave-cpu-freq": "khz", "ave-disk-read": "bytes", "ave-disk-write": "bytes",
    "timelimit": "seconds", "elapsed": "seconds", "planned": "seconds", "planned-cpu": "seconds",
    "cpu-time": "seconds", "total-cpu": "seconds", "submit": "time", "start": "time", "end": "time",
}

_DURATION_FIELDS = {"AveCPU", "Timelimit", "Elapsed", "Planned", "PlannedCPU", "CPUTime", "TotalCPU", "UserCPU",
                    "SystemCPU", "MinCPU", "Suspended", "Reserved", "ResvCPU"}
_TIME_FIELDS = {"Submit", "Start", "End", "Eligible"}
_BYTE_FIELDS = {"MaxRSS", "AveRSS", "MaxVMSize", "AveVMSize", "ReqMem", "AveDiskRead", "AveDiskWrite",
                "MaxDiskRead", "MaxDiskWrite"}
_DECIMAL_FIELDS = {"AveCPUFreq", "ReqCPUFreq", "ReqCPUFreqMin", "ReqCPUFreqMax", "AvePages", "MaxPages",
                   "ConsumedEnergy", "ConsumedEnergyRaw", "CPUTimeRAW", "ElapsedRaw", "PlannedCPURAW", "ResvCPURAW"}
_COUNT_FIELDS = {"AllocCPUS", "NCPUS", "ReqCPUS", "AllocNodes", "NNodes", "ReqNodes", "NTasks", "Priority", "UID",
                 "GID", "MaxRSSTask", "MaxVMSizeTask", "MaxDiskReadTask", "MaxDiskWriteTask", "MaxPagesTask",
                 "MinCPUTask", "TimelimitRaw", "AssocID", "QOSRAW", "WCKeyID"}

#: Printed values that mean "no value": they become null, never 0.
NULL_TOKENS = ("", "Unknown", "None", "UNLIMITED", "Partition_Limit", "INVALID", "None assigned", "(null)")

#: Slurm job states, used to expand fixed-width truncation (``CANCELLED+``).
JOB_STATES = ("BOOT_FAIL", "CANCELLED", "COMPLETED", "COMPLETING", "CONFIGURING", "DEADLINE", "FAILED", "NODE_FAIL",
              "OUT_OF_MEMORY", "PENDING", "PREEMPTED", "REQUEUED", "RESIZING", "REVOKED", "RUNNING", "SUSPENDED",
              "TIMEOUT", "REQUEUE_FED", "REQUEUE_HOLD", "SPECIAL_EXIT", "STOPPED", "SIGNALING", "STAGE_OUT")
#: Named steps, used to expand ``.ba+`` → ``batch``.
STEP_NAMES = ("batch", "extern", "interactive")


def kebab(name: str) -> str:
    """The seed's kebab-case conversion of a field name (``AveCPUFreq`` → ``ave-cpu-freq``)."""
    out: list[str] = []
    for i, char in enumerate(name):
        if char.isupper() and i > 0:
            prev_lower = name[i - 1].islower() or name[i - 1].isdigit()
            next_lower = i + 1 < len(name) and name[i + 1].islower()
            if prev_lower or (name[i - 1].isupper() and next_lower):
                out.append("-")
        out.append(char)
    return "".join(out).lower()


def canonical_field(name: str) -> str:
    """The canonical sacct spelling of a field name in any case (unknown names are kept)."""
    return _CANONICAL.get(name.strip().lower(), name.strip())


def column_name(sacct_field: str) -> str:
    """The frame column of a sacct field: kebab case plus the seed's unit suffix where it has one."""
    base = kebab(canonical_field(sacct_field))
    suffix = UNIT_SUFFIXES.get(base)
    return f"{base}-{suffix}" if suffix else base


_FIELD_OF_COLUMN = {column_name(f): f for f in KNOWN_FIELDS}


# --- Results ------------------------------------------------------------------------------------------------------


class ParseWarning(NamedTuple):
    """Something the parser skipped or could not read; ``line`` is 1-based in the input.

    A named tuple: a fixed-width parse can warn about hundreds of thousands of cut values, and tuples are made
    in bulk several times faster than dataclass instances.
    """

    line: int
    message: str


#: ``ParseWarning`` from a ``(line, message)`` pair, made in C (``ParseWarning._make`` runs Python per call).
_new_warning = partial(tuple.__new__, ParseWarning)


@dataclass
class ParsedSacct:
    """The parsed table (one row per sacct record, in input order), the warnings and the detected format."""

    frame: pd.DataFrame
    warnings: list[ParseWarning] = field(default_factory=list)
    format: str = "parsable2"


#: A raw column: its strings, or a function that cuts them out of the input when the column is converted.
_Column: TypeAlias = pa.Array | Callable[[], pa.Array]


def _strings_of(column: _Column) -> pa.Array:
    return column() if callable(column) else column


@dataclass
class _Table:
    """Raw string columns of one text table, with the input line of every row."""

    fields: list[str]
    columns: dict[str, _Column]
    lines: np.ndarray
    truncated: bool = False


# --- Entry point --------------------------------------------------------------------------------------------------


def parse_sacct(
    text: str | bytes,
    *,
    timezone: str = "UTC",
    fields: Sequence[str] | None = None,
    delimiter: str | None = None,
) -> ParsedSacct:
    """Parse sacct output in any supported format.

    Args:
        text: the output, as text or UTF-8 bytes.
        timezone: IANA zone the cluster printed its timestamps in (sacct prints local time without a zone).
        fields: the field list, for ``--noheader`` output.
        delimiter: the ``--delimiter`` of parsable output; detected when not given.

    Returns:
        The frame, the warnings (skipped or unreadable lines with their line numbers) and the format.

    Raises:
        SacctParseError: the input is not sacct output (binary, empty, prose) or the time zone is unknown.
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SacctParseError(f"unknown time zone {timezone!r}") from None
    warnings: list[ParseWarning] = []
    fast = _read_fast(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"),
                      fields, delimiter, warnings)
    if fast is not None:
        try:
            return ParsedSacct(_convert_table(fast[0], zone, warnings), warnings, fast[1])
        except _NotUtf8:
            warnings.clear()  # the general path names the first byte that is not UTF-8
    body = _decode(text)
    if body.lstrip().startswith("{"):
        frame = _parse_json(body, warnings)
        return ParsedSacct(_order(frame), warnings, "json")
    # The lines are handed over without a name here, so the reader can free them once it holds the text otherwise.
    split = [body.splitlines()]
    del body
    table, fmt = _read_text(split.pop(), fields, delimiter, warnings)
    return ParsedSacct(_convert_table(table, zone, warnings), warnings, fmt)


def _decode(text: str | bytes) -> str:
    if isinstance(text, bytes):
        if b"\x00" in text[:65536]:
            raise SacctParseError("expected sacct text output, got binary data (NUL bytes)")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SacctParseError(f"expected UTF-8 sacct text; byte {exc.start} is not UTF-8") from None
    if "\x00" in text[:65536]:
        raise SacctParseError("expected sacct text output, got binary data (NUL characters)")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise SacctParseError("the input is empty: expected sacct output with a header line")
    return text


_EXPECTED = (
    "expected sacct output: a header line of field names (e.g. 'JobID|JobName|State|Elapsed') in parsable or "
    "fixed-width form, or --json output; for --noheader output give the field list"
)


def _is_header(tokens: Sequence[str]) -> bool:
    names = [t.strip() for t in tokens if t.strip()]
    known = sum(1 for t in names if t.lower() in _CANONICAL)
    return bool(names) and known >= max(1, (len(names) + 1) // 2)


_DASHES = re.compile(r"^\s*-+(?: +-+)*\s*$")


def _read_text(
    lines: list[str], fields: Sequence[str] | None, delimiter: str | None, warnings: list[ParseWarning]
) -> tuple[_Table | _Batches, str]:
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:  # pragma: no cover - _decode refuses blank input
        raise SacctParseError(_EXPECTED)
    # Fixed width: a header followed by a dashes line, anywhere (tables may carry labels such as "Time:").
    texts = pa.array(lines, type=pa.string())
    pairs = _fixed_headers(texts)
    if pairs:
        del lines  # the Arrow array holds the text from here on (the caller keeps no reference to the list)
        return _fixed_width(texts, pairs, warnings), "fixed-width"
    head = lines[first]
    delim = delimiter or _detect_delimiter(head, fields)
    if delim is not None:
        tokens = head.split(delim)
        if _is_header(tokens):
            trailing = tokens[-1] == ""
            names = tokens[:-1] if trailing else tokens
            table = _delimited(lines, first + 1, names, delim, trailing, warnings)
            return table, "parsable" if trailing else "parsable2"
        if fields:
            names = [canonical_field(f) for f in fields]
            pieces = len(tokens)
            trailing = pieces == len(names) + 1 and all(
                line.endswith(delim) for line in lines[first : first + 50] if line.strip()
            )
            table = _delimited(lines, first, names, delim, trailing, warnings)
            return table, "parsable" if trailing else "parsable2"
    raise SacctParseError(_EXPECTED)


def _fixed_headers(texts: pa.Array) -> list[int]:
    """Indices of the lines that head a fixed-width table: field names followed by a line of dashes."""
    dashes = np.flatnonzero(_bools(pc.match_substring_regex(texts, _DASHES.pattern)))
    return [int(i) - 1 for i in dashes if i > 0 and _is_header(texts[int(i) - 1].as_py().split())]


#: Line breaks other than "\n" (and "\r\n") that str.splitlines knows, as UTF-8: such inputs take the general path.
_ODD_BREAK_BYTES = tuple(c.encode("utf-8") for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _read_fast(
    raw: bytes, fields: Sequence[str] | None, delimiter: str | None, warnings: list[ParseWarning]
) -> tuple[_Table | _Batches, str] | None:
    """Delimited or fixed-width output read straight from its bytes, without decoding it into Python lines.

    Returns ``None`` for anything else (JSON, binary, unusual line breaks, a multi-byte delimiter, no
    header, text that is not UTF-8), which the general path then reads or explains. pyarrow checks the UTF-8 of
    every field.
    """
    if b"\x00" in raw[:65536]:
        return None
    offset = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    first = re.compile(rb"\S").search(raw, offset)
    if first is None or raw[first.start():first.start() + 1] == b"{":
        return None
    line_start = raw.rfind(b"\n", 0, first.start()) + 1
    line_end = raw.find(b"\n", first.start())
    line_end = len(raw) if line_end < 0 else line_end
    next_end = raw.find(b"\n", line_end + 1)
    try:
        head = raw[line_start:line_end].decode("utf-8").rstrip("\r").removeprefix("\ufeff")
        following = raw[line_end + 1:next_end if next_end >= 0 else None].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return None
    fixed = bool(_DASHES.match(following) or _DASHES.match(head))
    delim = None if fixed else delimiter or _detect_delimiter(head, fields)
    if not fixed and (delim is None or len(delim.encode("utf-8")) != 1):
        return None
    if fixed or delim is None:
        return _read_fixed_fast(raw, offset, warnings)
    # Whole-input scans last, once the head says what the input is.
    if _unusual_breaks(raw):
        return None
    first_no = raw.count(b"\n", 0, line_start)  # 0-based line index of the header (or first data line)
    tokens = head.split(delim)
    if _is_header(tokens):
        trailing = tokens[-1] == ""
        names = tokens[:-1] if trailing else tokens
        data_at, data_no = line_end + 1, first_no + 1
    elif fields:
        names = [canonical_field(f) for f in fields]
        prefix = raw[line_start:line_start + (1 << 16)].decode("utf-8", "replace")
        sample = [line for line in prefix.splitlines()[:50] if line.strip()]
        trailing = len(tokens) == len(names) + 1 and all(line.endswith(delim) for line in sample)
        data_at, data_no = line_start, first_no
    else:
        return None
    blob = memoryview(raw)[min(data_at, len(raw)):]
    return _delimited_bytes(blob, data_no, names, delim, trailing, warnings), "parsable" if trailing else "parsable2"


def _unusual_breaks(raw: bytes) -> bool:
    """Whether ``raw`` has line breaks that str.splitlines knows and pyarrow does not, or a lone carriage return."""
    # A multi-byte break's first byte is looked for first: a one-byte search is several times faster.
    return any(b[:1] in raw and b in raw for b in _ODD_BREAK_BYTES) or (
        b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"))


#: Bytes that can split lines for pyarrow's reader when the input has none of them (any field byte will do).
_LINE_SPLITTERS = (b"\x1f", b"\x01", b"\x02", b"\x03", b"\x1e", b"\t")


def _read_fixed_fast(raw: bytes, offset: int, warnings: list[ParseWarning]) -> tuple[_Table, str] | None:
    """Fixed-width output cut into lines by pyarrow's CSV reader (one field per line, on several threads).

    Returns ``None`` when the input is not fixed width after all, or not UTF-8 (the general path names the byte).
    """
    splitter = next((b for b in _LINE_SPLITTERS if b not in raw), None)
    if splitter is None:
        return None
    reader_input = pa.BufferReader(pa.py_buffer(memoryview(raw)[offset:]))
    with ThreadPoolExecutor(max_workers=1) as pool:
        unusual = pool.submit(_unusual_breaks, raw)  # scanned while pyarrow reads (its threads need no GIL)
        texts = _read_lines(reader_input, splitter)
        if unusual.result() or texts is None:
            return None
    pairs = _fixed_headers(texts)
    if not pairs:
        return None
    return _fixed_width(texts, pairs, warnings), "fixed-width"


def _read_lines(reader_input: pa.BufferReader, splitter: bytes) -> pa.Array | None:
    """Every line of the input as one string (line breaks removed), or None when it is not UTF-8."""
    try:
        return pacsv.read_csv(
            reader_input,
            read_options=pacsv.ReadOptions(column_names=["line"], block_size=BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(
                delimiter=splitter.decode(), quote_char=False, escape_char=False, double_quote=False,
                newlines_in_values=False, ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}, strings_can_be_null=False),
        ).column(0).combine_chunks()
    except pa.ArrowInvalid:
        return None


class _NotUtf8(Exception):
    """pyarrow found a field that is not UTF-8."""


#: Bytes of delimited text read and converted at a time: the peak memory of a parse grows with it, not the input.
BLOCK_SIZE = 1 << 24


@dataclass
class _Batches:
    """A delimited table read lazily in blocks: each block is converted and freed before the next is read."""

    fields: list[str]
    batches: Iterator[_Table]


def _delimited_bytes(
    blob: bytes | memoryview, start: int, names: Sequence[str], delim: str, trailing: bool,
    warnings: list[ParseWarning],
) -> _Batches:
    """Delimited rows (``start`` is the 0-based line index of the blob's first line) read by pyarrow in blocks."""
    fields, at = _unique_fields(names, max(start, 1), warnings)
    return _Batches(fields, _read_batches(blob, start, len(names), fields, at, delim, trailing, warnings))


def _unique_fields(names: Sequence[str], line: int, warnings: list[ParseWarning]) -> tuple[list[str], list[int]]:
    """Each field once (``--format=State,State`` prints it twice), with the column it is read from: its first."""
    fields: list[str] = []
    at: list[int] = []
    for i, name in enumerate(names):
        f = canonical_field(name)
        if f in fields:
            warnings.append(ParseWarning(line, f"{f} appears more than once in the header; its first column is read"))
        else:
            fields.append(f)
            at.append(i)
    return fields, at


def _read_batches(
    blob: bytes | memoryview, start: int, count: int, fields: list[str], at: list[int], delim: str, trailing: bool,
    warnings: list[ParseWarning],
) -> Iterator[_Table]:
    columns = [f"c{i}" for i in range(count + (1 if trailing else 0))]
    if not re.search(rb"\S", blob):  # nothing but blank lines
        yield _Table(fields, {f: pa.array([], pa.string()) for f in fields}, np.zeros(0, dtype=np.int64))
        return
    bad: list[str] = []

    def on_invalid(row: Any) -> str:
        bad.append(str(row.text))  # (row.number is unknown when pyarrow reads blocks in parallel)
        return "skip"

    try:
        for batch in _open_csv(blob, columns, delim, on_invalid):
            # Line numbers only matter for fixed-width warnings; delimited rows need just their count here.
            out = {f: batch.column(i) for f, i in zip(fields, at, strict=True)}
            yield _Table(fields, out, np.zeros(batch.num_rows, dtype=np.int64))
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "UTF-8" in str(exc):
            raise _NotUtf8 from None
        raise SacctParseError(f"line {start + 1}: unreadable delimited data ({exc})") from None
    if bad:
        lines = bytes(blob).decode("utf-8").splitlines()
        for number, text in zip(_line_numbers_of(lines, 0, bad), bad, strict=True):
            got = len(text.split(delim))
            warnings.append(ParseWarning(number + start, f"expected {len(columns)} fields, found {got}; line skipped"))


def _detect_delimiter(head: str, fields: Sequence[str] | None) -> str | None:
    if fields:
        want = len(fields)
        candidates = ["|", *sorted({c for c in head if not c.isalnum() and c not in " _-.:+[]()@=,"})]
        for cand in candidates:
            if len(head.split(cand)) in (want, want + 1):
                return cand
        return None
    if "|" in head:
        return "|"
    for cand in sorted({c for c in head if not c.isalnum() and not c.isspace()}):
        if _is_header(head.split(cand)) and len(head.split(cand)) > 1:
            return cand
    return None


def _line_numbers_of(lines: list[str], start: int, texts: Iterable[str]) -> list[int]:
    wanted: dict[str, list[int]] = {}
    for text in texts:
        wanted.setdefault(text, [])
    for i in range(start, len(lines)):
        if lines[i] in wanted:
            wanted[lines[i]].append(i + 1)
    out: list[int] = []
    for text in texts:
        found = wanted.get(text) or [0]
        out.append(found.pop(0) if len(found) > 1 else found[0])
    return out


def _delimited(
    lines: list[str], start: int, names: Sequence[str], delim: str, trailing: bool, warnings: list[ParseWarning]
) -> _Batches:
    """Delimited rows from already split lines (inputs with unusual line breaks or a multi-byte delimiter)."""
    blob = "\n".join(lines[start:])
    sep = delim
    if len(delim.encode("utf-8")) != 1:  # pyarrow wants a one-byte delimiter
        sep = "\x1f"
        blob = blob.replace(delim, sep)
    return _delimited_bytes(blob.encode("utf-8", "replace"), start, names, sep, trailing, warnings)


def _open_csv(blob: bytes | memoryview, columns: list[str], sep: str, on_invalid: Any) -> Iterator[pa.RecordBatch]:
    """Pyarrow's streaming CSV reader: every field a string, blocks of :data:`BLOCK_SIZE` bytes."""
    reader = pacsv.open_csv(
        pa.BufferReader(pa.py_buffer(blob)),
        read_options=pacsv.ReadOptions(column_names=columns, block_size=BLOCK_SIZE),
        parse_options=pacsv.ParseOptions(
            delimiter=sep, quote_char=False, escape_char=False, double_quote=False, newlines_in_values=False,
            ignore_empty_lines=True, invalid_row_handler=on_invalid,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    yield from reader


def _str_mapper(dtype: pa.DataType) -> Any:
    return pd.StringDtype("pyarrow") if dtype == pa.string() else None


def _fixed_width(texts: pa.Array, pairs: list[int], warnings: list[ParseWarning]) -> _Table:
    tables: list[_Table] = []
    bounds = [*pairs[1:], len(texts)]
    for header_at, end in zip(pairs, bounds, strict=True):
        tables.append(_one_fixed_table(texts, header_at, end, warnings))
    if len(tables) == 1:
        return tables[0]
    if len({len(t.lines) for t in tables}) == 1:
        # Several tables pasted one after another (e.g. "Resources:" and "Time:" of the same job): row i of each
        # table is the same record, so the columns are joined side by side.
        merged = _Table([], {}, tables[0].lines, any(t.truncated for t in tables))
        for t in tables:
            for f in t.fields:
                if f not in merged.columns:
                    merged.fields.append(f)
                    merged.columns[f] = t.columns[f]
        return merged
    warnings.append(ParseWarning(pairs[1] + 1, "a second table with a different number of rows was ignored"))
    return tables[0]


def _one_fixed_table(texts: pa.Array, header_at: int, end: int, warnings: list[ParseWarning]) -> _Table:
    """One fixed-width table, cut into columns in Arrow.

    Columns are byte offsets (sacct pads by bytes), so ASCII rows are cut with ``binary_slice``; the rare rows
    with multi-byte characters are cut in Python from their bytes.
    """
    header, dashes = texts[header_at].as_py(), texts[header_at + 1].as_py()
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", dashes)]
    names = header.split()
    if len(names) != len(spans):
        raise SacctParseError(
            f"line {header_at + 1}: {len(names)} field names but {len(spans)} dash columns on line {header_at + 2}"
        )
    fields, read_from = _unique_fields(names, header_at + 1, warnings)
    width = spans[-1][1]
    rows = texts.slice(header_at + 2, max(0, end - header_at - 2))
    numbers = np.arange(header_at + 3, header_at + 3 + len(rows), dtype=np.int64)
    with ThreadPoolExecutor(max_workers=3) as pool:  # three scans of every row at once
        # Blank lines, lines ending with a colon (maybe a label such as "Time:"), and lines of ASCII only.
        scans = [pool.submit(lambda check: _bools(check(rows)), check) for check in _ROW_SCANS]
        blank, label, ascii_ = (scan.result() for scan in scans)
    if label.any():
        at = np.flatnonzero(label)
        label[at] = _bools(pc.match_substring_regex(rows.take(pa.array(at)), r"^\s*[^ ]*:\s*$"))
    keep = ~(blank | label)
    too_long = _bools(pc.greater(pc.binary_length(rows), width + 1)) & ascii_
    if too_long.any():  # trailing blanks do not count
        at = np.flatnonzero(too_long)
        too_long[at] = _bools(pc.greater(pc.binary_length(pc.utf8_rtrim_whitespace(rows.take(pa.array(at)))),
                                         width + 1))
    # Multi-byte rows: re-cut by bytes, as sacct laid them out.
    odd = np.flatnonzero(keep & ~ascii_)
    recut: dict[int, list[str]] = {}
    for i in odd.tolist():
        raw = texts[header_at + 2 + i].as_py().encode("utf-8")
        cells = [raw[s:e].decode("utf-8", "replace") for s, e in spans]
        line = "".join(c.rjust(e - s) + " " for c, (s, e) in zip(cells, spans, strict=True)).rstrip()
        if len(line) > width + 1:
            too_long[i] = True
        else:
            recut[i] = [c.strip() for c in cells]
    for i in np.flatnonzero(keep & too_long).tolist():
        length = len(texts[header_at + 2 + i].as_py().rstrip())
        warnings.append(ParseWarning(int(numbers[i]), f"line is longer than the table ({length} > {width}); skipped"))
    keep &= ~too_long
    odd_rows = sorted(recut)
    odd = np.zeros(len(rows), dtype=bool)
    odd[odd_rows] = True
    binary = rows.cast(pa.binary())  # no copy
    if odd_rows:
        binary = pc.replace_with_mask(binary, pa.array(odd), pa.array([b""] * len(odd_rows), type=pa.binary()))
    keep_mask = None if keep.all() else pa.array(keep)
    odd_kept = pa.array(odd[keep])

    def cut(k: int, start: int, end: int) -> pa.Array:
        # Cut every row (a column is small), then keep the table's rows; every row is ASCII here (multi-byte rows
        # were emptied above), so no UTF-8 check is needed.
        cell = pc.cast(pc.binary_slice(binary, start, end), options=_ASCII_TEXT)
        cell = pc.ascii_trim_whitespace(cell if keep_mask is None else pc.filter(cell, keep_mask))
        if odd_rows:
            cell = pc.replace_with_mask(cell, odd_kept, pa.array([recut[i][k] for i in odd_rows]))
        return cell

    # Columns are cut when they are converted (on the conversion's threads), each from the shared lines.
    columns: dict[str, _Column] = {f: partial(cut, k, *spans[k]) for f, k in zip(fields, read_from, strict=True)}
    return _Table(fields, columns, numbers[keep], truncated=True)


_ASCII_TEXT = pc.CastOptions(target_type=pa.string(), allow_invalid_utf8=True)
_ROW_SCANS: tuple[Callable[[pa.Array], pa.Array], ...] = (
    partial(pc.match_substring_regex, pattern=r"^\s*$"),
    partial(pc.match_substring_regex, pattern=r":\s*$"),
    pc.string_is_ascii,
)


def _bools(values: pa.Array) -> np.ndarray:
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


# --- Conversion ---------------------------------------------------------------------------------------------------

_DURATION = r"^(?:(?P<d>\d+)-)?(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d+(?:\.\d+)?)$"
_SIZE = r"^(?P<n>\d*\.?\d+)(?P<u>[KMGTPE]?)(?P<scope>[nc]?)$"
_UNIT_LETTERS = pa.array(["K", "M", "G", "T", "P", "E"])  # index + 1 = power of the base
_STRING = pd.StringDtype("pyarrow")
_NULL_STRING = pa.scalar(None, pa.string())
_NULL_SET = pa.array(NULL_TOKENS)

#: A converted column: float64 values (NaN for none) or an Arrow array (strings, nullable integers).
_Values: TypeAlias = np.ndarray | pa.Array


def _nullify(a: pa.Array) -> pa.Array:
    """Text with the "no value" tokens made null."""
    return pc.if_else(pc.is_in(a, value_set=_NULL_SET), _NULL_STRING, a)


def _text(values: Any) -> pa.Array:
    """Strings as one Arrow string array (pandas strings, lists and chunked arrays are accepted)."""
    if isinstance(values, pd.Series):
        values = pa.array(values.astype(_STRING), from_pandas=True)
    elif not isinstance(values, pa.Array | pa.ChunkedArray):
        values = pa.array(values, type=pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type != pa.string():  # an empty or all-null column comes back typed null
        values = values.cast(pa.string())
    return values


def _distinct(a: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The distinct values of a column and, per row, the index of its value (-1 for null).

    sacct output repeats itself (steps share their job's times, states and sizes), so converting each distinct
    value once and gathering the results is several times faster than converting every row.
    """
    encoded = pc.dictionary_encode(a)
    indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return encoded.dictionary, indices


def _gather(values: np.ndarray, indices: np.ndarray, fill: Any = np.nan) -> np.ndarray:
    """Per-row results from per-distinct-value results (``fill`` where the row was null)."""
    padded = np.append(values, np.asarray([fill], dtype=values.dtype))
    gathered: np.ndarray = padded[indices]  # -1 picks the fill value appended last
    return gathered


def _take_rows(values: pa.Array, indices: np.ndarray) -> pa.Array:
    """:func:`_gather` for Arrow values: per-row values from per-distinct values, null where the row was null."""
    padded = pa.concat_arrays([values, pa.nulls(1, values.type)])
    return padded.take(pa.array(np.where(indices < 0, len(values), indices)))


def _groups(a: pa.Array, pattern: str) -> dict[str, pa.Array]:
    """The named groups of ``pattern`` in every value, matched in Arrow's C++ (RE2): null where it does not match."""
    found = pc.extract_regex(a, pattern)
    names = [found.type.field(i).name for i in range(found.type.num_fields)]
    return {name: pc.struct_field(found, name) for name in names}


def _float(strings: pa.Array) -> pa.Array:
    """Digits as float64; an empty (optional, absent) group becomes null."""
    return pc.cast(pc.if_else(pc.equal(strings, ""), _NULL_STRING, strings), pa.float64())


def _numpy(values: pa.Array) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype="float64")


def _few_distinct(a: pa.Array, sample: int = 20_000) -> bool:
    """Whether a column repeats its values enough (judged on its first rows) to convert each distinct value once."""
    head = a.slice(0, sample)
    return len(head) > 0 and pc.count_distinct(head).as_py() <= len(head) // 4


def _per_value(a: pa.Array, convert: Callable[[pa.Array], np.ndarray], *, always: bool = False) -> np.ndarray:
    """``convert`` (strings → float64 array) applied to each distinct value once when values repeat, else per row."""
    if always or _few_distinct(a):
        distinct, indices = _distinct(a)
        return _gather(convert(distinct), indices)
    return np.asarray(convert(a), dtype="float64")


def durations_to_seconds(values: Any) -> np.ndarray:
    """``D-HH:MM:SS``, ``HH:MM:SS``, ``MM:SS`` and ``MM:SS.mmm`` → float seconds; anything else → NaN."""
    return _per_value(_text(values), _durations, always=True)  # extracting groups costs more than encoding


def _durations(a: pa.Array) -> np.ndarray:
    g = _groups(a, _DURATION)
    days, hours, minutes = (pc.coalesce(_float(g[k]), 0.0) for k in ("d", "h", "m"))
    total = pc.add(pc.add(pc.add(pc.multiply(days, 86400.0), pc.multiply(hours, 3600.0)),
                          pc.multiply(minutes, 60.0)), _float(g["s"]))  # null seconds: no match, stays null
    return _numpy(total)


def sizes_to_numbers(values: Any, *, binary: bool) -> np.ndarray:
    """Sizes with optional K/M/G/T/P/E suffix (and ``n``/``c`` scope) → numbers, 1024- or 1000-based."""
    return _per_value(_text(values), lambda a: _sizes(a, 1024.0 if binary else 1000.0))


def _sizes(a: pa.Array, base: float) -> np.ndarray:
    valid = pc.match_substring_regex(a, _SIZE)  # matching is cheap; extracting groups is not
    a = pc.if_else(valid, a, _NULL_STRING)
    unscoped = pc.utf8_rtrim(a, characters="nc")
    last = pc.utf8_slice_codeunits(unscoped, -1)
    power = pc.cast(pc.add(pc.fill_null(pc.index_in(last, value_set=_UNIT_LETTERS), -1), 1), pa.float64())
    number = pc.cast(pc.utf8_rtrim(unscoped, characters="KMGTPE"), pa.float64())
    return _numpy(pc.multiply(number, pc.power(base, power)))


def size_scopes(values: Any) -> pa.Array:
    """The scope of a ``ReqMem`` value: ``4000Mc`` → ``cpu``, ``4000Mn`` → ``node``, else null."""
    distinct, indices = _distinct(_text(values))  # a handful of distinct requests
    scope = pc.if_else(pc.match_substring_regex(distinct, _SIZE), pc.utf8_slice_codeunits(distinct, -1),
                       _NULL_STRING)
    words = pc.if_else(pc.equal(scope, "c"), "cpu", pc.if_else(pc.equal(scope, "n"), "node", _NULL_STRING))
    return _take_rows(words, indices)


def counts_to_integers(values: Any) -> pa.Array:
    """Whole numbers as nullable int64; anything else → null."""
    a = _nullify(_text(values))
    try:
        return pc.cast(a, pa.int64())  # the common case: digits or nothing
    except pa.ArrowInvalid:
        pass
    distinct, indices = _distinct(a)
    numbers = pd.to_numeric(distinct.to_pandas(types_mapper=_str_mapper), errors="coerce")
    floats = numbers.to_numpy(dtype="float64", na_value=np.nan)
    out = _gather(floats, indices)
    whole = np.isfinite(out) & (out == np.floor(out))
    return pa.array(np.where(whole, out, 0).astype(np.int64), mask=~whole)


def timestamps_to_epoch(values: Any, zone: ZoneInfo) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SS`` read in ``zone`` → epoch seconds (float); unreadable → NaN.

    A wall time that occurs twice when clocks go back is read as the later (standard time) one; one that does not
    exist when clocks go forward is moved forward.
    """
    def convert(a: pa.Array) -> np.ndarray:
        local = _iso_seconds(a)
        if local is None:  # some value is not in sacct's layout: the format decides, and such values are null
            local = pc.strptime(a, format="%Y-%m-%dT%H:%M:%S", unit="s", error_is_null=True)
        utc = pc.assume_timezone(local, timezone=zone.key, ambiguous="latest", nonexistent="latest")
        return _numpy(pc.cast(pc.cast(utc, pa.int64()), pa.float64()))

    return _per_value(_text(values), convert)


def _iso_seconds(a: pa.Array) -> pa.Array | None:
    """Timestamps when every value is ``YYYY-MM-DDTHH:MM:SS`` or a null token, read by Arrow's ISO 8601 cast.

    The cast is several times faster than ``strptime`` but also reads other ISO forms, so it is used only when
    every value has the format's length and its ``T``; any value it cannot read sends the column back to
    ``strptime`` (``None``).
    """
    stamps = _nullify(a)
    lengths = pc.min_max(pc.binary_length(stamps))
    if stamps.null_count == len(stamps) or lengths["min"].as_py() != 19 or lengths["max"].as_py() != 19:
        return None
    if not pc.all(pc.equal(pc.binary_slice(stamps.cast(pa.binary()), 10, 11), b"T")).as_py():
        return None
    try:
        return pc.cast(stamps, pa.timestamp("s"))
    except pa.ArrowInvalid:
        return None


def _prefix_map(names: Sequence[str]) -> dict[str, str]:
    """Truncated forms (``CANCELLED+``, ``ba+``) → full name, only where one name has that prefix."""
    out: dict[str, str] = {}
    ambiguous: set[str] = set()
    for name in names:
        for i in range(1, len(name) + 1):  # the whole name too: "CANCELLED+" is "CANCELLED by ..."
            key = name[:i] + "+"
            if key in out and out[key] != name:
                ambiguous.add(key)
            out[key] = name
    return {k: v for k, v in out.items() if k not in ambiguous}


_STATE_PREFIX = _prefix_map(JOB_STATES)
_STEP_PREFIX = _prefix_map(STEP_NAMES)


def _convert_table(table: _Table | _Batches, zone: ZoneInfo, warnings: list[ParseWarning]) -> pd.DataFrame:
    """Convert a table, or block by block a table read in blocks (the blocks' columns become chunks).

    Columns are converted on a thread pool (Arrow's kernels release the GIL) while the next block is read; at most
    :data:`_BLOCKS_IN_FLIGHT` blocks are held at a time, so memory stays bounded by the block size.
    """
    blocks = iter([table]) if isinstance(table, _Table) else table.batches
    parts: list[dict[str, _Values]] = []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        pending: deque[list[Future[_Converted]]] = deque()
        for block in blocks:
            pending.append(_submit(block, zone, pool))
            if len(pending) > _BLOCKS_IN_FLIGHT:
                parts.append(_collect(pending.popleft(), warnings))
        parts.extend(_collect(futures, warnings) for futures in pending)
    if not parts:  # every line was skipped
        empty: dict[str, _Column] = {f: pa.array([], pa.string()) for f in table.fields}
        parts = [_collect(_submit(_Table(table.fields, empty, np.zeros(0, dtype=np.int64)), zone, None), warnings)]
    warnings.sort(key=lambda w: w.line)
    columns: dict[str, Any] = {}
    for name in list(parts[0]):
        # Column by column, each block's column is released as soon as it is joined.
        chunks = [part.pop(name) for part in parts]
        if isinstance(chunks[0], np.ndarray):
            columns[name] = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
        elif chunks[0].type == pa.string():
            columns[name] = pd.Series(pa.chunked_array(chunks, type=pa.string()), dtype=_STRING, copy=False)
        else:
            columns[name] = pa.chunked_array(chunks).to_pandas(types_mapper=_int_mapper)
    return _order(pd.DataFrame(columns, copy=False))


def _int_mapper(dtype: pa.DataType) -> Any:
    return pd.Int64Dtype() if dtype == pa.int64() else None


#: Rows from which a block's columns are converted on the thread pool rather than in the calling thread.
_PARALLEL_ROWS = 50_000
#: Blocks read ahead of the conversion.
_BLOCKS_IN_FLIGHT = 2
#: One conversion task's columns and warnings.
_Converted: TypeAlias = tuple[dict[str, _Values], list[ParseWarning]]


def _submit(table: _Table, zone: ZoneInfo, pool: ThreadPoolExecutor | None) -> list[Future[_Converted]]:
    """Start converting one block's columns; the futures come in the table's order (job ids first)."""
    # Raw columns are taken out of the table by their task, so each is freed once converted.
    raw = table.columns
    lines, truncated = table.lines, table.truncated
    # Truncated ids are repaired with JobName: cut it once here, for the job-id task and its own.
    job_names = _strings_of(raw["JobName"]) if "JobName" in raw and "JobID" in raw and truncated else None
    if job_names is not None:
        raw["JobName"] = job_names

    def job_ids() -> _Converted:
        names = _nullify(job_names) if job_names is not None else None
        found: list[ParseWarning] = []
        job, step = _split_job_ids(_nullify(_strings_of(raw.pop("JobID"))), names, lines, truncated, found)
        return {"job-id": job, "step": step}, found

    def convert(f: str) -> _Converted:
        return _convert_field(f, _strings_of(raw.pop(f)), zone, lines, truncated)

    tasks: list[tuple[str, Callable[[], _Converted]]] = [("JobID", job_ids)] if "JobID" in raw else []
    tasks += [(f, partial(convert, f)) for f in table.fields if f != "JobID"]
    if pool is None or len(lines) < _PARALLEL_ROWS:
        return [_done(task()) for _, task in tasks]
    # The costliest conversions start first, so that no long one is left running alone at the end.
    started = {f: pool.submit(task) for f, task in sorted(tasks, key=lambda item: _cost_rank(item[0]))}
    return [started[f] for f, _ in tasks]


#: Fields by how costly their conversion is, costliest first: durations, job ids, sizes, times (then the rest).
_COST_ORDER = (_DURATION_FIELDS, {"JobID"}, _BYTE_FIELDS | _DECIMAL_FIELDS, _TIME_FIELDS)


def _cost_rank(f: str) -> int:
    return next((rank for rank, kind in enumerate(_COST_ORDER) if f in kind), len(_COST_ORDER))


def _done(result: _Converted) -> Future[_Converted]:
    future: Future[_Converted] = Future()
    future.set_result(result)
    return future


def _collect(futures: list[Future[_Converted]], warnings: list[ParseWarning]) -> dict[str, _Values]:
    out: dict[str, _Values] = {}
    for future in futures:
        columns, found = future.result()
        out.update(columns)
        warnings.extend(found)
    return out


def _convert_field(
    f: str, a: pa.Array, zone: ZoneInfo, lines: np.ndarray, truncated: bool
) -> tuple[dict[str, _Values], list[ParseWarning]]:
    """One sacct field's column(s), and warnings for its values cut by a fixed-width column."""
    name = column_name(f)
    cut = _bools(pc.ends_with(a, "+")) if truncated else None
    out: dict[str, _Values] = {}
    if f == "State":
        distinct, indices = _distinct(a)
        words = _groups(distinct, r"^(?P<w>[A-Z_]+\+?)")["w"].to_pylist()
        # "CANCELLED+" (fixed width cut "CANCELLED by 123") is expanded where one state has that prefix.
        expanded = [_STATE_PREFIX.get(w, w) if w is not None and w.endswith("+") else w for w in words]
        out[name] = _take_rows(pa.array(expanded, type=pa.string()), indices)
        return out, []
    if f in _DURATION_FIELDS:
        out[name] = durations_to_seconds(a)
    elif f in _TIME_FIELDS:
        out[name] = timestamps_to_epoch(a, zone)
    elif f in _BYTE_FIELDS:
        out[name] = sizes_to_numbers(a, binary=True)
        if f == "ReqMem":
            out["req-mem-scope"] = size_scopes(a)
    elif f in _DECIMAL_FIELDS:
        out[name] = sizes_to_numbers(a, binary=False)
    elif f in _COUNT_FIELDS:
        out[name] = counts_to_integers(a)
    else:
        # Text ("Unknown", "None", ... become null); a truncated JobName is still the best name there is.
        out[name] = _nullify(a)
        return out, []
    if cut is None or not cut.any():
        return out, []
    values = out[name]
    if isinstance(values, np.ndarray):
        values[cut] = np.nan
    else:
        out[name] = pc.if_else(pa.array(cut), pa.scalar(None, values.type), values)
    at = np.flatnonzero(cut)
    messages = [f"{f} value {value!r} is truncated by the column width" for value in a.take(pa.array(at)).to_pylist()]
    return out, list(map(_new_warning, zip(lines[at].tolist(), messages, strict=True)))


def _split_job_ids(
    ids: pa.Array, names: pa.Array | None, lines: np.ndarray, truncated: bool, warnings: list[ParseWarning]
) -> tuple[pa.Array, pa.Array]:
    parts = _groups(ids, r"^(?P<job>[^.]*)(?:\.(?P<step>.*))?$")
    if not truncated:  # parsable output: nothing to repair
        return parts["job"], parts["step"].fill_null("")
    # Fixed width cuts long ids with "+": expand step names per distinct value ("ba+" → "batch").
    job = parts["job"]
    distinct, indices = _distinct(parts["step"].fill_null(""))  # no null step is left
    expanded = [_STEP_PREFIX.get(v, v) if v.endswith("+") else v for v in distinct.to_pylist()]
    step = _take_rows(pa.array(expanded, type=pa.string()), indices)
    cut_still = np.array([v.endswith("+") for v in expanded], dtype=bool)[indices]
    if names is not None and cut_still.any():
        # ".+" keeps no letter of the step: its JobName (batch, extern) names it.
        named = cut_still & _bools(pc.is_in(names, value_set=pa.array(STEP_NAMES)))
        step = pc.if_else(pa.array(named), names, step)
    is_job_row = _bools(pc.equal(step, ""))
    job_cut = np.flatnonzero(_bools(pc.ends_with(job, "+")) & is_job_row)
    if len(job_cut):
        # "16325776_10+" lost its ".batch": a step of the job above it when that job's id starts the same way.
        row = np.arange(len(is_job_row))
        last_job_row = np.maximum.accumulate(np.where(is_job_row, row, -1))
        job_list, step_list = job.to_pylist(), step.to_pylist()
        name_list = names.to_pylist() if names is not None else None
        fixed: list[int] = []
        for i in job_cut.tolist():
            stem = str(job_list[i])[:-1]
            above = int(last_job_row[i - 1]) if i > 0 else -1
            previous = str(job_list[above]) if above >= 0 else None
            name = name_list[i] if name_list is not None and isinstance(name_list[i], str) else ""
            if previous is not None and previous.startswith(stem) and name in STEP_NAMES:
                job_list[i], step_list[i] = previous, name
                fixed.append(i)
            else:
                warnings.append(ParseWarning(int(lines[i]), f"JobID {ids[i].as_py()!r} is truncated; kept as printed"))
        if fixed:
            job, step = pa.array(job_list, type=pa.string()), pa.array(step_list, type=pa.string())
    return job, step


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    first = [c for c in ("job-id", "step") if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


# --- JSON ---------------------------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A Slurm JSON number: plain, or ``{"set": .., "infinite": .., "number": ..}``; unset or infinite → None."""
    if isinstance(value, dict):
        if not value.get("set", True) or value.get("infinite", False):
            return None
        value = value.get("number")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value < 0 or value >= 2**62:  # sentinels such as NO_VAL64 or flag bits
        return None
    return float(value)


def _seconds(value: Any) -> float | None:
    if isinstance(value, dict) and ("seconds" in value or "microseconds" in value):
        seconds = _number(value.get("seconds", 0)) or 0.0
        micro = _number(value.get("microseconds", 0)) or 0.0
        return seconds + micro / 1e6
    return _number(value)


def _epoch(value: Any) -> float | None:
    number = _number(value)
    return number if number else None  # 0 means "not set" (a pending job's start)


def _state(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("current")
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value).split()[0] if value else None


def _exit_code(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    code = _number(value.get("return_code"))
    signal = value.get("signal", {})
    sig = _number(signal.get("id")) if isinstance(signal, dict) else None
    return f"{int(code or 0)}:{int(sig or 0)}"


def _tres(items: Any, kind: str) -> float | None:
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and item.get("type") == kind:
                return _number(item.get("count"))
    return None


def _job_id(job: dict[str, Any]) -> str:
    array = job.get("array") or {}
    task = _number(array.get("task_id"))
    if array.get("job_id") and task is not None:
        return f"{array['job_id']}_{int(task)}"
    het = job.get("het") or {}
    offset = _number(het.get("job_offset"))
    if het.get("job_id") and offset is not None:
        return f"{het['job_id']}+{int(offset)}"
    return str(job.get("job_id", ""))


def _parse_json(body: str, warnings: list[ParseWarning]) -> pd.DataFrame:
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise SacctParseError(f"line {exc.lineno}: not valid JSON ({exc.msg}); {_EXPECTED}") from None
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), list):
        raise SacctParseError("JSON without a 'jobs' list: " + _EXPECTED)
    rows: list[dict[str, Any]] = []
    for job in document["jobs"]:
        if not isinstance(job, dict):
            warnings.append(ParseWarning(1, "a 'jobs' entry is not an object; skipped"))
            continue
        job_id = _job_id(job)
        time = job.get("time") or {}
        required = job.get("required") or {}
        tres = job.get("tres") or {}
        per_cpu, per_node = _number(required.get("memory_per_cpu")), _number(required.get("memory_per_node"))
        memory = per_cpu or per_node  # MiB
        cpus = _tres(tres.get("allocated"), "cpu") or _number(required.get("CPUs"))
        limit = _number(time.get("limit"))
        rows.append({
            "job-id": job_id, "step": "", "job-name": job.get("name"), "partition": job.get("partition") or None,
            "account": job.get("account") or None, "user": job.get("user") or None, "state": _state(job.get("state")),
            "exit-code": _exit_code(job.get("exit_code")), "alloc-cpus": cpus,
            "n-nodes": _number(job.get("allocation_nodes")), "n-tasks": None,
            "submit-time": _epoch(time.get("submission")), "start-time": _epoch(time.get("start")),
            "end-time": _epoch(time.get("end")), "elapsed-seconds": _number(time.get("elapsed")),
            "timelimit-seconds": limit * 60 if limit is not None else None,
            "total-cpu-seconds": _seconds(time.get("total")), "user-cpu": _seconds(time.get("user")),
            "system-cpu": _seconds(time.get("system")),
            "req-mem": memory * 1024**2 if memory else None,
            "req-mem-scope": "cpu" if per_cpu else ("node" if per_node else None),
            "max-rss": None, "node-list": job.get("nodes") or None,
        })
        for step in job.get("steps") or []:
            if not isinstance(step, dict):
                continue
            ident = (step.get("step") or {}).get("id")
            step_name = (
                str(ident.get("step_id", "")) if isinstance(ident, dict) else str(ident or "").split(".", 1)[-1]
            )
            stime = step.get("time") or {}
            stres = step.get("tres") or {}
            max_rss = _tres((stres.get("requested") or {}).get("max"), "mem")
            rows.append({
                "job-id": job_id, "step": step_name.lower() if not step_name.isdigit() else step_name,
                "job-name": (step.get("step") or {}).get("name"), "partition": None, "account": None, "user": None,
                "state": _state(step.get("state")), "exit-code": _exit_code(step.get("exit_code")),
                "alloc-cpus": _tres(stres.get("allocated"), "cpu"),
                "n-nodes": _number((step.get("nodes") or {}).get("count")),
                "n-tasks": _number((step.get("tasks") or {}).get("count")),
                "submit-time": None, "start-time": _epoch(stime.get("start")), "end-time": _epoch(stime.get("end")),
                "elapsed-seconds": _number(stime.get("elapsed")), "timelimit-seconds": None,
                "total-cpu-seconds": _seconds(stime.get("total")), "user-cpu": _seconds(stime.get("user")),
                "system-cpu": _seconds(stime.get("system")), "req-mem": None, "req-mem-scope": None,
                "max-rss": max_rss, "node-list": (step.get("nodes") or {}).get("range") or None,
            })
    frame = pd.DataFrame(rows)
    if frame.empty:
        raise SacctParseError("the JSON has no jobs")
    for col in ("alloc-cpus", "n-nodes", "n-tasks"):
        frame[col] = pd.array(frame[col].to_numpy(dtype="float64"), dtype="Float64").astype("Int64")
    for col in ("job-id", "step", "job-name", "partition", "account", "user", "state", "exit-code", "req-mem-scope",
                "node-list"):
        frame[col] = frame[col].astype(pd.StringDtype("pyarrow"))
    float_cols = [c for c in frame.columns if c.endswith(("-seconds", "-time")) or c in ("user-cpu", "system-cpu",
                                                                                          "req-mem", "max-rss")]
    frame[float_cols] = frame[float_cols].astype("float64")
    return frame


# --- Per-job metrics ----------------------------------------------------------------------------------------------


def parent_job_id(job_ids: pd.Series) -> pd.Series:
    """The job an id belongs to: ``123_4`` and ``123_[1-5]`` → ``123`` (array), ``176+0`` → ``176`` (het job)."""
    return job_ids.astype(pd.StringDtype("pyarrow")).str.extract(r"^(\d+)")[0].fillna(job_ids)


def _col(frame: pd.DataFrame, name: str, dtype: str = "float64") -> pd.Series:
    if name in frame.columns:
        return frame[name].astype(dtype)
    return pd.Series(np.nan, index=frame.index, dtype=dtype)


def job_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per job record (each array task and het component), with seff-style efficiencies.

    Formulas (as ``seff`` and reportseff define them):

    - ``cpu-efficiency`` = TotalCPU / (Elapsed × AllocCPUS), TotalCPU from the job's own row when printed, else the
      sum over its steps;
    - ``time-efficiency`` = Elapsed / Timelimit;
    - ``memory-efficiency`` = max over the job's steps of (MaxRSS × NTasks) / requested memory, where NTasks missing
      counts as 1 and the requested memory is ReqMem × AllocCPUS for a per-CPU request (``c`` suffix) and
      ReqMem × NNodes otherwise (``n`` suffix or none: modern Slurm prints per-node memory without a suffix);
    - ``queue-wait-seconds`` = Start − Submit.

    Every metric is null when one of its inputs is missing or its denominator is zero: a chart must not show a fake
    zero.
    """
    if "job-id" not in frame.columns or frame.empty:
        return pd.DataFrame(columns=list(_METRIC_COLUMNS))
    step = _col(frame, "step", "object").fillna("")
    rows = frame.assign(step=step)
    jobs = rows[rows["step"] == ""].drop_duplicates("job-id").set_index("job-id")
    steps = rows[rows["step"] != ""]
    # Jobs printed only through their steps still get a row.
    missing = pd.Index(steps["job-id"].unique()).difference(jobs.index)
    if len(missing):
        jobs = pd.concat([jobs, pd.DataFrame(index=missing)])
    rss = _col(rows, "max-rss") * _col(rows, "n-tasks").fillna(1).astype("float64")
    max_rss = rss.groupby(rows["job-id"]).max()
    step_cpu = _col(steps, "total-cpu-seconds").groupby(steps["job-id"]).sum(min_count=1)
    out = pd.DataFrame(index=jobs.index)
    out.index.name = "job-id"
    for name in ("job-name", "state", "partition"):
        out[name] = _col(jobs, name, "object")
    # NCPUS is AllocCPUS under another name (sacct prints either); use it when AllocCPUS was not asked for.
    out["alloc-cpus"] = _col(jobs, "alloc-cpus").fillna(_col(jobs, "ncpus"))
    out["n-nodes"] = _col(jobs, "n-nodes")
    for name in ("elapsed-seconds", "timelimit-seconds", "submit-time", "start-time", "end-time"):
        out[name] = _col(jobs, name)
    total = _col(jobs, "total-cpu-seconds")
    out["total-cpu-seconds"] = total.fillna(step_cpu.reindex(out.index))
    out["queue-wait-seconds"] = out["start-time"] - out["submit-time"]
    out["max-rss"] = max_rss.reindex(out.index)
    req = _col(jobs, "req-mem")
    scope = _col(jobs, "req-mem-scope", "object").fillna("")
    per = np.where(scope == "cpu", out["alloc-cpus"], out["n-nodes"].fillna(1))
    out["req-mem-bytes"] = req * per
    out["steps"] = (rows["step"] != "").groupby(rows["job-id"]).sum().reindex(out.index).fillna(0).astype("Int64")

    def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
        den = den.where(den > 0)
        return (num / den).astype("float64")

    out["cpu-efficiency"] = ratio(out["total-cpu-seconds"], out["elapsed-seconds"] * out["alloc-cpus"])
    out["time-efficiency"] = ratio(out["elapsed-seconds"], out["timelimit-seconds"])
    out["memory-efficiency"] = ratio(out["max-rss"], out["req-mem-bytes"])
    out = out.reset_index()
    out["parent-job-id"] = parent_job_id(out["job-id"])
    out["alloc-cpus"] = out["alloc-cpus"].astype("Int64")
    return out[list(_METRIC_COLUMNS)]


_METRIC_COLUMNS = (
    "job-id", "parent-job-id", "job-name", "state", "partition", "alloc-cpus", "elapsed-seconds", "timelimit-seconds",
    "total-cpu-seconds", "submit-time", "start-time", "end-time", "queue-wait-seconds", "cpu-efficiency",
    "time-efficiency", "memory-efficiency", "max-rss", "req-mem-bytes", "steps",
)


# --- Writing back -------------------------------------------------------------------------------------------------


def _format_duration(values: pd.Series) -> pd.Series:
    def one(v: float) -> str:
        if pd.isna(v):
            return ""
        days, rest = divmod(float(v), 86400)
        hours, rest = divmod(rest, 3600)
        minutes, seconds = divmod(rest, 60)
        sec = f"{seconds:06.3f}" if seconds != int(seconds) else f"{int(seconds):02d}"
        text = f"{int(hours):02d}:{int(minutes):02d}:{sec}"
        return f"{int(days)}-{text}" if days else text

    return values.map(one)


def to_parsable2(frame: pd.DataFrame, *, timezone: str = "UTC") -> str:
    """Write a parsed frame back as ``--parsable2`` text that :func:`parse_sacct` reads to the same values."""
    zone = ZoneInfo(timezone)
    header: list[str] = []
    columns: list[pd.Series] = []
    if "job-id" in frame.columns:
        job = frame["job-id"].fillna("").astype(str)
        step = frame["step"].fillna("") if "step" in frame.columns else pd.Series("", index=frame.index)
        header.append("JobID")
        columns.append(job.where(step == "", job + "." + step.astype(str)))
    for col in frame.columns:
        if col in ("job-id", "step", "req-mem-scope"):
            continue
        field_name = _FIELD_OF_COLUMN.get(col)
        if field_name is None:
            continue
        s = frame[col]
        if field_name in _DURATION_FIELDS:
            text = _format_duration(s)
        elif field_name in _TIME_FIELDS:
            stamps = pd.to_datetime(s, unit="s", utc=True).dt.tz_convert(zone).dt.strftime("%Y-%m-%dT%H:%M:%S")
            text = stamps.fillna("")
        elif field_name in _BYTE_FIELDS or field_name in _DECIMAL_FIELDS:
            text = s.map(lambda v: "" if pd.isna(v) else repr(float(v)).removesuffix(".0"))
            if field_name == "ReqMem" and "req-mem-scope" in frame.columns:
                scope = frame["req-mem-scope"].fillna("").map({"cpu": "c", "node": "n"}).fillna("")
                text = text + scope.where(text != "", "")
        else:
            text = s.astype(object).map(lambda v: "" if pd.isna(v) else str(v))
        header.append(field_name)
        columns.append(text.astype(str))
    body = pd.concat(columns, axis=1).astype(str).agg("|".join, axis=1) if columns else pd.Series(dtype=str)
    return "\n".join(["|".join(header), *body.tolist()]) + "\n"
