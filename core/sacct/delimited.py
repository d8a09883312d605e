"""The delimited reader: ``--parsable`` and ``--parsable2`` rows read by pyarrow's streaming CSV reader in blocks.

A parse holds a bounded share of the input at a time (:data:`core.sacct.raw.BLOCK_SIZE`). Rows with the wrong
field count are skipped by pyarrow and looked at afterwards: a record broken over lines by a line break inside a
value is joined again, anything else is a warning naming its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from core.errors import SacctParseError
from core.sacct import raw
from core.sacct.encoding import NotUtf8
from core.sacct.fields import ParseWarning
from core.sacct.layout import unique_fields
from core.sacct.raw import Batches, RawTable, Rejoined


def read_delimited(
    blob: bytes | memoryview, start: int, names: Sequence[str], delim: str, trailing: bool,
    warnings: list[ParseWarning],
) -> Batches:
    """Delimited rows (``start`` is the 0-based line index of the blob's first line) read by pyarrow in blocks."""
    fields, at = unique_fields(names, max(start, 1), warnings)
    rejoined: list[Rejoined] = []
    batches = _read_batches(blob, start, len(names), fields, at, delim, trailing, warnings, rejoined)
    return Batches(fields, batches, rejoined)


def _read_batches(
    blob: bytes | memoryview, start: int, count: int, fields: list[str], at: list[int], delim: str, trailing: bool,
    warnings: list[ParseWarning], rejoined: list[Rejoined],
) -> Iterator[RawTable]:
    columns = [f"c{i}" for i in range(count + (1 if trailing else 0))]
    if not re.search(rb"\S", blob):  # nothing but blank lines
        yield RawTable(fields, {f: pa.array([], pa.string()) for f in fields}, np.zeros(0, dtype=np.int64))
        return
    bad: list[str] = []

    def on_invalid(row: Any) -> str:
        bad.append(str(row.text))  # (row.number is unknown when pyarrow reads blocks in parallel)
        return "skip"

    try:
        for batch in _open_csv(blob, columns, delim, on_invalid):
            # Line numbers only matter for fixed-width warnings; delimited rows need just their count here.
            out = {f: batch.column(i) for f, i in zip(fields, at, strict=True)}
            yield RawTable(fields, out, np.zeros(batch.num_rows, dtype=np.int64))
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "UTF-8" in str(exc):
            raise NotUtf8 from None
        raise SacctParseError(f"line {start + 1}: unreadable delimited data ({exc})") from None
    if bad:
        lines = bytes(blob).decode("utf-8").splitlines()
        found = sorted(zip(_line_numbers_of(lines, 0, bad), bad, strict=True))
        rejoined.extend(_rejoin(found, lines, start, len(columns), delim, at, warnings))


def _rejoin(
    bad: list[tuple[int, str]], lines: list[str], start: int, expected: int, delim: str, at: list[int],
    warnings: list[ParseWarning],
) -> Iterator[Rejoined]:
    """Records broken over consecutive lines by a line break inside a value, joined; the other bad lines warned.

    ``bad`` holds the skipped lines (1-based in ``lines``) in order; a run of them whose fields add up to the
    expected count (the break splits one field in two) is one record whose value keeps its line break.
    """
    # Rows read before each line: pyarrow skips empty lines, and the bad lines themselves.
    kept = np.cumsum([bool(line) for line in lines])
    bad_numbers = np.array([number for number, _ in bad], dtype=np.int64)
    i = 0
    while i < len(bad):
        number, text = bad[i]
        pieces, j = len(text.split(delim)), i
        while pieces < expected and j + 1 < len(bad) and bad[j + 1][0] == bad[j][0] + 1:
            j += 1
            pieces += len(bad[j][1].split(delim)) - 1
        if j > i and pieces == expected:
            values = "\n".join(line for _, line in bad[i:j + 1]).split(delim)
            row = int(kept[number - 2]) if number > 1 else 0
            row -= int(np.searchsorted(bad_numbers, number))
            warnings.append(ParseWarning(number + start, f"a value spans lines {number + start}-{bad[j][0] + start} "
                                                         "(a line break inside it); read as one record"))
            yield Rejoined(row, number + start, [values[k] for k in at])
            i = j + 1
            continue
        got = len(text.split(delim))
        warnings.append(ParseWarning(number + start, f"expected {expected} fields, found {got}; line skipped"))
        i += 1


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


#: Pieces pyarrow parses a block in: its parser costs less on pieces that stay in the CPU's cache, the conversion
#: less on whole blocks.
PIECES = 4


def _open_csv(blob: bytes | memoryview, columns: list[str], sep: str, on_invalid: Any) -> Iterator[pa.RecordBatch]:
    """Pyarrow's streaming CSV reader: every field a string, blocks of :data:`core.sacct.raw.BLOCK_SIZE` bytes.

    Each block is parsed in :data:`PIECES` pieces, joined again for the conversion; the first piece is handed on
    alone, so that the conversion starts as soon as it can.
    """
    group: list[pa.RecordBatch] = []
    size = 1
    for batch in _stream(blob, columns, sep, on_invalid, max(raw.BLOCK_SIZE // PIECES, 1)):
        group.append(batch)
        if len(group) == size:
            yield _joined(group)
            group, size = [], PIECES
    if group:
        yield _joined(group)


def _joined(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """Record batches as one (each column one array)."""
    if len(batches) == 1:
        return batches[0]
    joined = pa.Table.from_batches(batches).combine_chunks().to_batches()
    return joined[0] if len(joined) == 1 else batches[0]  # no batch: every piece was empty


def _stream(
    blob: bytes | memoryview, columns: list[str], sep: str, on_invalid: Any, block_size: int,
) -> Iterator[pa.RecordBatch]:
    # Parsed in the calling thread: the conversion of the previous block keeps the other cores busy.
    reader = pacsv.open_csv(
        pa.BufferReader(pa.py_buffer(blob)),
        read_options=pacsv.ReadOptions(column_names=columns, block_size=block_size, use_threads=False),
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
