"""Raw sacct tables: the string columns a reader hands to the conversion, and the sizes it reads them in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

import numpy as np
import pyarrow as pa

#: A raw column: its strings, or a function that cuts them out of the input when the column is converted.
Column: TypeAlias = pa.Array | Callable[[], pa.Array]


def strings_of(column: Column) -> pa.Array:
    """A raw column's strings, cut out of the input now if it was left to be cut on conversion."""
    return column() if callable(column) else column


@dataclass
class RawTable:
    """Raw string columns of one text table, with the input line of every row."""

    fields: list[str]
    columns: dict[str, Column]
    lines: np.ndarray
    truncated: bool = False


#: Bytes of delimited text read and converted at a time: the peak memory of a parse grows with it, not the input.
BLOCK_SIZE = 1 << 24


class Rejoined(NamedTuple):
    """A record whose value held a line break: its values, and the rows read before it (where it belongs)."""

    row: int
    line: int
    values: list[str]


@dataclass
class Batches:
    """A delimited table read lazily in blocks: each block is read when its reader is called, then converted.

    ``rejoin``, called once every block is read, gives the records split over several lines by a line break
    inside a value, joined again, to be put back in their place.
    """

    fields: list[str]
    blocks: Iterator[Callable[[], RawTable]]
    rejoin: Callable[[], list[Rejoined]]


@dataclass
class Stacked:
    """Tables whose rows follow one another (two ``sacct`` calls appended to one file)."""

    tables: list[RawTable]

    @property
    def fields(self) -> list[str]:
        """Every field of the tables, once, in the order they first appear."""
        return list(dict.fromkeys(f for table in self.tables for f in table.fields))


def bools(values: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, null as false."""
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
