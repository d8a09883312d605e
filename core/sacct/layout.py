"""Layout detection: what the head of sacct text is and which fields it names.

A fixed-width header (field names over a line of dashes), a delimited header and its delimiter, or headerless lines
with a given field list and the delimiter that splits them into that many fields.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core.sacct.fields import CANONICAL, ParseWarning, canonical_field
from core.sacct.raw import bools

#: Lines looked at to detect the delimiter and the trailing delimiter of ``--parsable``.
SAMPLE_LINES = 50


def is_header(tokens: Sequence[str]) -> bool:
    """Whether most of ``tokens`` (at least one) are field names sacct prints."""
    names = [t.strip() for t in tokens if t.strip()]
    known = sum(1 for t in names if t.lower() in CANONICAL)
    return bool(names) and known >= max(1, (len(names) + 1) // 2)


DASHES = re.compile(r"^\s*-+(?: +-+)*\s*$")


def fixed_headers(texts: pa.Array) -> list[int]:
    """Indices of the lines that head a fixed-width table: field names followed by a line of dashes."""
    dashes = np.flatnonzero(bools(pc.match_substring_regex(texts, DASHES.pattern)))
    return [int(i) - 1 for i in dashes if i > 0 and is_header(texts[int(i) - 1].as_py().split())]


def unique_fields(names: Sequence[str], line: int, warnings: list[ParseWarning]) -> tuple[list[str], list[int]]:
    """Each field once (``--format=State,State`` prints it twice), with the column it is read from: its first."""
    fields: list[str] = []
    at: list[int] = []
    for i, name in enumerate(names):
        f = canonical_field(name)
        if f in fields:
            warnings.append(ParseWarning(line, f"{f} appears more than once in the header; its first column is read"))
        else:
            if f.lower() not in CANONICAL:
                warnings.append(ParseWarning(line, f"{f} is not a field sacct is known to print; its values are "
                                                   "kept as text"))
            fields.append(f)
            at.append(i)
    return fields, at


@dataclass(frozen=True)
class Layout:
    """How delimited output is laid out: its field names, delimiter, trailing delimiter, and header line."""

    names: list[str]
    delimiter: str
    trailing: bool
    header: bool

    @property
    def format(self) -> str:
        """``parsable`` (a trailing delimiter) or ``parsable2``."""
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


def delimited_layout(
    sample: Sequence[str], first: int, fields: Sequence[str] | None, delimiter: str | None,
    warnings: list[ParseWarning],
) -> Layout | None:
    """The layout of delimited output from its first non-blank lines (``first`` is the 0-based index of the first).

    A header line decides by itself (its delimiter wins over a different ``delimiter`` given, with a warning);
    headerless output needs ``fields``, and its delimiter is ``delimiter`` or detected from the lines.
    """
    if not sample:
        return None
    head = sample[0]
    found = _header_delimiter(head)
    if found is None and delimiter and is_header(head.split(delimiter)):
        tokens = head.split(delimiter)
        found = (delimiter, len(tokens) > 1 and tokens[-1] == "")
    if found is not None:
        delim, trailing = found
        tokens = head.split(delim)
        names = tokens[:-1] if trailing else tokens
        if is_header(names):
            if delimiter and delimiter != delim:
                warnings.append(ParseWarning(first + 1, f"the header is delimited by {delim!r}, not the given "
                                                        f"{delimiter!r}; the lines are read with {delim!r}"))
            return Layout(names, delim, trailing, header=True)
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
    return Layout(names, sep, trailing=ends > fits, header=False)
