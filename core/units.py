"""Sizes, counts and durations: parsing the printed forms and formatting them for people."""

from __future__ import annotations

import math
import re

_SIZE = re.compile(r"^\s*(\d*\.?\d+)\s*([KMGTPE]?)(?:i?B)?\s*$", re.IGNORECASE)
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


def human_bytes(n: float | None) -> str:
    """Format a byte count with IEC units: ``1536`` → ``1.5 KiB``; ``None`` → ``—``."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "—"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def human_count(n: float | None) -> str:
    """Format a count with SI suffixes: ``19000`` → ``19.0k``; ``None`` → ``—``."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "—"
    value = float(n)
    for unit in ("", "k", "M", "G"):
        if abs(value) < 1000 or unit == "G":
            return f"{int(value)}" if unit == "" else f"{value:.1f}{unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def human_duration(seconds: float | None) -> str:
    """Format seconds as ``1d 2h 3m 4s`` (zero parts dropped); ``None`` → ``—``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    total = round(seconds)
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v]
    if secs or not parts:
        parts.append(f"{secs}s")
    return sign + " ".join(parts)


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
