"""The delimited reader: ``--parsable`` and ``--parsable2`` rows read by pyarrow's CSV reader in blocks of whole lines.

A parse holds a bounded share of the input at a time (:data:`core.sacct.raw.BLOCK_SIZE`). Rows with the wrong
field count are skipped by pyarrow and looked at afterwards: a record broken over lines by a line break inside a
value is joined again, anything else is a warning naming its line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from core.errors import SacctParseError
from core.sacct import raw
from core.sacct.encoding import NotUtf8
from core.sacct.fields import ParseWarning
from core.sacct.layout import unique_fields
from core.sacct.raw import Batches, Column, RawTable, Rejoined


def read_delimited(
    blob: bytes | memoryview, start: int, names: Sequence[str], delim: str, trailing: bool,
    warnings: list[ParseWarning],
) -> Batches:
    """Delimited rows (``start`` is the 0-based line index of the blob's first line), to be read block by block.

    Each block is whole lines of :data:`core.sacct.raw.BLOCK_SIZE` bytes or so, read when its reader is called
    (on any thread: pyarrow's parser needs no GIL), so that blocks are read and converted side by side.
    """
    fields, at = unique_fields(names, max(start, 1), warnings)
    columns = [f"c{i}" for i in range(len(names) + (1 if trailing else 0))]
    if not re.search(rb"\S", blob):  # nothing but blank lines
        empty = RawTable(fields, {f: pa.array([], pa.string()) for f in fields}, np.zeros(0, dtype=np.int64))
        return Batches(fields, iter([lambda: empty]), list)
    skipped: list[list[str]] = []  # per block, in the blocks' order: the lines pyarrow skipped

    def blocks() -> Iterator[Callable[[], RawTable]]:
        for piece in _pieces(blob):
            skipped.append([])
            yield partial(_read_block, piece, start, columns, fields, at, delim, skipped[-1])

    def rejoin() -> list[Rejoined]:
        bad = [text for block in skipped for text in block]
        if not bad:
            return []
        lines = bytes(blob).decode("utf-8").splitlines()
        found = sorted(zip(_line_numbers_of(lines, 0, bad), bad, strict=True))
        return list(_rejoin(found, lines, start, len(columns), delim, at, warnings))

    return Batches(fields, blocks(), rejoin)


def _pieces(blob: bytes | memoryview) -> Iterator[pa.Buffer]:
    """The blob in pieces of whole lines, each :func:`_block_size` bytes or a line more."""
    data = np.frombuffer(blob, dtype=np.uint8)
    buffer = pa.py_buffer(blob)
    size = _block_size(len(data))
    at = 0
    while at < len(data):
        end = min(at + size, len(data))
        while end < len(data) and data[end - 1] != _NEWLINE:  # to the end of the line the block ends in
            window = data[end:end + (1 << 16)]
            found = np.flatnonzero(window == _NEWLINE)
            end = end + int(found[0]) + 1 if len(found) else end + len(window)
        yield buffer.slice(at, end - at)
        at = end


_NEWLINE = ord("\n")

#: The smallest block worth a thread of its own.
SMALLEST_BLOCK = 1 << 20


def _block_size(total: int) -> int:
    """Bytes per block: at most :data:`core.sacct.raw.BLOCK_SIZE` and at least :data:`SMALLEST_BLOCK`.

    The count of blocks is a multiple of the CPUs' where it can be, so that no thread is left converting the last
    block alone while the others wait.
    """
    threads = os.cpu_count() or 1
    largest = max(raw.BLOCK_SIZE, 1)
    count = threads * -(-total // (threads * largest))
    count = max(1, min(count, total // min(SMALLEST_BLOCK, largest)))
    return -(-total // count)


def _read_block(
    piece: pa.Buffer, start: int, columns: list[str], fields: list[str], at: list[int], delim: str,
    skipped: list[str],
) -> RawTable:
    """One block's rows as raw string columns; the rows with the wrong field count go to ``skipped``."""

    def on_invalid(row: Any) -> str:
        skipped.append(str(row.text))
        return "skip"

    _check_utf8(piece)
    try:
        table = _read_csv(piece, columns, delim, on_invalid)
    except pa.ArrowInvalid as exc:
        raise SacctParseError(f"line {start + 1}: unreadable delimited data ({exc})") from None
    # Line numbers only matter for fixed-width warnings; delimited rows need just their count here.
    out: dict[str, Column] = {f: table.column(i).combine_chunks() for f, i in zip(fields, at, strict=True)}
    return RawTable(fields, out, np.zeros(table.num_rows, dtype=np.int64))


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


def _check_utf8(piece: pa.Buffer) -> None:
    """Raise :class:`NotUtf8` unless the block is UTF-8: checked whole, in Arrow, without a copy.

    Fields are separated by ASCII bytes, which are never part of a multi-byte character, so the block is UTF-8
    exactly when every field is; checking it at once costs a fifth of checking each field as the reader would.
    """
    whole = pa.Array.from_buffers(pa.binary(), 1, [None, pa.py_buffer(np.array([0, piece.size], np.int32)), piece])
    try:
        whole.cast(pa.string())
    except pa.ArrowInvalid:
        raise NotUtf8 from None


#: Pieces pyarrow parses a block in: its parser costs less on pieces that stay in the CPU's cache, the conversion
#: less on whole blocks.
PIECES = 4


def _read_csv(piece: pa.Buffer, columns: list[str], sep: str, on_invalid: Any) -> pa.Table:
    """Pyarrow's CSV reader on one block of UTF-8, in the calling thread: every field a string."""
    return pacsv.read_csv(
        pa.BufferReader(piece),
        read_options=pacsv.ReadOptions(
            column_names=columns, block_size=max(raw.BLOCK_SIZE // PIECES, 1), use_threads=False),
        parse_options=pacsv.ParseOptions(
            delimiter=sep, quote_char=False, escape_char=False, double_quote=False, newlines_in_values=False,
            ignore_empty_lines=True, invalid_row_handler=on_invalid,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            check_utf8=False,  # the block was checked whole (_check_utf8)
        ),
    )
