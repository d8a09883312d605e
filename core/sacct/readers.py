"""Sacct text (delimited or fixed width) from its bytes into raw Arrow string columns.

One path reads every text format: the head of the input says what it is (:mod:`~core.sacct.layout`: a header and a
dashes line: fixed width; a header of field names and what separates them: delimited with that delimiter; no header:
the field list given and the delimiter that splits the lines into that many fields), then
:mod:`~core.sacct.delimited` or :mod:`~core.sacct.fixed_width` reads it. Line breaks pyarrow does not know
(vertical tab, U+2028, a lone carriage return) are made newlines first (:mod:`~core.sacct.encoding`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.sacct.delimited import read_delimited
from core.sacct.encoding import free_byte, plain_breaks, unusual_breaks
from core.sacct.fields import ParseWarning
from core.sacct.fixed_width import read_fixed_width
from core.sacct.layout import DASHES, SAMPLE_LINES, delimited_layout
from core.sacct.raw import Batches, RawTable, Stacked


def read_text(
    raw: bytes, fields: Sequence[str] | None, delimiter: str | None, warnings: list[ParseWarning]
) -> tuple[RawTable | Batches | Stacked, str] | None:
    """Delimited or fixed-width output read from its bytes into Arrow, without decoding it into Python lines.

    Returns ``None`` for anything else (JSON, binary, no header, a head that is not UTF-8), which the caller then
    reads or explains. The readers check that every field is UTF-8 (:class:`NotUtf8`).
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
    if DASHES.match(following) or DASHES.match(head):
        return read_fixed_width(raw, offset, warnings)
    first_no = raw.count(b"\n", 0, line_start)  # 0-based line index of the header (or first data line)
    sample_end = line_end
    for _ in range(SAMPLE_LINES - 1):  # the first lines only: decoding more costs a large input's parse time
        found_end = raw.find(b"\n", sample_end + 1, sample_end + (1 << 16))
        if found_end < 0:
            sample_end = min(len(raw), sample_end + (1 << 16))
            break
        sample_end = found_end
    prefix = raw[line_start:sample_end].decode("utf-8", "replace").removeprefix("\ufeff")
    sample = [line for line in prefix.splitlines() if line.strip()]
    found: list[ParseWarning] = []  # kept only if this call reads the input (a second one would warn again)
    layout = delimited_layout(sample, first_no, fields, delimiter, found)
    if layout is None:
        # No delimited header: fixed-width tables may still follow a label line ("Resources:").
        return read_fixed_width(raw, offset, warnings)
    # Whole-input scans last, once the head says what the input is.
    sep = layout.delimiter
    multibyte = len(sep.encode("utf-8")) != 1
    if unusual_breaks(raw) or (multibyte and free_byte(raw) is None):
        plain = plain_breaks(raw)
        return None if plain is None else read_text(plain, fields, delimiter, warnings)
    data_at, data_no = (line_end + 1, first_no + 1) if layout.header else (line_start, first_no)
    blob: bytes | memoryview = memoryview(raw)[min(data_at, len(raw)):]
    free = free_byte(raw) if multibyte else None
    if free is not None:
        # pyarrow splits on one byte: a multi-byte delimiter (reportseff's "^|^") becomes a byte the input lacks.
        blob, sep = bytes(blob).replace(sep.encode("utf-8"), free), free.decode()
    warnings.extend(found)
    return read_delimited(blob, data_no, layout.names, sep, layout.trailing, warnings), layout.format
