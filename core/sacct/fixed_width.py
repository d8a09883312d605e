"""The fixed-width reader: sacct's default output, cut into lines by pyarrow and into columns at its byte offsets.

Several tables in one input (two ``sacct`` calls appended, or "Resources:" and "Time:" of the same jobs) are joined
side by side when they print the same records, else stacked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.errors import SacctParseError
from core.sacct import raw
from core.sacct.encoding import free_byte, plain_breaks, unusual_breaks
from core.sacct.fields import ParseWarning
from core.sacct.layout import fixed_headers, unique_fields
from core.sacct.raw import Column, RawTable, Stacked, bools, strings_of


def read_fixed_width(
    raw: bytes, offset: int, warnings: list[ParseWarning]
) -> tuple[RawTable | Stacked, str] | None:
    """Fixed-width output cut into lines by pyarrow's CSV reader (one field per line, on several threads).

    Returns ``None`` when the input is not fixed width after all, or not UTF-8 (the caller names the byte).
    """
    splitter = free_byte(raw)
    if splitter is None:
        plain = plain_breaks(raw)
        return None if plain is None else read_fixed_width(plain, 0, warnings)
    reader_input = pa.BufferReader(pa.py_buffer(memoryview(raw)[offset:]))
    with ThreadPoolExecutor(max_workers=1) as pool:
        unusual = pool.submit(unusual_breaks, raw)  # scanned while pyarrow reads (its threads need no GIL)
        texts = _read_lines(reader_input, splitter)
        if unusual.result():
            plain = plain_breaks(raw)
            return None if plain is None else read_fixed_width(plain, 0, warnings)
        if texts is None:
            return None
    pairs = fixed_headers(texts)
    if not pairs:
        return None
    return _fixed_width(texts, pairs, warnings), "fixed-width"


def _read_lines(reader_input: pa.BufferReader, splitter: bytes) -> pa.Array | None:
    """Every line of the input as one string (line breaks removed), or None when it is not UTF-8."""
    try:
        return pacsv.read_csv(
            reader_input,
            read_options=pacsv.ReadOptions(column_names=["line"], block_size=raw.BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(
                delimiter=splitter.decode(), quote_char=False, escape_char=False, double_quote=False,
                newlines_in_values=False, ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}, strings_can_be_null=False),
        ).column(0).combine_chunks()
    except pa.ArrowInvalid:
        return None


def _fixed_width(texts: pa.Array, pairs: list[int], warnings: list[ParseWarning]) -> RawTable | Stacked:
    """The fixed-width tables headed at ``pairs``: side by side when they print the same records, else stacked."""
    tables: list[RawTable] = []
    bounds = [*pairs[1:], len(texts)]
    for header_at, end in zip(pairs, bounds, strict=True):
        tables.append(_one_fixed_table(texts, header_at, end, warnings))
    groups: list[RawTable] = [tables[0]]
    for header_at, table in zip(pairs[1:], tables[1:], strict=True):
        if _same_records(groups[-1], table):
            # Several tables pasted one after another (e.g. "Resources:" and "Time:" of the same job): row i of
            # each table is the same record, so the columns are joined side by side.
            merged = groups[-1]
            for f in table.fields:
                if f not in merged.columns:
                    merged.fields.append(f)
                    merged.columns[f] = table.columns[f]
            merged.truncated = merged.truncated or table.truncated
        else:
            if "JobID" not in table.fields or "JobID" not in groups[-1].fields:
                warnings.append(ParseWarning(header_at + 1, "a table with other rows and no JobID to match them "
                                                            "follows; its rows are added after the table above"))
            groups.append(table)
    return groups[0] if len(groups) == 1 else Stacked(groups)


def _same_records(table: RawTable, other: RawTable) -> bool:
    """Whether two fixed-width tables print the same records row by row (their JobIDs agree, where both have one)."""
    if len(table.lines) != len(other.lines):
        return False
    if "JobID" not in table.fields or "JobID" not in other.fields:
        return True
    ids, others = strings_of(table.columns["JobID"]), strings_of(other.columns["JobID"])
    table.columns["JobID"], other.columns["JobID"] = ids, others  # cut once
    # A narrower column may cut an id ("16290213.ba+"): the shorter one is then a prefix of the longer.
    return all(a.rstrip("+").startswith(b.rstrip("+")) or b.rstrip("+").startswith(a.rstrip("+"))
               for a, b in zip(ids.to_pylist(), others.to_pylist(), strict=True))


def _one_fixed_table(texts: pa.Array, header_at: int, end: int, warnings: list[ParseWarning]) -> RawTable:
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
    fields, read_from = unique_fields(names, header_at + 1, warnings)
    width = spans[-1][1]
    rows = texts.slice(header_at + 2, max(0, end - header_at - 2))
    numbers = np.arange(header_at + 3, header_at + 3 + len(rows), dtype=np.int64)
    with ThreadPoolExecutor(max_workers=3) as pool:  # three scans of every row at once
        # Blank lines, lines ending with a colon (maybe a label such as "Time:"), and lines of ASCII only.
        scans = [pool.submit(lambda check: bools(check(rows)), check) for check in _ROW_SCANS]
        blank, label, ascii_ = (scan.result() for scan in scans)
    if label.any():
        at = np.flatnonzero(label)
        label[at] = bools(pc.match_substring_regex(rows.take(pa.array(at)), r"^\s*[^ ]*:\s*$"))
    keep = ~(blank | label)
    too_long = bools(pc.greater(pc.binary_length(rows), width + 1)) & ascii_
    if too_long.any():  # trailing blanks do not count
        at = np.flatnonzero(too_long)
        too_long[at] = bools(pc.greater(pc.binary_length(pc.utf8_rtrim_whitespace(rows.take(pa.array(at)))),
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
    columns: dict[str, Column] = {f: partial(cut, k, *spans[k]) for f, k in zip(fields, read_from, strict=True)}
    return RawTable(fields, columns, numbers[keep], truncated=True)


_ASCII_TEXT = pc.CastOptions(target_type=pa.string(), allow_invalid_utf8=True)


_ROW_SCANS: tuple[Callable[[pa.Array], pa.Array], ...] = (
    partial(pc.match_substring_regex, pattern=r"^\s*$"),
    partial(pc.match_substring_regex, pattern=r":\s*$"),
    pc.string_is_ascii,
)
