"""Findings of the SACCT page and the Upload preview: notes with advice, waste and failures per run or platform."""

from __future__ import annotations

import pandas as pd

from core.sacct.advice import failures, job_findings, waste_summary
from core.serialize import frame_to_csv
from core.services.tables import ColumnKind, headed_table
from core.settings import Settings

#: How findings are made and ordered, said above them.
FINDINGS_HELP = (
    "Notes for finished jobs that ran at least {minutes:g} min: Time eff. below {time:g} %, CPU eff. below {cpu:g} % "
    "(more than one core), Mem eff. below {memory:g} %, and every OUT_OF_MEMORY job or step. The advice leaves "
    "{margin:g} % over what the job used (--time: over the longest completed job of the same name in the run). "
    "GPU jobs whose cluster recorded GPU use (gres/gpuutil; not recorded is no finding, never 0 %): idle GPUs (0 % "
    "use), GPU use below {gpu:g} %, peak GPU memory below {gpu_memory:g} % of the GPU's. "
    "Worst first: GPU notes by the billing at stake (the job's bill × its unused share), then out of memory, then "
    "by the core-hours at stake (idle core-hours; unused Timelimit × AllocCPUS; the job's core-hours × its unused "
    "memory share). Thresholds are settings (ADVICE_* in .env)."
)


def findings_help(settings: Settings) -> str:
    """:data:`FINDINGS_HELP` with the configured thresholds."""
    t = settings.advice
    return FINDINGS_HELP.format(minutes=t.min_minutes, time=t.time_efficiency_percent, cpu=t.cpu_efficiency_percent,
                                memory=t.memory_efficiency_percent, margin=t.margin_percent, gpu=t.gpu_util_percent,
                                gpu_memory=t.gpu_memory_percent)


def findings(jobs: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Every note of the jobs (core.sacct.advice.job_findings), worst first."""
    return job_findings(jobs, settings.advice)


def findings_csv(notes: pd.DataFrame) -> bytes:
    """The findings as CSV, with the headers the page shows."""
    return frame_to_csv(headed_table(notes, FINDING_HEADERS, "UTC").frame)


#: Findings table: column → (header, kind).
FINDING_HEADERS: dict[str, tuple[str, ColumnKind]] = {
    "run": ("Run", "text"), "job-id": ("JobID", "text"), "job-name": ("JobName", "text"), "state": ("State", "text"),
    "finding": ("Finding", "text"), "figure": ("Figure", "text"), "threshold": ("Threshold", "text"),
    "advice": ("Ask next time", "text"), "billed at stake": ("Billed at stake", "hours"),
    "billing-unit": ("Billing unit", "text"), "core-hours at stake": ("Core-hours at stake", "hours"),
}
#: Per-run and per-platform waste table: column → (header, kind).
WASTE_HEADERS: dict[str, tuple[str, ColumnKind]] = {
    "run": ("Run", "text"), "platform": ("Platform", "text"), "jobs": ("Jobs", "count"),
    "finished jobs": ("Finished", "count"), "wasted core-hours": ("Idle core-hours", "hours"),
    "jobs with CPU time": ("Jobs with TotalCPU", "count"),
    "unused memory GiB-hours": ("Unused memory GiB-hours", "hours"), "jobs with memory": ("Jobs with MaxRSS", "count"),
    "failed jobs": ("Failed", "count"),
    "out of memory": ("Out of memory", "count"),
}
#: Failures table: column → (header, kind).
FAILURE_HEADERS: dict[str, tuple[str, ColumnKind]] = {
    "run": ("Run", "text"), "platform": ("Platform", "text"), "state": ("State", "text"),
    "exit-code": ("ExitCode", "text"), "jobs": ("Jobs", "count"),
}


def waste(jobs: pd.DataFrame, by: str = "run") -> pd.DataFrame:
    """Wasted core-hours, unused memory and failures per run or platform (core.sacct.advice.waste_summary)."""
    return waste_summary(jobs, by)


def failure_counts(jobs: pd.DataFrame, by: str = "run") -> pd.DataFrame:
    """Failed jobs by state and exit code per run or platform (core.sacct.advice.failures)."""
    return failures(jobs, by)


#: Kinds of failure (state and exit code) a run's sentence names, most common first; the rest are counted.
FAILURE_KINDS_SHOWN = 10


def _jobs_text(count: int) -> str:
    return f"{count:,} job" if count == 1 else f"{count:,} jobs"


def run_waste_text(jobs: pd.DataFrame) -> str:
    """One run's idle core-hours, unused memory and failures in a sentence, each with the jobs it counts."""
    if jobs.empty:
        return "No jobs."
    row = waste_summary(jobs.assign(run="run"), "run").iloc[0]
    idle, unused = row["wasted core-hours"], row["unused memory GiB-hours"]
    parts = [
        f"Idle core-hours: {'—' if pd.isna(idle) else f'{idle:,.1f}'} over {row['jobs with CPU time']:,} finished "
        f"jobs with TotalCPU",
        f"unused memory: {'—' if pd.isna(unused) else f'{unused:,.1f}'} GiB-hours over {row['jobs with memory']:,} "
        f"finished jobs with MaxRSS",
    ]
    failed = failures(jobs.assign(run="run"), "run")
    if len(failed):
        shown = failed.head(FAILURE_KINDS_SHOWN)
        kinds = ", ".join(f"{r.state}{f' (exit {r._3})' if r._3 else ''} ×{r.jobs}" for r in shown.itertuples())
        if len(failed) > len(shown):
            rest = failed["jobs"].iloc[len(shown):]
            kinds += f" and {len(rest):,} other kinds ({_jobs_text(int(rest.sum()))})"
        parts.append(f"{row['failed jobs']:,} failed: {kinds}")
    else:
        parts.append("no failed job")
    if row["out of memory"]:
        parts.append(f"{row['out of memory']:,} ran out of memory")
    return "; ".join(parts) + "."
