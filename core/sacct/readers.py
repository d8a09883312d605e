"""Format detection and readers: sacct text (delimited or fixed width) from its bytes into raw Arrow string columns.

One path reads every text format: the head of the input says what it is (a header and a dashes line: fixed width; a
header of field names and what separates them: delimited with that delimiter; no header: the field list given and the
delimiter that splits the lines into that many fields). Delimited output is then read by pyarrow's streaming CSV
reader in blocks of :data:`BLOCK_SIZE` bytes, so a parse holds a bounded share of the input at a time; fixed-width
output is cut into lines by the same reader and into columns by ``binary_slice`` at sacct's byte offsets. Line
breaks pyarrow does not know (vertical tab, U+2028, a lone carriage return) are made newlines first.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.errors import SacctParseError
from core.sacct.fields import _CANONICAL, ParseWarning, canonical_field

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



#: Bytes looked at to tell UTF-16 text without a byte order mark: a header line and the first records.
_UTF16_SAMPLE = 4096


def _utf16_codec(raw: bytes) -> tuple[str, int] | None:
    """The codec of UTF-16 text (``utf-16-le`` or ``-be``) and where the text starts; ``None`` for anything else.

    A byte order mark is certain. Without one, sacct's ASCII header and values put a NUL in every other byte: at
    least 9 of 10 code units of the sample with a NUL high byte, and no NUL character (which text never holds).
    """
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return None  # UTF-32's LE mark begins with UTF-16's; it is refused as binary
    if raw.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if raw.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    sample = raw[: min(len(raw), _UTF16_SAMPLE) // 2 * 2]
    units = len(sample) // 2
    if units < 2 or any(low == 0 and high == 0 for low, high in zip(sample[0::2], sample[1::2], strict=True)):
        return None
    for codec, high in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
        if high.count(0) * 10 >= units * 9:
            return codec, 0
    return None


def _from_utf16(raw: bytes) -> bytes:
    """UTF-16 text (with or without a byte order mark) as UTF-8; any other input unchanged.

    Windows tools (PowerShell's ``>``, Notepad's "Unicode") save sacct output as UTF-16; what is decoded still has
    to be sacct output to be accepted, so a binary file taken for UTF-16 is refused as not sacct.
    """
    found = _utf16_codec(raw)
    if found is None:
        return raw
    codec, start = found
    try:
        return raw[start:].decode(codec).encode("utf-8")
    except UnicodeDecodeError as exc:
        why = "starts with a UTF-16 byte order mark" if start else "looks like UTF-16 text"
        raise SacctParseError(f"expected UTF-8 or UTF-16 sacct text; the input {why} but byte {start + exc.start} "
                              f"is not UTF-16 ({exc.reason}): save it as UTF-8") from None


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


def _fixed_headers(texts: pa.Array) -> list[int]:
    """Indices of the lines that head a fixed-width table: field names followed by a line of dashes."""
    dashes = np.flatnonzero(_bools(pc.match_substring_regex(texts, _DASHES.pattern)))
    return [int(i) - 1 for i in dashes if i > 0 and _is_header(texts[int(i) - 1].as_py().split())]


#: Line breaks other than "\n" (and "\r\n") that str.splitlines knows, as UTF-8: pyarrow does not split on them.
_ODD_BREAK_BYTES = tuple(c.encode("utf-8") for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _read_bytes(
    raw: bytes, fields: Sequence[str] | None, delimiter: str | None, warnings: list[ParseWarning]
) -> tuple[_Table | _Batches | _Stacked, str] | None:
    """Delimited or fixed-width output read from its bytes into Arrow, without decoding it into Python lines.

    Returns ``None`` for anything else (JSON, binary, no header, a head that is not UTF-8), which the caller then
    reads or explains. pyarrow checks the UTF-8 of every field (:class:`_NotUtf8`).
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
    if _DASHES.match(following) or _DASHES.match(head):
        return _read_fixed_fast(raw, offset, warnings)
    first_no = raw.count(b"\n", 0, line_start)  # 0-based line index of the header (or first data line)
    sample_end = line_end
    for _ in range(_SAMPLE_LINES - 1):  # the first lines only: decoding more costs a large input's parse time
        found_end = raw.find(b"\n", sample_end + 1, sample_end + (1 << 16))
        if found_end < 0:
            sample_end = min(len(raw), sample_end + (1 << 16))
            break
        sample_end = found_end
    prefix = raw[line_start:sample_end].decode("utf-8", "replace").removeprefix("\ufeff")
    sample = [line for line in prefix.splitlines() if line.strip()]
    found: list[ParseWarning] = []  # kept only if this call reads the input (a second one would warn again)
    layout = _delimited_layout(sample, first_no, fields, delimiter, found)
    if layout is None:
        # No delimited header: fixed-width tables may still follow a label line ("Resources:").
        return _read_fixed_fast(raw, offset, warnings)
    # Whole-input scans last, once the head says what the input is.
    sep = layout.delimiter
    multibyte = len(sep.encode("utf-8")) != 1
    if _unusual_breaks(raw) or (multibyte and _free_byte(raw) is None):
        plain = _plain_breaks(raw)
        return None if plain is None else _read_bytes(plain, fields, delimiter, warnings)
    data_at, data_no = (line_end + 1, first_no + 1) if layout.header else (line_start, first_no)
    blob: bytes | memoryview = memoryview(raw)[min(data_at, len(raw)):]
    free = _free_byte(raw) if multibyte else None
    if free is not None:
        # pyarrow splits on one byte: a multi-byte delimiter (reportseff's "^|^") becomes a byte the input lacks.
        blob, sep = bytes(blob).replace(sep.encode("utf-8"), free), free.decode()
    warnings.extend(found)
    return _delimited_bytes(blob, data_no, layout.names, sep, layout.trailing, warnings), layout.format


def _unusual_breaks(raw: bytes) -> bool:
    """Whether ``raw`` has line breaks that str.splitlines knows and pyarrow does not, or a lone carriage return."""
    # A multi-byte break's first byte is looked for first: a one-byte search is several times faster.
    return any(b[:1] in raw and b in raw for b in _ODD_BREAK_BYTES) or (
        b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"))


def _plain_breaks(raw: bytes) -> bytes | None:
    """``raw`` with every line break that str.splitlines knows made a newline (``None`` if it is not UTF-8)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "\n".join(text.removeprefix("\ufeff").splitlines()).encode("utf-8")


#: Bytes that stand in for a multi-byte delimiter, or split lines for pyarrow's reader, when the input lacks one.
#: The last three are line breaks for str.splitlines, so input whose breaks were made newlines lacks them.
_STAND_INS = (b"\x1f", b"\x01", b"\x02", b"\x03", b"\t", b"\x1e", b"\x1d", b"\x1c")


def _free_byte(raw: bytes) -> bytes | None:
    return next((b for b in _STAND_INS if b not in raw), None)


def _read_fixed_fast(
    raw: bytes, offset: int, warnings: list[ParseWarning]
) -> tuple[_Table | _Stacked, str] | None:
    """Fixed-width output cut into lines by pyarrow's CSV reader (one field per line, on several threads).

    Returns ``None`` when the input is not fixed width after all, or not UTF-8 (the caller names the byte).
    """
    splitter = _free_byte(raw)
    if splitter is None:
        plain = _plain_breaks(raw)
        return None if plain is None else _read_fixed_fast(plain, 0, warnings)
    reader_input = pa.BufferReader(pa.py_buffer(memoryview(raw)[offset:]))
    with ThreadPoolExecutor(max_workers=1) as pool:
        unusual = pool.submit(_unusual_breaks, raw)  # scanned while pyarrow reads (its threads need no GIL)
        texts = _read_lines(reader_input, splitter)
        if unusual.result():
            plain = _plain_breaks(raw)
            return None if plain is None else _read_fixed_fast(plain, 0, warnings)
        if texts is None:
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


class _Rejoined(NamedTuple):
    """A record whose value held a line break: its values, and the rows read before it (where it belongs)."""

    row: int
    line: int
    values: list[str]


@dataclass
class _Batches:
    """A delimited table read lazily in blocks: each block is converted and freed before the next is read.

    ``rejoined`` is filled once the blocks are read: records split over several lines by a line break inside a
    value, joined again, to be put back in their place.
    """

    fields: list[str]
    batches: Iterator[_Table]
    rejoined: list[_Rejoined] = field(default_factory=list)


def _delimited_bytes(
    blob: bytes | memoryview, start: int, names: Sequence[str], delim: str, trailing: bool,
    warnings: list[ParseWarning],
) -> _Batches:
    """Delimited rows (``start`` is the 0-based line index of the blob's first line) read by pyarrow in blocks."""
    fields, at = _unique_fields(names, max(start, 1), warnings)
    rejoined: list[_Rejoined] = []
    batches = _read_batches(blob, start, len(names), fields, at, delim, trailing, warnings, rejoined)
    return _Batches(fields, batches, rejoined)


def _unique_fields(names: Sequence[str], line: int, warnings: list[ParseWarning]) -> tuple[list[str], list[int]]:
    """Each field once (``--format=State,State`` prints it twice), with the column it is read from: its first."""
    fields: list[str] = []
    at: list[int] = []
    for i, name in enumerate(names):
        f = canonical_field(name)
        if f in fields:
            warnings.append(ParseWarning(line, f"{f} appears more than once in the header; its first column is read"))
        else:
            if f.lower() not in _CANONICAL:
                warnings.append(ParseWarning(line, f"{f} is not a field sacct is known to print; its values are "
                                                   "kept as text"))
            fields.append(f)
            at.append(i)
    return fields, at


def _read_batches(
    blob: bytes | memoryview, start: int, count: int, fields: list[str], at: list[int], delim: str, trailing: bool,
    warnings: list[ParseWarning], rejoined: list[_Rejoined],
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
        found = sorted(zip(_line_numbers_of(lines, 0, bad), bad, strict=True))
        rejoined.extend(_rejoin(found, lines, start, len(columns), delim, at, warnings))


def _rejoin(
    bad: list[tuple[int, str]], lines: list[str], start: int, expected: int, delim: str, at: list[int],
    warnings: list[ParseWarning],
) -> Iterator[_Rejoined]:
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
            yield _Rejoined(row, number + start, [values[k] for k in at])
            i = j + 1
            continue
        got = len(text.split(delim))
        warnings.append(ParseWarning(number + start, f"expected {expected} fields, found {got}; line skipped"))
        i += 1


#: Lines looked at to detect the delimiter and the trailing delimiter of ``--parsable``.
_SAMPLE_LINES = 50


@dataclass(frozen=True)
class _Layout:
    """How delimited output is laid out: its field names, delimiter, trailing delimiter, and header line."""

    names: list[str]
    delimiter: str
    trailing: bool
    header: bool

    @property
    def format(self) -> str:
        return "parsable" if self.trailing else "parsable2"


_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _header_delimiter(head: str) -> tuple[str, bool] | None:
    """The delimiter between the field names of a header line, and whether it also ends the line (``--parsable``).

    Field names are letters and digits, so whatever separates them is the delimiter: ``|``, ``^|^``, a tab, ``;``.
    """
    names = _NAME.findall(head)
    gaps = _NAME.split(head)  # the text before, between and after the names
    if len(names) < 2 or gaps[0] != "":
        return None
    delim = gaps[1]
    if not delim.strip(" ") or any(g != delim for g in gaps[1:-1]):
        return None  # no gap, blanks only (fixed width), or gaps that differ
    if gaps[-1] not in ("", delim):
        return None
    return delim, gaps[-1] == delim


def _data_delimiter(sample: Sequence[str], want: int) -> str | None:
    """The delimiter that splits most sample lines into ``want`` fields, or one more (``--parsable``).

    Candidates are the runs of punctuation in the lines and their characters; the one that fits the most lines wins,
    the longer on a tie (``^|^`` over ``|``). Lines broken by a line break inside a value fit none, so a majority
    decides.
    """
    runs: set[str] = {run for line in sample for run in re.findall(r"[^A-Za-z0-9 ]+", line)}
    candidates = runs | {c for run in runs for c in run}
    fits = {cand: _fits(cand, sample, want) for cand in candidates}
    best = max(fits, key=lambda c: (fits[c], len(c), c == "|"), default=None)
    return best if best is not None and 2 * fits[best] > len(sample) else None


def _fits(delim: str, sample: Sequence[str], want: int) -> int:
    """How many sample lines ``delim`` splits into ``want`` fields, or one more."""
    return sum(1 for line in sample if len(line.split(delim)) in (want, want + 1))


def _delimited_layout(
    sample: Sequence[str], first: int, fields: Sequence[str] | None, delimiter: str | None,
    warnings: list[ParseWarning],
) -> _Layout | None:
    """The layout of delimited output from its first non-blank lines (``first`` is the 0-based index of the first).

    A header line decides by itself (its delimiter wins over a different ``delimiter`` given, with a warning);
    headerless output needs ``fields``, and its delimiter is ``delimiter`` or detected from the lines.
    """
    if not sample:
        return None
    head = sample[0]
    found = _header_delimiter(head)
    if found is None and delimiter and _is_header(head.split(delimiter)):
        tokens = head.split(delimiter)
        found = (delimiter, len(tokens) > 1 and tokens[-1] == "")
    if found is not None:
        delim, trailing = found
        tokens = head.split(delim)
        names = tokens[:-1] if trailing else tokens
        if _is_header(names):
            if delimiter and delimiter != delim:
                warnings.append(ParseWarning(first + 1, f"the header is delimited by {delim!r}, not the given "
                                                        f"{delimiter!r}; the lines are read with {delim!r}"))
            return _Layout(names, delim, trailing, header=True)
    if not fields:
        return None
    names = [canonical_field(f) for f in fields]
    want = len(names)
    detected = _data_delimiter(sample, want)
    sep = delimiter or detected
    if sep is None:
        return None
    if delimiter and detected and delimiter != detected:
        given_fits, detected_fits = _fits(delimiter, sample, want), _fits(detected, sample, want)
        # "|" given for reportseff's "^|^" would leave carets on every value; ";" given for "|" would skip every line.
        if (delimiter in detected and detected_fits >= given_fits) or 2 * given_fits <= len(sample):
            warnings.append(ParseWarning(first + 1, f"the lines are delimited by {detected!r}, not {delimiter!r}; "
                                                    f"they are read with {detected!r}"))
            sep = detected
    # --parsable ends every line with the delimiter: one field more, empty. Most lines decide; a line of ``want``
    # fields that ends with the delimiter does not (an empty last value, or the tail of a value broken by a newline).
    ends = sum(1 for line in sample if len(line.split(sep)) == want + 1 and line.endswith(sep))
    fits = sum(1 for line in sample if len(line.split(sep)) == want and not line.endswith(sep))
    return _Layout(names, sep, trailing=ends > fits, header=False)


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


@dataclass
class _Stacked:
    """Tables whose rows follow one another (two ``sacct`` calls appended to one file)."""

    tables: list[_Table]

    @property
    def fields(self) -> list[str]:
        return list(dict.fromkeys(f for table in self.tables for f in table.fields))


def _fixed_width(texts: pa.Array, pairs: list[int], warnings: list[ParseWarning]) -> _Table | _Stacked:
    """The fixed-width tables headed at ``pairs``: side by side when they print the same records, else stacked."""
    tables: list[_Table] = []
    bounds = [*pairs[1:], len(texts)]
    for header_at, end in zip(pairs, bounds, strict=True):
        tables.append(_one_fixed_table(texts, header_at, end, warnings))
    groups: list[_Table] = [tables[0]]
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
    return groups[0] if len(groups) == 1 else _Stacked(groups)


def _same_records(table: _Table, other: _Table) -> bool:
    """Whether two fixed-width tables print the same records row by row (their JobIDs agree, where both have one)."""
    if len(table.lines) != len(other.lines):
        return False
    if "JobID" not in table.fields or "JobID" not in other.fields:
        return True
    ids, others = _strings_of(table.columns["JobID"]), _strings_of(other.columns["JobID"])
    table.columns["JobID"], other.columns["JobID"] = ids, others  # cut once
    # A narrower column may cut an id ("16290213.ba+"): the shorter one is then a prefix of the longer.
    return all(a.rstrip("+").startswith(b.rstrip("+")) or b.rstrip("+").startswith(a.rstrip("+"))
               for a, b in zip(ids.to_pylist(), others.to_pylist(), strict=True))


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

