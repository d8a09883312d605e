"""Sweeps: job arrays, and jobs that share a name in one run, summarised as one distribution.

From the per-job metrics (:func:`core.sacct.metrics.job_metrics`, one row per array task): tasks per state, the
runtime distribution, min / median / max CPU, memory and GPU efficiency of the finished tasks, the tasks that failed
with their exit codes, and advice for the next sweep from the whole distribution: the ``--time`` and ``--mem`` that
would have covered ``COVERAGE`` of the tasks with the advice margin (``ADVICE_MARGIN_PERCENT``), not the largest
outlier alone. A task that timed out needed more than its limit, and one that ran out of memory more than its
request: both count as beyond any value seen, so the advice never covers fewer tasks than it says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.sacct.advice import FAILURE_STATES, Thresholds
from core.units import iec_size, slurm_duration, slurm_memory

#: Share of the tasks the advice covers.
COVERAGE = 0.95
#: Jobs of one run sharing a name form a sweep from this many on.
MIN_NAMED_JOBS = 3
#: Efficiency figures summarised: metric column → label.
EFFICIENCIES = {"cpu-efficiency": "CPU eff.", "memory-efficiency": "Mem eff.", "gpu-efficiency": "GPU eff."}


@dataclass(frozen=True)
class Sweep:
    """A set of tasks of one run.

    An array (``kind`` "array", ``ident`` its array job id) or jobs sharing a name (``kind`` "name", ``ident`` the
    name).
    """

    run: str
    kind: str
    ident: str
    name: str
    tasks: int

    @property
    def key(self) -> str:
        """What names the sweep in a URL: ``<run>/array/<id>`` or ``<run>/name/<job name>``."""
        return f"{self.run}/{self.kind}/{self.ident}"

    @property
    def label(self) -> str:
        """The sweep in a picker."""
        what = f"array {self.ident}" + (f" ({self.name})" if self.name else "") if self.kind == "array" \
            else f"jobs named {self.ident}"
        return f"{what} in {self.run}: {self.tasks:,} tasks"


def _is_task(job_ids: pd.Series) -> pd.Series:
    return job_ids.astype("string").str.fullmatch(r"\d+_\d+").fillna(False).astype(bool)


def find_sweeps(jobs: pd.DataFrame, min_named: int = MIN_NAMED_JOBS) -> list[Sweep]:
    """Every array with at least two tasks, then every name shared by ``min_named`` non-array jobs of a run."""
    if jobs.empty or "job-id" not in jobs.columns:
        return []
    run = jobs["run"].astype(str) if "run" in jobs.columns else pd.Series("", index=jobs.index)
    task = _is_task(jobs["job-id"])
    names = jobs["job-name"].astype("string").fillna("") if "job-name" in jobs.columns else pd.Series(
        "", index=jobs.index)
    sweeps: list[Sweep] = []
    arrays = pd.DataFrame({"run": run, "parent": jobs["job-id"].astype(str).str.split("_").str[0], "name": names})
    for (r, parent), part in arrays[task].groupby(["run", "parent"], sort=False):
        if len(part) >= 2:
            common = part["name"].mode()
            sweeps.append(Sweep(str(r), "array", str(parent), str(common.iloc[0]) if len(common) else "", len(part)))
    named = pd.DataFrame({"run": run, "name": names})[~task & (names != "")]
    for (r, name), part in named.groupby(["run", "name"], sort=False):
        if len(part) >= min_named:
            sweeps.append(Sweep(str(r), "name", str(name), str(name), len(part)))
    return sorted(sweeps, key=lambda s: (-s.tasks, s.run, s.kind, s.ident))


def tasks_of(jobs: pd.DataFrame, sweep: Sweep) -> pd.DataFrame:
    """The rows of ``jobs`` that are the sweep's tasks."""
    run = jobs["run"].astype(str) == sweep.run if "run" in jobs.columns else pd.Series(True, index=jobs.index)
    ids = jobs["job-id"].astype(str)
    if sweep.kind == "array":
        mask = run & _is_task(jobs["job-id"]) & (ids.str.split("_").str[0] == sweep.ident)
    else:
        mask = run & ~_is_task(jobs["job-id"]) & (jobs["job-name"].astype("string").fillna("") == sweep.ident)
    return jobs[mask]


@dataclass(frozen=True)
class Advice:
    """One request for the next sweep: the directive, why, and how many tasks it covers."""

    directive: str | None
    reason: str


@dataclass(frozen=True)
class SweepSummary:
    """What :func:`summarize` found; figures Slurm did not record are null, never 0."""

    tasks: int
    states: pd.DataFrame  # state, tasks
    efficiency: pd.DataFrame  # figure, tasks measured, min, median, max (fractions)
    failed: pd.DataFrame  # job-id, state, exit-code, elapsed-seconds
    elapsed: pd.DataFrame  # job-id, state, elapsed-seconds (every task with an Elapsed)
    time: Advice
    memory: Advice


def _covering(values: np.ndarray, coverage: float) -> float:
    """The smallest value at or above which ``coverage`` of ``values`` lie (inf counts as beyond every value)."""
    ordered = np.sort(values)
    return float(ordered[max(0, math.ceil(coverage * len(ordered)) - 1)])


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return np.asarray(pd.to_numeric(frame[column], errors="coerce"), dtype="float64")


def _states(tasks: pd.DataFrame) -> np.ndarray:
    if "state" not in tasks.columns:
        return np.full(len(tasks), "", dtype=object)
    return np.asarray(tasks["state"].astype("object").where(tasks["state"].notna(), "").astype(str), dtype=object)


def _time_advice(tasks: pd.DataFrame, t: Thresholds, coverage: float) -> Advice:
    state, elapsed, limit = _states(tasks), _floats(tasks, "elapsed-seconds"), _floats(tasks, "timelimit-seconds")
    done, timed_out = (state == "COMPLETED") & ~np.isnan(elapsed), state == "TIMEOUT"
    values = np.concatenate([elapsed[done], np.full(int(timed_out.sum()), np.inf)])
    if len(values) == 0:
        return Advice(None, "no task completed or timed out: no runtime to go by")
    need = _covering(values, coverage)
    counted = f"{len(values):,} tasks that completed or timed out"
    if math.isinf(need):
        longest = np.nanmax(limit[timed_out]) if (timed_out & ~np.isnan(limit)).any() else np.nan
        floor = f" above {slurm_duration(longest)}" if not np.isnan(longest) else ""
        return Advice(None, f"{int(timed_out.sum()):,} of {counted} timed out (more than {1 - coverage:.0%}): "
                            f"ask for more time{floor} and check the slowest tasks")
    ask = max(60.0, math.ceil(need * (1 + t.margin) / 60) * 60)
    return Advice(f"--time={slurm_duration(ask)}",
                  f"covers {coverage:.0%} of the {counted}: Elapsed {slurm_duration(need)} + {t.margin:.0%} "
                  f"(the longest completed task took {slurm_duration(float(np.nanmax(elapsed[done])))})")


def _memory_advice(tasks: pd.DataFrame, t: Thresholds, coverage: float) -> Advice:
    state, peak = _states(tasks), _floats(tasks, "max-rss")
    oom = state == "OUT_OF_MEMORY"
    if "out-of-memory" in tasks.columns:
        oom |= np.asarray(tasks["out-of-memory"].fillna(False).astype(bool), dtype=bool)
    finished = np.asarray(tasks["finished"].fillna(False).astype(bool), dtype=bool) if "finished" in tasks \
        else np.ones(len(tasks), dtype=bool)
    measured = finished & ~oom & ~np.isnan(peak)
    values = np.concatenate([peak[measured], np.full(int(oom.sum()), np.inf)])
    if len(values) == 0:
        return Advice(None, "no finished task recorded MaxRSS: no memory peak to go by")
    need = _covering(values, coverage)
    counted = f"{len(values):,} finished tasks with a peak"
    if math.isinf(need):
        return Advice(None, f"{int(oom.sum()):,} of {counted} ran out of memory (more than {1 - coverage:.0%}): "
                            f"ask for more memory than the request ({t.oom_factor:g} × is the findings' rule)")
    return Advice(f"--mem={slurm_memory(need * (1 + t.margin))}",
                  f"covers {coverage:.0%} of the {counted}: MaxRSS × NTasks {iec_size(need)} + {t.margin:.0%} "
                  f"(the largest peak was {iec_size(float(np.nanmax(peak[measured])))})")


def summarize(tasks: pd.DataFrame, thresholds: Thresholds, coverage: float = COVERAGE) -> SweepSummary:
    """The sweep's distribution and advice (see the module docstring)."""
    states = (tasks["state"].fillna("unknown").astype(str).value_counts().rename_axis("state")
              .reset_index(name="tasks") if "state" in tasks.columns else pd.DataFrame(columns=["state", "tasks"]))
    rows = []
    for column, label in EFFICIENCIES.items():
        values = pd.Series(_floats(tasks, column)).dropna()
        rows.append({"figure": label, "tasks measured": len(values),
                     "min": float(values.min()) if len(values) else None,
                     "median": float(values.median()) if len(values) else None,
                     "max": float(values.max()) if len(values) else None})
    failed_mask = pd.Series(_states(tasks), index=tasks.index).isin(FAILURE_STATES)
    if "out-of-memory" in tasks.columns:
        failed_mask |= tasks["out-of-memory"].fillna(False).astype(bool)
    columns = [c for c in ("job-id", "state", "exit-code", "elapsed-seconds") if c in tasks.columns]
    failed = tasks.loc[failed_mask, columns].reset_index(drop=True)
    elapsed = tasks[[c for c in ("job-id", "state", "elapsed-seconds") if c in tasks.columns]]
    if "elapsed-seconds" in elapsed.columns:
        elapsed = elapsed.dropna(subset=["elapsed-seconds"]).reset_index(drop=True)
    return SweepSummary(len(tasks), states, pd.DataFrame(rows), failed, elapsed,
                        _time_advice(tasks, thresholds, coverage), _memory_advice(tasks, thresholds, coverage))
