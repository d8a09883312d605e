"""Advice from sacct alone, in the spirit of Princeton jobstats' notes: what to ask for next time, and what was lost.

Every function takes the per-job frame of :func:`core.sacct.job_metrics` (plus a ``run`` column, and ``platform``
for the per-platform summary) and returns a frame; nothing here reads files or storage.

A finding names the job, the figure, the threshold it crossed and the exact directive to change:

- **out of memory** (the job or a step ended OUT_OF_MEMORY): what it ran out at and ``--mem`` /
  ``--mem-per-cpu`` = the larger of the request and the peak, times ``oom_factor``;
- **time over-requested** (Time eff. below ``time_efficiency``): ``--time`` = the longest finished job of the same
  name in the run, plus ``margin``, rounded up to a minute;
- **memory over-requested** (Mem eff. below ``memory_efficiency``): ``--mem`` (per node, as sbatch reads it) or
  ``--mem-per-cpu`` = the peak (MaxRSS × NTasks) plus ``margin``;
- **idle cores** (CPU eff. below ``cpu_efficiency``, more than one core): ``--cpus-per-task`` (or ``--ntasks`` for
  a multi-task job) = the cores TotalCPU kept busy on average, plus ``margin``, rounded up.

Only finished jobs that ran at least ``min_seconds`` get the three "over-requested" notes (short jobs say little);
an out-of-memory job always gets its note. Findings are ordered worst first: out of memory, then by the core-hours
at stake (idle core-hours; unused Timelimit × AllocCPUS; the job's core-hours × its unused memory share).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.units import iec_size, slurm_memory

GiB = 1024**3

#: Job states counted as failures (with their exit codes) in the per-run summary.
FAILURE_STATES = ("FAILED", "OUT_OF_MEMORY", "TIMEOUT", "NODE_FAIL", "BOOT_FAIL", "DEADLINE")

#: Columns of :func:`job_findings`.
FINDING_COLUMNS = ("run", "job", "job-id", "job-name", "state", "finding", "figure", "threshold", "advice",
                   "core-hours at stake")


@dataclass(frozen=True)
class Thresholds:
    """When a job gets a note, and how much head room the advice leaves (fractions, seconds)."""

    min_seconds: float = 300.0
    time_efficiency: float = 0.10
    cpu_efficiency: float = 0.65
    memory_efficiency: float = 0.70
    margin: float = 0.20
    oom_factor: float = 1.5


def _duration(seconds: float) -> str:
    days, rest = divmod(round(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{clock}" if days else clock


def _number(value: object) -> float:
    """A metrics value as a float (NaN when missing)."""
    if value is None or value is pd.NA:
        return math.nan
    return float(str(value))


def _memory_directive(total: float, job: pd.Series) -> str:
    """``--mem-per-cpu`` for a per-CPU request, else ``--mem`` per node (sbatch's ``--mem`` is per node)."""
    cpus = _number(job.get("alloc-cpus"))
    if str(job.get("req-mem-scope")) == "cpu" and cpus > 0:
        return f"--mem-per-cpu={slurm_memory(total / cpus)}"
    nodes = _number(job.get("n-nodes"))
    nodes = nodes if nodes > 1 else 1.0
    return f"--mem={slurm_memory(total / nodes)}" + (f" (per node, {int(nodes)} nodes)" if nodes > 1 else "")


def _completed(jobs: pd.DataFrame) -> pd.Series:
    """Jobs that ran to their end (COMPLETED; every finished job when the output has no State)."""
    if "state" not in jobs.columns:
        return jobs["finished"].astype(bool)
    return (jobs["state"].astype("object") == "COMPLETED").astype(bool)


def _longest_similar(jobs: pd.DataFrame) -> pd.Series:
    """Per job, the longest Elapsed among the completed jobs of the same run and name (its own when unnamed)."""
    name = jobs["job-name"].astype("object") if "job-name" in jobs.columns else pd.Series(None, index=jobs.index)
    group = name.where(name.notna(), jobs["job-id"].astype("object")).astype(str)
    run = jobs["run"].astype(str) if "run" in jobs.columns else pd.Series("", index=jobs.index)
    elapsed = jobs["elapsed-seconds"].astype("float64").where(_completed(jobs))
    return elapsed.groupby([run, group]).transform("max")


def job_findings(jobs: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """Every note for every job, worst first (see the module docstring for the rules)."""
    if jobs.empty:
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    t = thresholds
    longest = _longest_similar(jobs)
    completed = _completed(jobs)
    rows: list[dict[str, object]] = []
    for index, job in jobs.iterrows():
        elapsed, limit = _number(job.get("elapsed-seconds")), _number(job.get("timelimit-seconds"))
        cpus, used_cpu = _number(job.get("alloc-cpus")), _number(job.get("total-cpu-seconds"))
        peak, request = _number(job.get("max-rss")), _number(job.get("req-mem-bytes"))
        core_hours = elapsed * cpus / 3600

        def note(kind: str, figure: str, threshold: str, advice: str, stake: float, job: pd.Series = job) -> None:
            rows.append({
                "run": job.get("run", ""), "job": job.get("job", job["job-id"]), "job-id": job["job-id"],
                "job-name": job.get("job-name"), "state": job.get("state"), "finding": kind, "figure": figure,
                "threshold": threshold, "advice": advice, "core-hours at stake": stake,
            })

        if bool(job.get("out-of-memory", False)):
            base = max(v for v in (peak, request, 0.0) if not math.isnan(v))
            figure = (f"ran out of memory at MaxRSS × NTasks {iec_size(peak)} of {iec_size(request)}"
                      if not math.isnan(peak) else f"ran out of memory; {iec_size(request) or 'no'} requested")
            advice = (f"{_memory_directive(base * t.oom_factor, job)} ({t.oom_factor:g} × "
                      f"{'the request' if base == request else 'the peak'})" if base > 0
                      else "ask for more memory (--mem) than the last run")
            note("out of memory", figure, "state OUT_OF_MEMORY", advice, math.inf)
        measured = bool(job.get("finished", False)) and elapsed >= t.min_seconds
        if not measured:
            continue
        time_eff = _number(job.get("time-efficiency"))
        # Only a job that ran to its end tells how long the work takes.
        if time_eff < t.time_efficiency and bool(completed.loc[index]):
            similar = float(longest.loc[index])
            ask = max(60.0, math.ceil(similar * (1 + t.margin) / 60) * 60)
            note("time over-requested", f"Elapsed {_duration(elapsed)} is {time_eff:.0%} of Timelimit "
                 f"{_duration(limit)}", f"Time eff. < {t.time_efficiency:.0%}",
                 f"--time={_duration(ask)} (longest similar job {_duration(similar)} + {t.margin:.0%})",
                 (limit - elapsed) * (cpus if cpus > 0 else 1) / 3600)
        mem_eff = _number(job.get("memory-efficiency"))
        if mem_eff < t.memory_efficiency and not bool(job.get("out-of-memory", False)):
            note("memory over-requested", f"MaxRSS × NTasks {iec_size(peak)} is {mem_eff:.0%} of "
                 f"{iec_size(request)}", f"Mem eff. < {t.memory_efficiency:.0%}",
                 f"{_memory_directive(peak * (1 + t.margin), job)} (peak + {t.margin:.0%})",
                 core_hours * (1 - mem_eff))
        cpu_eff = _number(job.get("cpu-efficiency"))
        if cpu_eff < t.cpu_efficiency and cpus > 1:
            busy = used_cpu / elapsed
            ask_cores = max(1, math.ceil(busy * (1 + t.margin)))
            figure = f"CPU eff. {cpu_eff:.0%}: TotalCPU kept {busy:.1f} of {int(cpus)} cores busy"
            stake = (elapsed * cpus - used_cpu) / 3600
            if used_cpu == 0:
                note("idle cores", figure, f"CPU eff. < {t.cpu_efficiency:.0%}",
                     "TotalCPU is 0: check that the job did its work (a step killed before it reported counts 0)",
                     stake)
            elif ask_cores < cpus:
                spread = _number(job.get("n-tasks")) > 1 or _number(job.get("n-nodes")) > 1
                directive = f"--ntasks={ask_cores}" if spread else f"--cpus-per-task={ask_cores}"
                note("idle cores", figure, f"CPU eff. < {t.cpu_efficiency:.0%}",
                     f"{directive} (busy cores + {t.margin:.0%})", stake)
    if not rows:
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    out = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    out = out.sort_values("core-hours at stake", ascending=False, kind="stable").reset_index(drop=True)
    out["core-hours at stake"] = out["core-hours at stake"].replace(np.inf, np.nan)
    return out


#: Columns of :func:`waste_summary` besides the grouping column.
WASTE_COLUMNS = ("jobs", "finished jobs", "wasted core-hours", "jobs with CPU time", "unused memory GiB-hours",
                 "jobs with memory", "failed jobs", "out of memory")


def waste_summary(jobs: pd.DataFrame, by: str = "run") -> pd.DataFrame:
    """Per run (or platform): wasted core-hours and unused memory of its finished jobs, and how many failed.

    ``wasted core-hours`` = Σ (Elapsed × AllocCPUS − TotalCPU) over the finished jobs that print all three (``jobs
    with CPU time``); ``unused memory GiB-hours`` = Σ (memory allocated − MaxRSS × NTasks, never below 0) × Elapsed
    over the finished jobs that print both (``jobs with memory``); ``failed jobs`` counts :data:`FAILURE_STATES`;
    ``out of memory`` the jobs with an OUT_OF_MEMORY job or step. Sorted by wasted core-hours, most first.
    """
    if jobs.empty or by not in jobs.columns:
        return pd.DataFrame(columns=[by, *WASTE_COLUMNS])
    done = jobs[jobs["finished"].astype(bool)]
    idle = (done["core-seconds"] - done["total-cpu-seconds"]).clip(lower=0) / 3600
    unused = ((done["req-mem-bytes"] - done["max-rss"]).clip(lower=0) / GiB) * done["elapsed-seconds"] / 3600
    state = jobs["state"].astype("object") if "state" in jobs.columns else pd.Series(None, index=jobs.index)
    frame = pd.DataFrame({
        by: jobs[by].astype(str),
        "jobs": 1,
        "finished jobs": jobs["finished"].astype(int),
        "wasted core-hours": idle.reindex(jobs.index),
        "jobs with CPU time": idle.reindex(jobs.index).notna().astype(int),
        "unused memory GiB-hours": unused.reindex(jobs.index),
        "jobs with memory": unused.reindex(jobs.index).notna().astype(int),
        "failed jobs": state.isin(FAILURE_STATES).astype(int),
        "out of memory": jobs["out-of-memory"].astype(int),
    })
    sums = frame.groupby(by, sort=False).agg({
        "jobs": "sum", "finished jobs": "sum", "wasted core-hours": lambda s: s.sum(min_count=1),
        "jobs with CPU time": "sum", "unused memory GiB-hours": lambda s: s.sum(min_count=1),
        "jobs with memory": "sum", "failed jobs": "sum", "out of memory": "sum",
    })
    return sums.sort_values("wasted core-hours", ascending=False, na_position="last").reset_index()


def failures(jobs: pd.DataFrame, by: str = "run") -> pd.DataFrame:
    """Failed jobs per run (or platform), state and exit code, most first."""
    columns = [by, "state", "exit-code", "jobs"]
    if jobs.empty or "state" not in jobs.columns or by not in jobs.columns:
        return pd.DataFrame(columns=columns)
    failed = jobs[jobs["state"].isin(FAILURE_STATES)]
    if failed.empty:
        return pd.DataFrame(columns=columns)
    exit_code = failed["exit-code"].astype("object") if "exit-code" in failed.columns else None
    keyed = pd.DataFrame({by: failed[by].astype(str), "state": failed["state"].astype(str),
                          "exit-code": exit_code.fillna("").astype(str) if exit_code is not None else ""})
    counts = keyed.value_counts().rename("jobs").reset_index()
    return counts.sort_values(["jobs", by, "state", "exit-code"], ascending=[False, True, True, True],
                              kind="stable").reset_index(drop=True)[columns]
