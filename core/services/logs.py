"""Logs page: ``LOGS/slurm-<id>.out`` objects of the pipeline bucket, with search and tail."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import NotFound
from core.naming import folder
from core.services.times import pipeline_bucket
from core.settings import Settings
from core.store.base import ObjectStore
from core.units import human_bytes

LOGS_PREFIX = folder("logs")
#: Largest log read whole; a bigger one is read from its end.
MAX_LOG_BYTES = 20 * 1024 * 1024
_JOB_ID = re.compile(r"(slurm|seff)-(\d+)(_\d+)?\.(out|err|txt)$")


@dataclass(frozen=True)
class LogRef:
    """A log object and the job it belongs to."""

    job_id: str
    object: str
    size: str
    kind: str = "output"
    etag: str = ""

    @property
    def label(self) -> str:
        """What the job picker shows: job id, kind of log and size."""
        return f"{self.job_id} · {self.kind} · {self.object[len(LOGS_PREFIX):]} ({self.size})"


def list_logs(store: ObjectStore, settings: Settings) -> list[LogRef]:
    """Every log object under LOGS/, newest job id last."""
    try:
        objects = list(store.iter_objects(pipeline_bucket(settings), prefix=LOGS_PREFIX))
    except NotFound:
        return []
    refs: list[tuple[tuple[int, str], LogRef]] = []
    for o in objects:
        match = _JOB_ID.search(o.name)
        if match:
            tool, number, task, ext = match.groups()
            kind = "seff report" if tool == "seff" else ("error output" if ext == "err" else "output")
            ref = LogRef(number + (task or ""), o.name, human_bytes(o.bytes), kind, o.hash)
            refs.append(((int(number), o.name), ref))
        else:
            refs.append(((-1, o.name), LogRef(o.name[len(LOGS_PREFIX):], o.name, human_bytes(o.bytes), "file", o.hash)))
    return [ref for _, ref in sorted(refs, key=lambda item: item[0])]


def read_log(store: ObjectStore, settings: Settings, name: str) -> str:
    """The log ``name`` of the pipeline bucket as text (see :func:`read_log_object`)."""
    return read_log_object(store, pipeline_bucket(settings), name)


def read_log_object(store: ObjectStore, bucket: str, name: str) -> str:
    """The log as text (undecodable bytes shown as U+FFFD); very large logs are cut to their last part."""
    meta, chunks = store.stream_object(bucket, name)
    data = bytearray()
    for chunk in chunks:
        data.extend(chunk)
        if len(data) > 2 * MAX_LOG_BYTES:
            del data[: len(data) - MAX_LOG_BYTES]
    text = bytes(data[-MAX_LOG_BYTES:]).decode("utf-8", errors="replace")
    if meta.size > MAX_LOG_BYTES:
        text = f"[… first {human_bytes(meta.size - MAX_LOG_BYTES)} not shown …]\n" + text
    return text


def tail(text: str, lines: int) -> str:
    """The last ``lines`` lines."""
    return "\n".join(text.splitlines()[-lines:]) if lines > 0 else ""


def search(text: str, query: str, *, limit: int = 500) -> list[tuple[int, str]]:
    """``(line number, line)`` of lines containing ``query`` (case-insensitive, plain text)."""
    if not query:
        return []
    needle = query.lower()
    return [(i, line) for i, line in enumerate(text.splitlines(), start=1) if needle in line.lower()][:limit]


def highlights(text: str) -> dict[str, int]:
    """Line counts that usually matter in a Slurm log: all lines, and lines mentioning errors, warnings, cancels."""
    lines = text.lower().splitlines()
    return {"lines": len(lines), "errors": sum("error" in line for line in lines),
            "warnings": sum("warning" in line for line in lines),
            "cancelled": sum("cancelled" in line for line in lines)}
