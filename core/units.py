"""Sizes and durations: parsing the printed sizes (``2.2M``, ``100K``), formatting bytes and Slurm durations."""

from __future__ import annotations

import math

from core.text import linear_pattern

_SIZE = linear_pattern(r"(?i)^\s*(\d*\.?\d+)\s*([KMGTPE]?)(?:i?B)?\s*$")
_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


def parse_size(text: str | None, *, binary: bool) -> int | None:
    """Parse ``2.2M``, ``1.0T``, ``100K``, ``.97k`` or ``37`` into a number.

    Args:
        text: the printed value; a suffix K/M/G/T/P/E in either case is a power of the base.
        binary: 1024-based (sizes in bytes) when true, 1000-based (counts) otherwise.

    Returns:
        The value rounded to an integer, or ``None`` when the text is not a size.
    """
    if text is None:
        return None
    match = _SIZE.match(text)
    if not match:
        return None
    number, suffix = match.groups()
    base = 1024 if binary else 1000
    value: int = round(float(number) * base ** _POWERS[suffix.upper()])
    return value


def slurm_duration(seconds: float | None) -> str:
    """Format seconds as Slurm prints durations, ``[D-]HH:MM:SS`` (``90061`` → ``1-01:01:01``); ``None`` → ``—``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    total = round(seconds)
    sign = "-" if total < 0 else ""
    days, rest = divmod(abs(total), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{f'{days}-' if days else ''}{hours:02d}:{minutes:02d}:{secs:02d}"


#: Units a chart's duration axis is drawn in, smallest first, with the seconds in one.
DURATION_UNITS = (("s", 1), ("min", 60), ("h", 3600), ("days", 86400))


def duration_unit(seconds: float) -> tuple[str, int]:
    """The unit an axis of durations up to ``seconds`` reads best in, and the seconds in one of it.

    The largest unit the value is at least two of, as Grafana picks a duration axis's unit from the data:
    ``63`` → ``s``, ``790`` → ``min`` (13.2), ``93600`` → ``h`` (26), ``259200`` → ``days`` (3).
    """
    chosen = DURATION_UNITS[0]
    for unit in DURATION_UNITS:
        if abs(seconds) >= 2 * unit[1]:
            chosen = unit
    return chosen


def iec_size(n: float | None, *, unknown: str = "") -> str:
    """Format a byte count in binary units with two decimals, as ``sacct --units`` and ``seff`` print sizes.

    Args:
        n: the size in bytes.
        unknown: what ``None`` or NaN becomes (an empty table cell by default).

    Returns:
        ``1536`` → ``1.50 KiB``, ``1294440 KiB`` → ``1.23 GiB``, ``12`` → ``12 B``.
    """
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return unknown
    unit, scale = iec_unit(float(n))
    value = float(n) / scale
    return f"{value:.0f} B" if unit == "B" else f"{value:.2f} {unit}"


#: Binary units of :func:`iec_size`, smallest first.
IEC_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def iec_unit(n: float) -> tuple[str, int]:
    """The binary unit :func:`iec_size` prints ``n`` bytes in, and the bytes in one of it (``1536`` → ``KiB``, 1024)."""
    for power, unit in enumerate(IEC_UNITS):
        if abs(n) < 1024 ** (power + 1) or unit == IEC_UNITS[-1]:
            return unit, 1024**power
    raise AssertionError("unreachable")  # pragma: no cover


def slurm_memory(n: float) -> str:
    """A memory size as an ``sbatch --mem`` value, rounded up: whole ``G`` from 1 GiB, else ``M`` in 100s."""
    mib = n / 1024**2
    if mib >= 1024:
        return f"{math.ceil(mib / 1024)}G"
    return f"{max(100, math.ceil(mib / 100) * 100)}M"
