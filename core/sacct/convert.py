"""Value conversions: raw sacct strings → seconds, epoch seconds, bytes, counts and state words, column by column.

Arrow kernels and numpy over the values' bytes convert whole columns (each distinct value once where values repeat
and that costs less), on a thread pool: blocks of delimited input side by side, or a table's columns side by side.
Python loops run only over the rare rows that need a decision (truncated fixed-width values).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from itertools import chain, islice
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.sacct.fields import (
    BYTE_FIELDS,
    COUNT_FIELDS,
    DECIMAL_FIELDS,
    DURATION_FIELDS,
    JOB_STATES,
    NULL_TOKENS,
    STEP_NAMES,
    TIME_FIELDS,
    ParseWarning,
    column_name,
    new_warning,
    order_columns,
    whole_values_hint,
)
from core.sacct.raw import Batches, Column, RawTable, Rejoined, Stacked, bools, strings_of


def _str_mapper(dtype: pa.DataType) -> Any:
    return pd.StringDtype("pyarrow") if dtype == pa.string() else None



# --- Conversion ---------------------------------------------------------------------------------------------------

_DURATION = r"^(?:(?P<d>\d+)-)?(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d+(?:\.\d+)?)$"
_SIZE = r"^(?P<n>\d*\.?\d+)(?P<u>[KMGTPE]?)(?P<scope>[nc]?)$"
_UNIT_LETTERS = pa.array(["K", "M", "G", "T", "P", "E"])  # index + 1 = power of the base
_STRING = pd.StringDtype("pyarrow")
_NULL_STRING = pa.scalar(None, pa.string())
_NULL_SET = pa.array(NULL_TOKENS)
#: Per byte length from 1 to 255: whether a "no value" token is that long (the empty one is told by its length).
_NULL_LENGTH = np.zeros(256, dtype=bool)
_NULL_LENGTH[[len(token.encode()) for token in NULL_TOKENS if token]] = True
#: Per byte: whether a "no value" token starts with it.
_NULL_FIRST = np.zeros(256, dtype=bool)
_NULL_FIRST[[token.encode()[0] for token in NULL_TOKENS if token]] = True
assert "" in NULL_TOKENS

#: The most rows of a column read in the ways that cost less time but hold more memory per row (more than a block
#: of delimited input holds; a whole fixed-width table's columns, converted side by side, are read in the others).
_BLOCK_ROWS = 1 << 18

#: A converted column: float64 values (NaN for none) or an Arrow array (strings, nullable integers).
_Values: TypeAlias = np.ndarray | pa.Array


def _nullify(a: pa.Array) -> pa.Array:
    """Text with the "no value" tokens made null.

    Values are told apart by their lengths first (from the offsets, without reading them): an empty one is a token,
    and only those as long as another token are looked up (names, ids and counts seldom are).
    """
    def every_value_looked_up() -> pa.Array:
        return pc.if_else(pc.is_in(a, value_set=_NULL_SET), _NULL_STRING, a)

    if a.type != pa.string() or len(a) > _BLOCK_ROWS:  # a whole table's column: the lookup holds less memory
        return every_value_looked_up()
    offsets, data = _offsets_data(a)
    lengths = np.diff(offsets)
    maybe = np.flatnonzero(np.take(_NULL_LENGTH, lengths, mode="clip"))  # clip: no token is that long
    if len(maybe):  # and of those, the ones that start as a token does (ids and counts start with a digit)
        maybe = maybe[_NULL_FIRST[data[offsets[maybe]]]]
    if 4 * len(maybe) > len(a):  # many as long as a token: looking every value up costs less
        return every_value_looked_up()
    null = lengths == 0  # empty, or null already
    if len(maybe):
        null[maybe[bools(pc.is_in(a.take(pa.array(maybe)), value_set=_NULL_SET))]] = True
    if not null.any():
        return a
    # Null where a token was, by a validity bitmap over the same bytes (no copy of the column).
    return pa.StringArray.from_buffers(len(a), pa.py_buffer(offsets), pa.py_buffer(data),
                                       pa.py_buffer(np.packbits(~null, bitorder="little")))


def _valid(a: pa.Array) -> np.ndarray:
    """Which values are not null, as numpy (without reading a bitmap when there is no null)."""
    return np.ones(len(a), dtype=bool) if a.null_count == 0 else bools(a.is_valid())


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


def gather(values: np.ndarray, indices: np.ndarray, fill: Any = np.nan) -> np.ndarray:
    """``values`` at ``indices`` (per-row results from per-distinct-value results), ``fill`` where an index is -1."""
    padded = np.append(values, np.asarray([fill], dtype=values.dtype))
    gathered: np.ndarray = padded[indices]  # -1 picks the fill value appended last
    return gathered


def _take_rows(values: pa.Array, indices: np.ndarray) -> pa.Array:
    """:func:`gather` for Arrow values: per-row values from per-distinct values, null where the row was null."""
    return values.take(pa.array(indices, mask=indices < 0))


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


def _few_distinct(a: pa.Array, share: float = 0.25, sample: int = 5_000) -> bool:
    """Whether at most ``share`` of a column's first rows are distinct values.

    Then converting each distinct value once and gathering the results costs less than converting every row.
    """
    head = a.slice(0, sample)
    return len(head) > 0 and pc.count_distinct(head).as_py() <= len(head) * share


def _per_value(
    a: pa.Array, convert: Callable[[pa.Array], np.ndarray], *, always: bool = False, share: float = 0.25,
) -> np.ndarray:
    """``convert`` (strings → float64 array) applied to each distinct value once when values repeat, else per row.

    ``share``: the most distinct values, as a share of the rows, for which that pays (it depends on the conversion).
    """
    if always or _few_distinct(a, share):
        distinct, indices = _distinct(a)
        return gather(convert(distinct), indices)
    return np.asarray(convert(a), dtype="float64")


def durations_to_seconds(values: Any) -> np.ndarray:
    """``D-HH:MM:SS``, ``HH:MM:SS``, ``MM:SS`` and ``MM:SS.mmm`` → float seconds; anything else → NaN."""
    return _per_value(_text(values), _durations)


#: The layouts sacct prints durations in ("d" a digit), read from their bytes in one pass: per digit group, where
#: it is and what one unit of it is worth in seconds (a fraction's digits are read with its seconds).
_DURATION_LAYOUTS: dict[bytes, tuple[tuple[int, int, float], ...]] = {
    b"dd:dd:dd": ((0, 2, 3600.0), (3, 5, 60.0), (6, 8, 1.0)),
    b"dd:dd.ddd": ((0, 2, 60.0), (3, 5, 1.0)),
    b"dd:dd": ((0, 2, 60.0), (3, 5, 1.0)),
    b"d-dd:dd:dd": ((0, 1, 86400.0), (2, 4, 3600.0), (5, 7, 60.0), (8, 10, 1.0)),
    b"dd-dd:dd:dd": ((0, 2, 86400.0), (3, 5, 3600.0), (6, 8, 60.0), (9, 11, 1.0)),
    b"ddd-dd:dd:dd": ((0, 3, 86400.0), (4, 6, 3600.0), (7, 9, 60.0), (10, 12, 1.0)),
}

_LONGEST_LAYOUT = max(map(len, _DURATION_LAYOUTS))


def _durations(a: pa.Array) -> np.ndarray:
    """Durations in sacct's layouts read from their bytes; any other value through :data:`_DURATION` (RE2)."""
    offsets, data = _offsets_data(a)
    starts, lengths = offsets[:-1], np.diff(offsets)
    valid = _valid(a)
    out = np.full(len(a), np.nan)
    done = ~valid
    present = np.zeros(_LONGEST_LAYOUT + 2, dtype=bool)
    present[np.minimum(lengths, _LONGEST_LAYOUT + 1)] = True  # the lengths found: only layouts of those are looked for
    for layout, groups in _DURATION_LAYOUTS.items():
        if not present[len(layout)]:
            continue
        rows = np.flatnonzero((lengths == len(layout)) & valid)
        if not len(rows):
            continue
        at = starts[rows]
        # One byte position at a time over the rows of this length: each a contiguous array.
        digits = [data[at + i] - np.uint8(48) for i in range(len(layout))]  # other bytes wrap above 9
        fits = np.ones(len(rows), dtype=bool)
        for i, byte in enumerate(layout):
            fits &= digits[i] <= 9 if byte == ord("d") else digits[i] == np.uint8((byte - 48) % 256)
        if not fits.all():
            rows, digits = rows[fits], [d[fits] for d in digits]
        total = np.zeros(len(rows))
        for start, stop, unit in groups:
            # Whole groups are added largest first, as the regex path adds days, hours, minutes and seconds.
            whole = _digits_value(digits, start, stop)
            if stop == len(layout) or layout[stop:stop + 1] != b".":
                total += whole * unit
            else:  # seconds and milliseconds: exactly the float that "SS.mmm" reads as
                total += (whole * 1000 + _digits_value(digits, stop + 1, len(layout))) / 1000.0
        out[rows] = total
        done[rows] = True
    rest = np.flatnonzero(~done)
    if len(rest):
        out[rest] = _durations_by_pattern(a.take(pa.array(rest)))
    return out


def _digits_value(digits: list[np.ndarray], start: int, stop: int) -> np.ndarray:
    """The whole number that the digits at positions ``start:stop`` spell, per row."""
    value = digits[start].astype(np.int64)
    for i in range(start + 1, stop):
        value = value * 10 + digits[i]
    return value


def _durations_by_pattern(a: pa.Array) -> np.ndarray:
    g = _groups(a, _DURATION)
    days, hours, minutes = (pc.coalesce(_float(g[k]), 0.0) for k in ("d", "h", "m"))
    total = pc.add(pc.add(pc.add(pc.multiply(days, 86400.0), pc.multiply(hours, 3600.0)),
                          pc.multiply(minutes, 60.0)), _float(g["s"]))  # null seconds: no match, stays null
    return _numpy(total)


def _offsets_data(a: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's value offsets (``len + 1``, from 0, 4-byte ints as Arrow's) and the bytes they point into."""
    buffers = a.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(a) + 1, offset=a.offset * 4)
    first, last = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(buffers[2], dtype=np.uint8)[first:last] if buffers[2] is not None and last > first else (
        np.zeros(0, dtype=np.uint8))
    return offsets - np.int32(first), data


def sizes_to_numbers(values: Any, *, binary: bool) -> np.ndarray:
    """Sizes with optional K/M/G/T/P/E suffix (and ``n``/``c`` scope) → numbers, 1024- or 1000-based."""
    return _per_value(_text(values), lambda a: _sizes(a, 1024.0 if binary else 1000.0), share=_SIZE_SHARE)


#: Sizes cost more per value than durations, but finding the distinct values of a column of mostly distinct sizes
#: costs more than reading them: gathering pays off with up to about a third of the values distinct.
_SIZE_SHARE = 0.35


def _sizes(a: pa.Array, base: float) -> np.ndarray:
    """Sizes read as :data:`_SIZE` reads them, without running its regex on every value.

    A value's trailing letters are a unit, a scope, or both in turn; the rest, its number, must be digits with at
    most one point, ending in a digit. The numbers are cast where they are: one array of two values per size
    (number, letters) over the same bytes, of which the numbers of the sizes that fit are valid.
    """
    offsets, data = _offsets_data(a)
    if not len(data):  # every value empty or null
        return np.full(len(a), np.nan)
    starts, ends = offsets[:-1], offsets[1:]
    lengths = ends - starts
    # A value's last two bytes say its letters, its unit's power and whether its number ends in a digit (bytes of
    # the value before it where it is shorter: such a value is no size, as its number would end before it starts).
    last_two = data[np.maximum(ends - 2, 0)].astype(np.uint16) << 8
    last_two |= data[np.maximum(ends - 1, 0)]
    tail = _SIZE_TAIL[last_two]
    letters = np.minimum(tail & 3, lengths)  # no more letters than bytes (those the table read were another's)
    power = (tail >> 2) & 7
    number_end = ends - letters
    valid = _valid(a)
    ends_in_digit = (tail & _ENDS_IN_DIGIT) > 0
    two = np.flatnonzero(letters == 2)  # a unit and a scope: the byte before them is read
    if len(two):
        ends_in_digit[two] = _DIGIT[data[np.maximum(number_end[two] - 1, 0)]]
    # Mostly the only bytes but digits and points are the letters just found at the values' ends: then each number
    # is digits and points, and Arrow's cast, which refuses a second point, judges it in the pass that reads it.
    if len(a) > _BLOCK_ROWS:  # a whole table's column: one byte of memory per byte of it
        others = np.count_nonzero(np.take(_NOT_DIGIT_OR_POINT, data))
    else:
        shifted = data - np.uint8(ord("."))  # "." 0, "/" 1, digits 2 to 11
        others = len(data) - np.count_nonzero(shifted <= 11) + np.count_nonzero(shifted == 1)
    if others == int(np.sum(letters, dtype=np.int64)):
        fits = (number_end > starts) & valid & ends_in_digit
        try:
            return _scaled_numbers(offsets, number_end, data, fits, power, base)
        except pa.ArrowInvalid:
            pass
    # Per value, its points (low byte) and its other bytes that are not digits (high byte), from one running sum
    # of 2-byte ints over the bytes: a difference of the running sums is right even where they wrapped around, for
    # values of up to 255 bytes. Longer ones (no size is) are matched with the pattern.
    running = np.empty(len(data) + 1, dtype=np.uint16)
    running[0] = 0
    np.cumsum(np.take(_BYTE_KIND, data, out=running[1:], mode="clip"), out=running[1:])  # clip: no buffer
    found = running[number_end] - running[starts]
    del running  # 2 bytes per byte of the column: freed before the numbers are cast
    fits = (found <= 1) & (number_end > starts) & valid & ends_in_digit
    long = np.flatnonzero(lengths > 0xFF)
    if len(long):
        fits[long] = bools(pc.match_substring_regex(a.take(pa.array(long)), _SIZE))
    return _scaled_numbers(offsets, number_end, data, fits, power, base)


def _scaled_numbers(offsets: np.ndarray, number_end: np.ndarray, data: np.ndarray, fits: np.ndarray,
                    power: np.ndarray, base: float) -> np.ndarray:
    """The numbers of the sizes that fit (each ending at ``number_end``) times their unit; NaN for the others."""
    n = len(fits)
    bounds = np.empty(2 * n + 1, dtype=np.int32)
    bounds[0::2], bounds[1::2] = offsets, number_end
    valid = np.zeros(2 * n, dtype=bool)
    valid[0::2] = fits
    numbers = pa.StringArray.from_buffers(2 * n, pa.py_buffer(bounds), pa.py_buffer(data),
                                          pa.py_buffer(np.packbits(valid, bitorder="little")))
    # Per power of the base its multiple; NaN for the sizes that do not fit (after the largest power).
    scales = np.array([base ** k for k in range(len(_UNIT_LETTERS) + 1)] + [np.nan])
    scale = scales[np.where(fits, power, len(scales) - 1)]
    cast = pc.cast(numbers, pa.float64())
    # The numbers' values without a copy (every other one is a null's, whatever its bytes: times NaN, NaN).
    values = np.frombuffer(cast.buffers()[1], dtype=np.float64, count=2 * n, offset=cast.offset * 8)[0::2]
    with np.errstate(invalid="ignore"):
        sizes: np.ndarray = values * scale
    return sizes


#: Per byte: 1 for a point, 2**8 for any other byte but a digit.
_BYTE_KIND = np.full(256, 1 << 8, dtype=np.uint16)
_BYTE_KIND[np.frombuffer(b"0123456789", dtype=np.uint8)] = 0
_BYTE_KIND[ord(".")] = 1
_DIGIT = _BYTE_KIND == 0
_NOT_DIGIT_OR_POINT = _BYTE_KIND > 1


#: Per byte: the power of the base its unit letter stands for (``K`` → 1, ..., ``E`` → 6; 0 for any other byte),
#: and whether it is a scope letter (``n``, ``c``).
_UNIT_POWER = np.zeros(256, dtype=np.uint8)
_UNIT_POWER[np.frombuffer(b"KMGTPE", dtype=np.uint8)] = np.arange(1, 7)
_SCOPE_LETTER = np.zeros(256, dtype=bool)
_SCOPE_LETTER[np.frombuffer(b"nc", dtype=np.uint8)] = True

#: Per last two bytes of a value (the last one low): its letters (bits 0-1: a scope, a unit, or a unit then a
#: scope), its unit's power (bits 2-4) and whether the byte before its letters is a digit (when there is one letter
#: or none).
_ENDS_IN_DIGIT = 1 << 5
_SIZE_TAIL = np.zeros(1 << 16, dtype=np.uint8)
for _before in range(256):
    for _last in range(256):
        _scope = bool(_SCOPE_LETTER[_last])
        _power = int(_UNIT_POWER[_before if _scope else _last])
        _letters = int(_scope) + int(_power > 0)
        _digit = bool(_DIGIT[_last]) if _letters == 0 else bool(_DIGIT[_before]) if _letters == 1 else False
        _SIZE_TAIL[(_before << 8) | _last] = _letters | (_power << 2) | (_ENDS_IN_DIGIT if _digit else 0)


def size_scopes(values: Any) -> pa.Array:
    """The scope of a ``ReqMem`` value: ``4000Mc`` → ``cpu``, ``4000Mn`` → ``node``, else null."""
    distinct, indices = _distinct(_text(values))  # a handful of distinct requests
    return _take_rows(_scope_words(distinct), indices)


def _scope_words(a: pa.Array) -> pa.Array:
    scope = pc.if_else(pc.match_substring_regex(a, _SIZE), pc.utf8_slice_codeunits(a, -1), _NULL_STRING)
    return pc.if_else(pc.equal(scope, "c"), "cpu", pc.if_else(pc.equal(scope, "n"), "node", _NULL_STRING))


def _requested_memory(a: pa.Array, whole: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """``ReqMem`` in bytes (of ``whole``: ``a`` without its values cut by a column) and its scope (of ``a``).

    Requests repeat: when no value was cut, both come from one pass that finds the distinct requests.
    """
    if whole is not a or a.type != pa.string() or not _few_distinct(a, _SIZE_SHARE):
        return sizes_to_numbers(whole, binary=True), size_scopes(a)
    distinct, indices = _distinct(a)
    return gather(_sizes(distinct, 1024.0), indices), _take_rows(_scope_words(distinct), indices)


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
    out = gather(floats, indices)
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
        utc = local if zone.key == "UTC" else pc.assume_timezone(
            local, timezone=zone.key, ambiguous="latest", nonexistent="latest")
        return _numpy(pc.cast(pc.cast(utc, pa.int64()), pa.float64()))

    a = _text(values)
    # In UTC (no zone to look up per value) reading each row costs less than finding the distinct values, but adds
    # to the peak memory of a whole table's columns converted side by side: only blocks' columns are read per row.
    if zone.key == "UTC" and len(a) <= _BLOCK_ROWS:
        stamps = _iso_seconds(a)
        if stamps is not None:
            return _epoch_seconds(stamps)
    return _per_value(a, convert)


def _epoch_seconds(stamps: pa.Array) -> np.ndarray:
    """Second timestamps as float epoch seconds (NaN for null), read from their buffer: one copy, as floats."""
    seconds = np.frombuffer(stamps.buffers()[1], dtype=np.int64, count=len(stamps), offset=stamps.offset * 8)
    out = seconds.astype(np.float64)
    if stamps.null_count:
        out[~bools(stamps.is_valid())] = np.nan
    return out


def _iso_seconds(a: pa.Array) -> pa.Array | None:
    """Timestamps when every value is ``YYYY-MM-DDTHH:MM:SS`` or a null token, read by Arrow's ISO 8601 cast.

    The cast is several times faster than ``strptime`` but also reads other ISO forms, so it is used only when
    every value has the format's length and its ``T`` (checked on the bytes); any value it cannot read sends the
    column back to ``strptime`` (``None``).
    """
    offsets, data = _offsets_data(a)
    starts, lengths = offsets[:-1], np.diff(offsets)
    valid = _valid(a)
    stamp = (lengths == 19) & valid
    if not stamp.any():
        return None
    other = np.flatnonzero(valid & ~stamp)
    if len(other) and not pc.all(pc.is_in(a.take(pa.array(other)), value_set=_NULL_SET)).as_py():
        return None
    if not (data[(starts if len(other) == 0 and a.null_count == 0 else starts[stamp]) + 10] == ord("T")).all():
        return None
    # The null tokens made null by a validity bitmap over the same bytes (no copy of the column).
    stamps = a if len(other) == 0 and a.null_count == 0 else pa.StringArray.from_buffers(
        len(a), pa.py_buffer(offsets), pa.py_buffer(data), pa.py_buffer(np.packbits(stamp, bitorder="little")))
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


def convert_table(table: RawTable | Batches | Stacked, zone: ZoneInfo, warnings: list[ParseWarning]) -> pd.DataFrame:
    """Convert a table, a table read in blocks, or tables that follow one another (their rows one after the other)."""
    if isinstance(table, Stacked):
        frame = _stack([_convert_blocks(t, zone, warnings) for t in table.tables])
    else:
        frame = _convert_blocks(table, zone, warnings)
        if isinstance(table, Batches):
            records = table.rejoin()
            if records:
                frame = _put_back(frame, table.fields, records, zone, warnings)
    warnings.sort(key=lambda w: w.line)
    return frame


def _convert_blocks(table: RawTable | Batches, zone: ZoneInfo, warnings: list[ParseWarning]) -> pd.DataFrame:
    """Convert a table column by column, or a table read in blocks block by block (the blocks' columns become chunks).

    Work goes to a thread pool (pyarrow's reader and Arrow's kernels release the GIL): a big table's columns side by
    side, or blocks side by side, each read and converted by one thread. At most :data:`_BLOCKS_IN_FLIGHT` blocks
    more than the pool has threads are read at a time, so memory stays bounded by the block size. A table read in
    one block is converted as that block's table, and a table of fewer than :data:`_PARALLEL_ROWS` rows in the
    calling thread: starting threads would cost more than they save.
    """
    if isinstance(table, RawTable):
        if len(table.lines) < _PARALLEL_ROWS:
            return _frame([_collect(_submit(table, zone, None), warnings)], None)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            return _frame([_collect(_submit(table, zone, pool), warnings)], pool)
    blocks = iter(table.blocks)
    head = list(islice(blocks, 2))
    if len(head) < 2:  # one block (or none): converted as the table it is
        empty: dict[str, Column] = {f: pa.array([], pa.string()) for f in table.fields}
        return _convert_blocks(head[0]() if head else RawTable(table.fields, empty, np.zeros(0, dtype=np.int64)),
                               zone, warnings)
    workers = os.cpu_count() or 1
    parts: list[dict[str, _Values]] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[_Converted]] = deque()
        for block in chain(head, blocks):
            pending.append(pool.submit(_read_and_convert, block, zone))
            if len(pending) > workers + _BLOCKS_IN_FLIGHT:
                parts.append(_collect([pending.popleft()], warnings))
        parts.extend(_collect([future], warnings) for future in pending)
        return _frame(parts, pool)


def _frame(parts: list[dict[str, _Values]], pool: ThreadPoolExecutor | None) -> pd.DataFrame:
    """The blocks' columns joined into one frame.

    Column by column on the pool if there is one (copies release the GIL); each block's column is released once joined.
    """
    names = list(parts[0])
    if pool is None:
        columns = {name: _join([part.pop(name) for part in parts]) for name in names}
    else:
        joined = {name: pool.submit(_join, [part.pop(name) for part in parts]) for name in names}
        columns = {name: future.result() for name, future in joined.items()}
    return order_columns(pd.DataFrame(columns, copy=False))


def _read_and_convert(read: Callable[[], RawTable], zone: ZoneInfo) -> _Converted:
    """One block read and converted in the calling thread."""
    found: list[ParseWarning] = []
    return _collect(_submit(read(), zone, None), found), found


def _join(chunks: list[_Values]) -> Any:
    """One column's blocks as one pandas column (float64 numpy, pyarrow strings or nullable integers)."""
    if isinstance(chunks[0], np.ndarray):
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    if chunks[0].type == pa.string():
        return pd.Series(pa.chunked_array(chunks, type=pa.string()), dtype=_STRING, copy=False)
    return pa.chunked_array(chunks).to_pandas(types_mapper=_int_mapper)


def _put_back(
    frame: pd.DataFrame, fields: list[str], records: list[Rejoined], zone: ZoneInfo, warnings: list[ParseWarning],
) -> pd.DataFrame:
    """The records that a line break inside a value had split, converted and put back at their rows."""
    raw: dict[str, Column] = {f: pa.array([r.values[k] for r in records], pa.string()) for k, f in enumerate(fields)}
    lines = np.array([r.line for r in records], dtype=np.int64)
    extra = _convert_blocks(RawTable(fields, raw, lines), zone, warnings)
    pieces: list[pd.DataFrame] = []
    done = 0
    for k, record in enumerate(records):
        pieces += [frame.iloc[done:record.row], extra.iloc[k:k + 1]]
        done = record.row
    pieces.append(frame.iloc[done:])
    return pd.concat(pieces, ignore_index=True)


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of different fields one after the other: every column of any, null where a frame lacks it."""
    dtypes: dict[str, Any] = {}
    for frame in frames:
        for name, dtype in frame.dtypes.items():
            dtypes.setdefault(str(name), dtype)
    filled = [frame.reindex(columns=list(dtypes)).astype(dtypes) for frame in frames]
    return order_columns(pd.concat(filled, ignore_index=True))


def _int_mapper(dtype: pa.DataType) -> Any:
    return pd.Int64Dtype() if dtype == pa.int64() else None


#: Rows from which a block's columns are converted on the thread pool rather than in the calling thread.
_PARALLEL_ROWS = 50_000
#: Blocks read ahead of the threads that convert them.
_BLOCKS_IN_FLIGHT = 1
#: One conversion task's columns and warnings.
_Converted: TypeAlias = tuple[dict[str, _Values], list[ParseWarning]]


def _submit(table: RawTable, zone: ZoneInfo, pool: ThreadPoolExecutor | None) -> list[Future[_Converted]]:
    """Start converting one block's columns; the futures come in the table's order (job ids first)."""
    # Raw columns are taken out of the table by their task, so each is freed once converted.
    raw = table.columns
    lines, truncated = table.lines, table.truncated
    # Truncated ids are repaired with JobName: cut it once here, for the job-id task and its own.
    job_names = strings_of(raw["JobName"]) if "JobName" in raw and "JobID" in raw and truncated else None
    if job_names is not None:
        raw["JobName"] = job_names

    def job_ids() -> _Converted:
        names = _nullify(job_names) if job_names is not None else None
        found: list[ParseWarning] = []
        job, step = _split_job_ids(_nullify(strings_of(raw.pop("JobID"))), names, lines, truncated, found)
        return {"job-id": job, "step": step}, found

    def convert(f: str) -> _Converted:
        return _convert_field(f, strings_of(raw.pop(f)), zone, lines, truncated)

    tasks: list[tuple[str, Callable[[], _Converted]]] = [("JobID", job_ids)] if "JobID" in raw else []
    tasks += [(f, partial(convert, f)) for f in table.fields if f != "JobID"]
    if pool is None or len(lines) < _PARALLEL_ROWS:
        return [_done(task()) for _, task in tasks]
    # The costliest conversions start first, so that no long one is left running alone at the end.
    started = {f: pool.submit(task) for f, task in sorted(tasks, key=lambda item: _cost_rank(item[0]))}
    return [started[f] for f, _ in tasks]


#: Fields by how costly their conversion is, costliest first: sizes, job ids, durations, times (then the rest).
_COST_ORDER = (BYTE_FIELDS | DECIMAL_FIELDS, {"JobID"}, DURATION_FIELDS, TIME_FIELDS)


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
    cut = bools(pc.ends_with(a, "+")) if truncated else None
    out: dict[str, _Values] = {}
    if f == "State":
        encoded = pc.dictionary_encode(a)
        # The state word in any case ("completed", "Cancelled by 123"), in Slurm's upper case (its letters ASCII).
        words = pc.utf8_upper(_groups(encoded.dictionary, r"^(?P<w>[A-Za-z_]+\+?)")["w"])
        # "CANCELLED+" (fixed width cut "CANCELLED by 123") is expanded where one state has that prefix.
        cut_words = np.flatnonzero(bools(pc.ends_with(words, "+")))
        if len(cut_words):
            expanded = words.to_pylist()
            for i in cut_words.tolist():
                expanded[i] = _STATE_PREFIX.get(expanded[i], expanded[i])
            words = pa.array(expanded, type=pa.string())
        out[name] = words.take(encoded.indices)
        return out, []
    # A number cut by the column width is no number: it is left out of the conversion (it would take the slow path
    # for values of no known layout) and comes out empty with a warning below.
    whole = a if cut is None or not cut.any() else pc.if_else(pa.array(cut), _NULL_STRING, a)
    if f in DURATION_FIELDS:
        out[name] = durations_to_seconds(whole)
    elif f in TIME_FIELDS:
        out[name] = timestamps_to_epoch(whole, zone)
    elif f == "ReqMem":
        out[name], out["req-mem-scope"] = _requested_memory(a, whole)
    elif f in BYTE_FIELDS:
        out[name] = sizes_to_numbers(whole, binary=True)
    elif f in DECIMAL_FIELDS:
        out[name] = sizes_to_numbers(whole, binary=False)
    elif f in COUNT_FIELDS:
        out[name] = counts_to_integers(whole)
    else:
        # Text ("Unknown", "None", ... become null); a truncated JobName is still the best name there is.
        out[name] = _nullify(a)
        return out, [] if cut is None or not cut.any() else [_cut_text_warning(f, a, lines, np.flatnonzero(cut))]
    if cut is None or not cut.any():
        return out, []
    values = out[name]
    if isinstance(values, np.ndarray):
        values[cut] = np.nan
    else:
        out[name] = pc.if_else(pa.array(cut), pa.scalar(None, values.type), values)
    at = np.flatnonzero(cut)
    messages = [f"{f} value {value!r} is truncated by the column width" for value in a.take(pa.array(at)).to_pylist()]
    return out, list(map(new_warning, zip(lines[at].tolist(), messages, strict=True)))


def _cut_text_warning(f: str, a: pa.Array, lines: np.ndarray, at: np.ndarray) -> ParseWarning:
    """One warning for the text values of ``f`` a fixed-width column cut (kept as printed): where and how to avoid."""
    shown = ", ".join(map(str, lines[at[:5]].tolist())) + (f" and {len(at) - 5:,} more" if len(at) > 5 else "")
    distinct = [v for v in dict.fromkeys(a.take(pa.array(at[:1000])).to_pylist()) if v]
    examples = ", ".join(map(repr, distinct[:3])) + (", …" if len(distinct) > 3 else "")
    return new_warning((int(lines[at[0]]), f"{f}: {len(at):,} values truncated by the column width and kept as "
                        f"printed ({examples}) on lines {shown}; jobs whose {f} starts alike may be counted as one. "
                        + whole_values_hint([f])))


def _job_and_step(ids: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``123_4.batch`` → job ``123_4`` and step ``batch`` (``""`` where there is none), split at the first point.

    Both are cut from the ids' own bytes: one array of three values per id (job, point, step) over the same
    bytes, of which every third value is taken. A null id has a null job and an empty step.
    """
    offsets, data = _offsets_data(ids)
    bounds = np.empty(3 * len(ids) + 1, dtype=np.int32)  # 4-byte offsets, as the ids' own
    bounds[0::3] = offsets
    starts, ends = bounds[0:-1:3], bounds[3::3]
    valid = _valid(ids)
    point = np.asarray(pc.find_substring(ids, ".").fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int32)
    split = valid & (point >= 0)
    bounds[1::3] = np.where(split, starts + point, ends)
    bounds[2::3] = np.where(split, bounds[1::3] + 1, ends)
    pieces = pa.StringArray.from_buffers(3 * len(ids), pa.py_buffer(bounds), pa.py_buffer(data))
    thirds = np.arange(0, 3 * len(ids), 3, dtype=np.int32)
    return pieces.take(pa.array(thirds, mask=~valid)), pieces.take(pa.array(thirds + 2))


def _split_job_ids(
    ids: pa.Array, names: pa.Array | None, lines: np.ndarray, truncated: bool, warnings: list[ParseWarning]
) -> tuple[pa.Array, pa.Array]:
    job, step = _job_and_step(ids)
    if not truncated:  # parsable output: nothing to repair
        return job, step
    # Fixed width cuts long ids with "+": expand step names per distinct value ("ba+" → "batch").
    distinct, indices = _distinct(step)  # no step is null
    expanded = [_STEP_PREFIX.get(v, v) if v.endswith("+") else v for v in distinct.to_pylist()]
    step = _take_rows(pa.array(expanded, type=pa.string()), indices)
    cut_still = np.array([v.endswith("+") for v in expanded], dtype=bool)[indices]
    if names is not None and cut_still.any():
        # ".+" keeps no letter of the step: its JobName (batch, extern) names it.
        named = cut_still & bools(pc.is_in(names, value_set=pa.array(STEP_NAMES)))
        step = pc.if_else(pa.array(named), names, step)
    is_job_row = bools(pc.equal(step, ""))
    job_cut = np.flatnonzero(bools(pc.ends_with(job, "+")) & is_job_row)
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
