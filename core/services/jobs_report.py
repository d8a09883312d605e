"""One row per job with the SACCT table's figures, for ``hpc-monitor jobs`` (reportseff-style) and other reports.

:func:`report_rows` turns parsed sacct (one or several runs) into plain rows with fixed keys (JSON-ready: numbers or
``None``, never NaN); :func:`parsed_jobs` gets the priced per-job frame from sacct text. Keys:

``job_id`` (text), ``run`` (when the frame has runs), ``job_name``, ``platform``, ``partition``, ``state``,
``elapsed_seconds``, ``alloc_cpus``, ``gpus`` (int; null when sacct printed no TRES field), ``gpu_type``,
``gpu_hours``, ``gpu_util_percent`` (null when not recorded), ``gpu_mem_max_bytes``, ``billed`` (null where the
platform or partition is unknown), ``billing_unit`` (the pool: "CSC CPU BU", "CSC GPU BU", "LUMI core-hours",
"LUMI GPU-hours"), ``billed_so_far`` (true for a job still running), ``cpu_efficiency_percent``,
``memory_efficiency_percent``, ``time_efficiency_percent``, ``advice`` (list of text).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from core.sacct import job_metrics
from core.sacct.advice import job_findings
from core.sacct.fields import ParsedSacct
from core.services.cost import job_platforms, priced
from core.settings import Settings
from core.units import slurm_duration

#: Keys of every row, in order.
ROW_KEYS = ("job_id", "run", "job_name", "platform", "partition", "state", "elapsed_seconds", "alloc_cpus", "gpus",
            "gpu_type", "gpu_hours", "gpu_util_percent", "gpu_mem_max_bytes", "billed", "billing_unit",
            "billed_so_far", "cpu_efficiency_percent", "memory_efficiency_percent", "time_efficiency_percent",
            "advice")


def parsed_jobs(parsed: ParsedSacct, settings: Settings, platform: str | None = None) -> pd.DataFrame:
    """Per-job metrics of one parsed sacct output, priced; platform from sacct's Cluster, else ``platform``."""
    jobs = job_metrics(parsed.frame)
    where = job_platforms(jobs, None, platform or settings.default_platform)
    return priced(jobs, where, settings)


def _number(value: Any, scale: float = 1.0) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return None if math.isnan(number) else number * scale


def _count(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else round(number)


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def report_rows(jobs: pd.DataFrame, settings: Settings) -> list[dict[str, Any]]:
    """One dict per priced job (:func:`parsed_jobs` or core.services.cost.priced), keys :data:`ROW_KEYS`."""
    if jobs.empty:
        return []
    jobs = jobs.reset_index(drop=True)
    with_run = jobs if "run" in jobs.columns else jobs.assign(run="")
    notes = job_findings(with_run, settings.advice)
    advice: dict[tuple[str, str], list[str]] = {}
    for note in notes.itertuples(index=False):
        advice.setdefault((str(note.run), str(note[notes.columns.get_loc("job-id")])), []).append(
            f"{note.finding}: {note.figure}; {note.advice}")
    rows = []
    for job in with_run.to_dict("records"):
        run = str(job.get("run") or "")
        finished = bool(job.get("finished", True))
        rows.append({
            "job_id": str(job["job-id"]), "run": run or None, "job_name": _text(job.get("job-name")),
            "platform": _text(job.get("platform")), "partition": _text(job.get("partition")),
            "state": _text(job.get("state")), "elapsed_seconds": _number(job.get("elapsed-seconds")),
            "alloc_cpus": _count(job.get("alloc-cpus")), "gpus": _count(job.get("gpus")),
            "gpu_type": _text(job.get("gpu-type")), "gpu_hours": _number(job.get("gpu-hours")),
            "gpu_util_percent": _number(job.get("gpu-util")), "gpu_mem_max_bytes": _number(job.get("gpu-mem-max")),
            "billed": _number(job.get("billed")), "billing_unit": _text(job.get("billing-unit")),
            "billed_so_far": not finished and _number(job.get("billed")) is not None,
            "cpu_efficiency_percent": _number(job.get("cpu-efficiency"), 100),
            "memory_efficiency_percent": _number(job.get("memory-efficiency"), 100),
            "time_efficiency_percent": _number(job.get("time-efficiency"), 100),
            "advice": advice.get((run, str(job["job-id"])), []),
        })
    return rows


#: The terminal table: (key, header, width, how the value is shown).
TABLE_COLUMNS: tuple[tuple[str, str, int, str], ...] = (
    ("job_id", "JobID", 14, "text"), ("state", "State", 13, "text"), ("platform", "Platform", 8, "text"),
    ("partition", "Partition", 12, "text"), ("elapsed_seconds", "Elapsed", 11, "duration"),
    ("alloc_cpus", "CPUs", 5, "count"), ("cpu_efficiency_percent", "CPUEff", 6, "percent"),
    ("memory_efficiency_percent", "MemEff", 6, "percent"), ("gpus", "GPUs", 4, "count"),
    ("gpu_hours", "GPU-h", 8, "number"), ("gpu_util_percent", "GPUUse", 6, "percent"),
    ("billed", "Billed", 10, "number"), ("billing_unit", "Unit", 14, "text"),
)


def cell(kind: str, value: Any) -> str:
    """A value as the terminal table shows it: ``-`` for unknown (not recorded, not billed)."""
    if value is None:
        return "-"
    if kind == "duration":
        return slurm_duration(float(value))
    if kind == "percent":
        return f"{float(value):.0f}%"
    if kind == "number":
        return f"{float(value):,.1f}"
    if kind == "count":
        return f"{int(value):,}"
    return str(value)


def table_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The rows as a fixed-width table with a header line, as reportseff prints; advice on indented lines below."""
    def line(values: list[str]) -> str:
        return " ".join(v.rjust(w) if i else v.ljust(w)
                        for i, (v, (_, _, w, _)) in enumerate(zip(values, TABLE_COLUMNS, strict=True))).rstrip()

    out = [line([header for _, header, _, _ in TABLE_COLUMNS])]
    for row in rows:
        out.append(line([cell(kind, row[key]) for key, _, _, kind in TABLE_COLUMNS]))
        out.extend(f"    {note}" for note in row["advice"])
    return out


def csv_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a frame with :data:`ROW_KEYS` columns; advice joined with `` | ``."""
    frame = pd.DataFrame(rows, columns=list(ROW_KEYS))
    frame["advice"] = frame["advice"].map(lambda notes: " | ".join(notes) if isinstance(notes, list) else "")
    return frame
