"""Logs page: ``LOGS/slurm-<id>.out`` objects of the pipeline bucket, with search and tail."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.errors import InvalidInput
from core.naming import folder
from core.services.times import pipeline_bucket
from core.settings import Settings
from core.store.base import ObjectStore
from core.store.listing import objects_under
from core.text import linear_pattern
from core.units import iec_size

LOGS_PREFIX = folder("logs")
#: Largest log read whole; a bigger one is read from its end.
MAX_LOG_BYTES = 20 * 1024 * 1024
#: Log lines that usually explain a failure (case-insensitive; ``RuntimeError`` and ``ValueError:`` too). RE2: the
#: time is linear in the line, whatever the line.
ERROR_PATTERN = linear_pattern(
    r"(?i)(?:error|exception)\b|\btraceback\b|\bcancelled\b|\bkilled\b|out of memory|oom-kill"
    r"|segmentation fault|due to time limit"
)
#: Characters of a line looked at by the error scan and the search: a longer line is judged by its start.
MAX_SCAN_CHARS = 10_000
#: Characters of a line shown in a block, a hit table or the tail; the rest is counted, not sent to the browser.
MAX_SHOWN_CHARS = 2_000
#: Most blocks shown for one log: a log full of hits is summarised by its first ones.
MAX_BLOCKS = 50
#: Terminal control sequences (colours, bold, cursor moves; CSI and OSC) that tools such as Ray print into logs.
_ANSI = linear_pattern(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_JOB_ID = linear_pattern(r"(slurm|seff)-(\d+)(_\d+)?\.(out|err|txt)$")


@dataclass(frozen=True)
class LogRef:
    """A log object and the job it belongs to."""

    job_id: str
    object: str
    size: int
    kind: str = "output"
    etag: str = ""


def list_logs(store: ObjectStore, settings: Settings) -> list[LogRef]:
    """Every log object under LOGS/, newest job id last."""
    objects = objects_under(store, pipeline_bucket(settings), LOGS_PREFIX)
    refs: list[tuple[tuple[int, str], LogRef]] = []
    for o in objects:
        match = _JOB_ID.search(o.name)
        if match:
            tool, number, task, ext = match.groups()
            kind = "seff report" if tool == "seff" else ("error output" if ext == "err" else "output")
            ref = LogRef(number + (task or ""), o.name, o.bytes, kind, o.hash)
            refs.append(((int(number), o.name), ref))
        else:
            refs.append(((-1, o.name), LogRef(o.name[len(LOGS_PREFIX):], o.name, o.bytes, "file", o.hash)))
    return [ref for _, ref in sorted(refs, key=lambda item: item[0])]


def read_log_object(store: ObjectStore, bucket: str, name: str) -> str:
    """The log as text: undecodable bytes shown as U+FFFD, terminal colour codes taken out, a very large log cut.

    A log over :data:`MAX_LOG_BYTES` is read from its end, with a first line saying how much is not shown.
    """
    meta, chunks = store.stream_object(bucket, name, last=MAX_LOG_BYTES)  # a longer log's start is not downloaded
    data = bytearray()
    for chunk in chunks:
        data.extend(chunk)
        if len(data) > 2 * MAX_LOG_BYTES:  # storage that sends more than the end asked for
            del data[: len(data) - MAX_LOG_BYTES]
    text: str = _ANSI.sub("", bytes(data[-MAX_LOG_BYTES:]).decode("utf-8", errors="replace"))
    if meta.size > MAX_LOG_BYTES:
        text = f"[… first {iec_size(meta.size - MAX_LOG_BYTES)} not shown …]\n" + text
    return text


def shown_line(line: str) -> str:
    """``line`` as a page shows it: at most :data:`MAX_SHOWN_CHARS` characters, then how many were left out."""
    if len(line) <= MAX_SHOWN_CHARS:
        return line
    return f"{line[:MAX_SHOWN_CHARS]} [… {len(line) - MAX_SHOWN_CHARS:,} more characters]"


def tail(text: str, lines: int) -> str:
    """The last ``lines`` lines (each cut by :func:`shown_line`)."""
    return "\n".join(shown_line(line) for line in text.splitlines()[-lines:]) if lines > 0 else ""


def highlights(text: str) -> dict[str, int]:
    """Line counts that usually matter in a Slurm log: all lines, and lines mentioning cancels, errors, warnings.

    Each line is counted once, under the first of cancelled, error, warning it mentions: Slurm's cancel line
    ("slurmstepd: error: *** JOB 1 CANCELLED ...") is one cancelled line, not also an error line.
    """
    lines = text.lower().splitlines()
    counts = {"lines": len(lines), "errors": 0, "warnings": 0, "cancelled": 0}
    for line in lines:
        kind = ("cancelled" if "cancelled" in line else "errors" if "error" in line
                else "warnings" if "warning" in line else None)
        if kind is not None:
            counts[kind] += 1
    return counts


@dataclass(frozen=True)
class ContextBlock:
    """Consecutive log lines around one or more hits: ``(line number, text, is a hit)``."""

    lines: list[tuple[int, str, bool]]

    @property
    def hit_lines(self) -> list[int]:
        """Numbers of the hit lines in this block."""
        return [n for n, _, hit in self.lines if hit]

    def as_text(self) -> str:
        """Numbered lines, hits marked with ``>``, for a plain-text code box."""
        return "\n".join(f"{'>' if hit else ' '}{n:>6}  {shown_line(line)}" for n, line, hit in self.lines)


def context_blocks(lines: list[str], hits: list[int], *, context: int = 2,
                   limit: int = MAX_BLOCKS) -> list[ContextBlock]:
    """``context`` lines either side of each hit (0-based indexes into ``lines``); overlapping windows merge."""
    hit_set = set(hits)
    spans: list[list[int]] = []
    for i in sorted(hit_set):
        lo, hi = max(0, i - context), min(len(lines), i + context + 1)
        if spans and lo <= spans[-1][1]:
            spans[-1][1] = hi
        elif len(spans) == limit:
            break
        else:
            spans.append([lo, hi])
    return [ContextBlock([(i + 1, lines[i], i in hit_set) for i in range(lo, hi)]) for lo, hi in spans]


def error_blocks(text: str, *, context: int = 2) -> list[ContextBlock]:
    """Lines that look like errors (:data:`ERROR_PATTERN`) with their context."""
    lines = text.splitlines()
    return context_blocks(lines, [i for i, line in enumerate(lines) if ERROR_PATTERN.search(line[:MAX_SCAN_CHARS])],
                          context=context)


def search_blocks(text: str, query: str, *, context: int = 2) -> list[ContextBlock]:
    """Lines containing ``query`` (case-insensitive, plain text) with their context."""
    if not query:
        return []
    needle = query.lower()
    lines = text.splitlines()
    return context_blocks(lines, [i for i, line in enumerate(lines) if needle in line[:MAX_SCAN_CHARS].lower()],
                          context=context)


def window(text: str, line: int, *, context: int = 10) -> ContextBlock:
    """Lines around line number ``line`` (1-based), that line marked; a line past the end raises InvalidInput."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        raise InvalidInput(f"line {line} is not in this log ({len(lines):,} lines)")
    return context_blocks(lines, [line - 1], context=context)[0]


def log_table(refs: list[LogRef]) -> pd.DataFrame:
    """The log picker's rows: job id, kind of log, object name and size in bytes."""
    return pd.DataFrame({"job": [r.job_id for r in refs], "kind": [r.kind for r in refs],
                         "object": [r.object[len(LOGS_PREFIX):] for r in refs], "size": [r.size for r in refs]})
