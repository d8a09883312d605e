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

from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import SacctParseError
from core.sacct.convert import (
    _convert_table,
    counts_to_integers,
    durations_to_seconds,
    size_scopes,
    sizes_to_numbers,
    timestamps_to_epoch,
)
from core.sacct.fields import (
    JOB_STATES,
    KNOWN_FIELDS,
    NULL_TOKENS,
    STEP_NAMES,
    UNIT_SUFFIXES,
    ParsedSacct,
    ParseWarning,
    _order,
    canonical_field,
    column_name,
    kebab,
)
from core.sacct.metrics import job_metrics, parent_job_id
from core.sacct.readers import _decode, _NotUtf8, _read_fast, _read_text
from core.sacct.slurm_json import _parse_json
from core.sacct.writer import to_parsable2

__all__ = [
    "JOB_STATES", "KNOWN_FIELDS", "NULL_TOKENS", "STEP_NAMES", "UNIT_SUFFIXES", "ParseWarning",
    "ParsedSacct", "canonical_field", "column_name", "counts_to_integers", "durations_to_seconds", "job_metrics",
    "kebab", "parent_job_id", "parse_sacct", "size_scopes", "sizes_to_numbers", "timestamps_to_epoch",
    "to_parsable2",
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

