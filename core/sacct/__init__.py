"""Parse Slurm ``sacct`` output into a typed table, and compute per-job efficiency.

Formats are detected from the text: fixed width (a header line, a dashes line, right-aligned values), ``--parsable``
(every line ends with the delimiter), ``--parsable2`` and ``--json`` (Slurm 20.11 to 25.x). Any ``--delimiter``
(``|``, reportseff's ``^|^``, a tab, ``;``) is detected from the header; headerless input (``--noheader``) needs
``fields=``, and its delimiter is detected from the lines or given as ``delimiter=``.

Columns are the seed's kebab-case field names (``AveCPUFreq`` → ``ave-cpu-freq``) with a unit suffix for the fields
the seed lists (``Elapsed`` → ``elapsed-seconds``, ``Submit`` → ``submit-time``, ``AveDiskRead`` →
``ave-disk-read-bytes``, ...); ``JobID`` becomes ``job-id`` (the id as printed, without its step) and ``step``.

Values: durations → seconds (float); timestamps → epoch seconds read in the given time zone; sizes with K/M/G/T/P
suffixes → 1024-based for byte fields (memory, RSS, VM size, disk read/write), 1000-based otherwise (frequencies,
pages, energy); counts → nullable integers. ``Unknown``, ``None``, ``UNLIMITED``, ``Partition_Limit``, ``INVALID``,
Slurm JSON's NO_VAL and INFINITE, and empty → null, never 0. ``state`` is the state word in upper case
(``CANCELLED by 123`` → ``CANCELLED``, ``completed`` → ``COMPLETED``).

Modules, in the order a parse runs: :mod:`~core.sacct.fields` (the field catalogue and result types),
:mod:`~core.sacct.encoding` (UTF-16 and line breaks made plain, what is not text refused),
:mod:`~core.sacct.readers` (which reader: :mod:`~core.sacct.layout` detects fixed width or the delimiter, then
:mod:`~core.sacct.delimited` or :mod:`~core.sacct.fixed_width` reads bytes into the raw Arrow columns of
:mod:`~core.sacct.raw`), :mod:`~core.sacct.convert` (raw strings to numbers, column by column),
:mod:`~core.sacct.slurm_json` (``--json``), then :mod:`~core.sacct.metrics` (per-job efficiency),
:mod:`~core.sacct.advice` (findings) and :mod:`~core.sacct.writer` (back to ``--parsable2``).

The work is vectorised: pyarrow's CSV reader splits the bytes (into fields, or for fixed width into lines that
``binary_slice`` cuts at sacct's byte offsets), and Arrow kernels and numpy over the values' bytes convert whole
columns, each distinct value once where values repeat and that costs less than converting every row. Delimited
input is read and converted in blocks of whole lines, side by side on a thread pool; a fixed-width table's columns
are converted side by side. Columns stay in Arrow until the frame is built. Python loops run only over the rare
rows that need a decision (truncated fixed-width values, rows with the wrong field count, records split by a line
break inside a value).
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import SacctParseError
from core.sacct.bounds import out_of_range
from core.sacct.convert import (
    convert_table,
    counts_to_integers,
    durations_to_seconds,
    size_scopes,
    sizes_to_numbers,
    timestamps_to_epoch,
)
from core.sacct.encoding import EXPECTED, NotUtf8, decode_text, from_utf16
from core.sacct.fields import (
    JOB_STATES,
    KNOWN_FIELDS,
    NULL_TOKENS,
    STEP_NAMES,
    UNIT_SUFFIXES,
    ParsedSacct,
    ParseWarning,
    canonical_field,
    column_name,
    cut_text,
    cut_values,
    kebab,
    order_columns,
    whole_values_hint,
)
from core.sacct.metrics import finished_that_ran, job_metrics, parent_job_id
from core.sacct.readers import read_text
from core.sacct.slurm_json import parse_json
from core.sacct.writer import to_parsable2

__all__ = [
    "JOB_STATES", "KNOWN_FIELDS", "NULL_TOKENS", "STEP_NAMES", "UNIT_SUFFIXES", "ParseWarning",
    "ParsedSacct", "canonical_field", "column_name", "counts_to_integers", "cut_text", "cut_values",
    "durations_to_seconds",
    "finished_that_ran", "job_metrics",
    "kebab", "parent_job_id", "parse_sacct", "size_scopes", "sizes_to_numbers", "timestamps_to_epoch",
    "to_parsable2", "whole_values_hint",
]


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
        text: the output, as text or bytes (UTF-8, or UTF-16 with or without a byte order mark).
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
    raw = from_utf16(text) if isinstance(text, bytes) else text.encode("utf-8", "replace")
    try:
        read = read_text(raw, fields, delimiter, warnings)
        if read is not None:
            return _in_range(ParsedSacct(convert_table(read[0], zone, warnings), warnings, read[1]))
    except NotUtf8:
        decode_text(raw)  # names the first byte that is not UTF-8
        raise SacctParseError("expected UTF-8 sacct text") from None
    # Not delimited or fixed-width text: JSON, or something to explain.
    body = decode_text(raw)
    if body.lstrip().startswith("{"):
        return _in_range(ParsedSacct(order_columns(parse_json(body, warnings)), warnings, "json"))
    raise SacctParseError(EXPECTED)


def _in_range(parsed: ParsedSacct) -> ParsedSacct:
    """``parsed`` with numbers no Slurm records left empty, each column with a warning (line 0: the whole input).

    See :func:`core.sacct.bounds.out_of_range`.
    """
    frame, messages = out_of_range(parsed.frame)
    if not messages:
        return parsed
    return ParsedSacct(frame, [*parsed.warnings, *(ParseWarning(0, m) for m in messages)], parsed.format)
