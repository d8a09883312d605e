"""Advice from sacct alone, in the spirit of Princeton jobstats' notes: what to ask for next time, and what was lost.

Every function takes the per-job frame of :func:`core.sacct.job_metrics` (plus a ``run`` column, and ``platform``
for the per-platform summary) and returns a frame; nothing here reads files or storage.

A finding names the job, the figure, the threshold it crossed and the exact directive to change:

- **out of memory** (the job or a step ended OUT_OF_MEMORY): what it ran out at and ``--mem`` /
  ``--mem-per-cpu`` = the larger of the request and the peak, times ``oom_factor``;
- **time over-requested** (a COMPLETED job whose Time eff. is below ``time_efficiency``; a job that timed out, failed
  or was cancelled does not tell how long the work takes): ``--time`` = the longest completed job of the same name in
  the run, plus ``margin``, rounded up to a minute;
- **memory over-requested** (Mem eff. below ``memory_efficiency``): ``--mem`` (per node, as sbatch reads it) or
  ``--mem-per-cpu`` = the peak (MaxRSS × NTasks) plus ``margin``;
- **idle cores** (CPU eff. below ``cpu_efficiency``, more than one core): ``--cpus-per-task`` (or ``--ntasks`` for
  a multi-task job) = the cores TotalCPU kept busy on average, plus ``margin``, rounded up.

Only finished jobs that ran at least ``min_seconds`` get the three "over-requested" notes (short jobs say little);
an out-of-memory job always gets its note. GPU notes (:func:`gpu_findings`: idle GPUs, low GPU use, GPU memory far
under the GPU's size) come first, worst first by the billing at stake (GPUs are the biggest spend); then out of
memory, then by the core-hours at stake (idle core-hours; unused Timelimit × AllocCPUS; the job's core-hours × its
unused memory share).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from core.sacct.gpu import GPU_MEMORY, memory_of
from core.units import iec_size, slurm_duration, slurm_memory

GiB = 1024**3

#: Job states counted as failures (with their exit codes) in the per-run summary.
FAILURE_STATES = ("FAILED", "OUT_OF_MEMORY", "TIMEOUT", "NODE_FAIL", "BOOT_FAIL", "DEADLINE")

#: Columns of :func:`job_findings`.
FINDING_COLUMNS = ("run", "job", "job-id", "job-name", "state", "finding", "figure", "threshold", "advice",
                   "billed at stake", "billing-unit", "core-hours at stake")


class Thresholds(BaseModel):
    """When a job gets a note, and how much head room the advice leaves.

    Set as ``ADVICE_<FIELD>`` in the environment or .env, in the units users write (minutes and percentages); the
    properties give the seconds and fractions the rules compare with.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    min_minutes: float = Field(5, ge=0)
    time_efficiency_percent: float = Field(10, ge=0, le=100)
    cpu_efficiency_percent: float = Field(65, ge=0, le=100)
    memory_efficiency_percent: float = Field(70, ge=0, le=100)
    margin_percent: float = Field(20, ge=0, le=1000)
    oom_factor: float = Field(1.5, gt=1, le=100)
    gpu_util_percent: float = Field(50, ge=0, le=100)
    gpu_memory_percent: float = Field(25, ge=0, le=100)

    @property
    def min_seconds(self) -> float:
        """Shortest Elapsed that gets an "over-requested" note, in seconds."""
        return self.min_minutes * 60

    @property
    def time_efficiency(self) -> float:
        """Time eff. below which a completed job gets a note, as a fraction."""
        return self.time_efficiency_percent / 100

    @property
    def cpu_efficiency(self) -> float:
        """CPU eff. below which a job gets a note, as a fraction."""
        return self.cpu_efficiency_percent / 100

    @property
    def memory_efficiency(self) -> float:
        """Mem eff. below which a job gets a note, as a fraction."""
        return self.memory_efficiency_percent / 100

    @property
    def margin(self) -> float:
        """Head room the advice leaves over what the job used, as a fraction."""
        return self.margin_percent / 100


def _floats(jobs: pd.DataFrame, column: str) -> np.ndarray:
    if column not in jobs.columns:
        return np.full(len(jobs), np.nan)
    return np.asarray(pd.to_numeric(jobs[column], errors="coerce"), dtype="float64")


def _texts(jobs: pd.DataFrame, column: str) -> np.ndarray:
    if column not in jobs.columns:
        return np.full(len(jobs), "", dtype=object)
    return np.asarray(jobs[column].astype("object").where(jobs[column].notna(), "").astype(str), dtype=object)


def _flags(jobs: pd.DataFrame, column: str) -> np.ndarray:
    if column not in jobs.columns:
        return np.zeros(len(jobs), dtype=bool)
    return np.asarray(jobs[column].fillna(False).astype(bool), dtype=bool)


def _memory_directive(total: float, per_cpu: bool, cpus: float, nodes: float) -> str:
    """``--mem-per-cpu`` for a per-CPU request, else ``--mem`` per node (sbatch's ``--mem`` is per node)."""
    if per_cpu and cpus > 0:
        return f"--mem-per-cpu={slurm_memory(total / cpus)}"
    if nodes > 1:
        return f"--mem={slurm_memory(total / nodes)} (per node, {int(nodes)} nodes)"
    return f"--mem={slurm_memory(total)}"


def _ran_out(peak: float, request: float) -> str:
    if peak == peak:  # not NaN
        return f"ran out of memory at MaxRSS × NTasks {iec_size(peak)} of {iec_size(request)}"
    return f"ran out of memory; {iec_size(request) or 'no'} requested"


def _oom_advice(base: float, request: float, factor: float, per_cpu: bool, cpus: float, nodes: float) -> str:
    if not base > 0:
        return "ask for more memory (--mem) than the last run"
    what = "the request" if base == request else "the peak"
    return f"{_memory_directive(base * factor, per_cpu, cpus, nodes)} ({factor:g} × {what})"


_NO_CPU_TIME = "TotalCPU is 0: check that the job did its work (a step killed before it reported counts 0)"


def _completed(jobs: pd.DataFrame) -> np.ndarray:
    """Jobs that ran to their end (COMPLETED; every finished job when the output has no State)."""
    if "state" not in jobs.columns:
        return _flags(jobs, "finished")
    return np.asarray(jobs["state"].astype("object") == "COMPLETED", dtype=bool)


def _longest_similar(jobs: pd.DataFrame, completed: np.ndarray) -> np.ndarray:
    """Per job, the longest Elapsed among the completed jobs of the same run and name (its own when unnamed)."""
    name = _texts(jobs, "job-name")
    group = np.where(name == "", _texts(jobs, "job-id"), name)
    elapsed = pd.Series(np.where(completed, _floats(jobs, "elapsed-seconds"), np.nan), index=jobs.index)
    return np.asarray(elapsed.groupby([_texts(jobs, "run"), group]).transform("max"), dtype="float64")


def job_findings(jobs: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """Every note for every job, worst first (see the module docstring for the rules)."""
    if jobs.empty:
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    t = thresholds
    elapsed, limit = _floats(jobs, "elapsed-seconds"), _floats(jobs, "timelimit-seconds")
    cpus, used_cpu = _floats(jobs, "alloc-cpus"), _floats(jobs, "total-cpu-seconds")
    peak, request = _floats(jobs, "max-rss"), _floats(jobs, "req-mem-bytes")
    nodes, tasks = _floats(jobs, "n-nodes"), _floats(jobs, "n-tasks")
    per_cpu = _texts(jobs, "req-mem-scope") == "cpu"
    oom = _flags(jobs, "out-of-memory")
    completed = _completed(jobs)
    # NaN compares False, so a job missing a figure gets no note about it.
    with np.errstate(invalid="ignore", divide="ignore"):
        measured = _flags(jobs, "finished") & (elapsed >= t.min_seconds)
        time_eff, cpu_eff, mem_eff = (_floats(jobs, c) for c in ("time-efficiency", "cpu-efficiency",
                                                                 "memory-efficiency"))
        busy = used_cpu / elapsed
        ask_cores = np.maximum(1, np.ceil(busy * (1 + t.margin)))
        core_hours = elapsed * cpus / 3600
        parts: list[pd.DataFrame] = []

        def part(mask: np.ndarray, kind: str, figure: list[str], threshold: str, advice: list[str],
                 stake: np.ndarray) -> None:
            if mask.any():
                rows = jobs.loc[mask]
                parts.append(pd.DataFrame({
                    "run": _texts(rows, "run"), "job": _texts(rows, "job") if "job" in rows else _texts(rows, "job-id"),
                    "job-id": _texts(rows, "job-id"), "job-name": rows["job-name"].to_numpy()
                    if "job-name" in rows else None, "state": rows["state"].to_numpy() if "state" in rows else None,
                    "finding": kind, "figure": figure, "threshold": threshold, "advice": advice,
                    "core-hours at stake": stake[mask],
                }))

        m = oom
        base = np.fmax(np.fmax(peak, request), 0)
        part(m, "out of memory", [_ran_out(p, r) for p, r in zip(peak[m], request[m], strict=True)],
             "state OUT_OF_MEMORY",
             [_oom_advice(b, r, t.oom_factor, c, n, d)
              for b, r, c, n, d in zip(base[m], request[m], per_cpu[m], cpus[m], nodes[m], strict=True)],
             np.full(len(jobs), np.inf))
        # Only a job that ran to its end tells how long the work takes.
        m = measured & completed & (time_eff < t.time_efficiency)
        longest = _longest_similar(jobs, completed)
        ask_time = np.maximum(60.0, np.ceil(longest * (1 + t.margin) / 60) * 60)
        part(m, "time over-requested",
             [f"Elapsed {slurm_duration(e)} is {f:.0%} of Timelimit {slurm_duration(lim)}"
              for e, f, lim in zip(elapsed[m], time_eff[m], limit[m], strict=True)],
             f"Time eff. < {t.time_efficiency:.0%}",
             [f"--time={slurm_duration(a)} (longest similar job {slurm_duration(g)} + {t.margin:.0%})"
              for a, g in zip(ask_time[m], longest[m], strict=True)],
             (limit - elapsed) * np.where(cpus > 0, cpus, 1) / 3600)
        m = measured & ~oom & (mem_eff < t.memory_efficiency)
        part(m, "memory over-requested",
             [f"MaxRSS × NTasks {iec_size(p)} is {f:.0%} of {iec_size(r)}"
              for p, f, r in zip(peak[m], mem_eff[m], request[m], strict=True)],
             f"Mem eff. < {t.memory_efficiency:.0%}",
             [f"{_memory_directive(p * (1 + t.margin), c, n, d)} (peak + {t.margin:.0%})"
              for p, c, n, d in zip(peak[m], per_cpu[m], cpus[m], nodes[m], strict=True)],
             core_hours * (1 - mem_eff))
        idle = measured & (cpu_eff < t.cpu_efficiency) & (cpus > 1)
        stake = (elapsed * cpus - used_cpu) / 3600
        m = idle & (used_cpu == 0)
        part(m, "idle cores", [f"CPU eff. {f:.0%}: TotalCPU kept 0.0 of {int(c)} cores busy"
                               for f, c in zip(cpu_eff[m], cpus[m], strict=True)],
             f"CPU eff. < {t.cpu_efficiency:.0%}",
             [_NO_CPU_TIME] * int(m.sum()),
             stake)
        m = idle & (used_cpu > 0) & (ask_cores < cpus)
        spread = (tasks > 1) | (nodes > 1)
        part(m, "idle cores", [f"CPU eff. {f:.0%}: TotalCPU kept {b:.1f} of {int(c)} cores busy"
                               for f, b, c in zip(cpu_eff[m], busy[m], cpus[m], strict=True)],
             f"CPU eff. < {t.cpu_efficiency:.0%}",
             [f"{'--ntasks' if s else '--cpus-per-task'}={int(a)} (busy cores + {t.margin:.0%})"
              for s, a in zip(spread[m], ask_cores[m], strict=True)],
             stake)
    gpu = gpu_findings(jobs, t)
    if not parts and gpu.empty:
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(FINDING_COLUMNS))
    out = out.sort_values("core-hours at stake", ascending=False, kind="stable")
    out["core-hours at stake"] = out["core-hours at stake"].replace(np.inf, np.nan)
    out = out.assign(**{"billed at stake": np.nan, "billing-unit": None})
    frames = [f for f in (gpu, out) if not f.empty]
    return pd.concat(frames, ignore_index=True)[list(FINDING_COLUMNS)]


def _gpu_words(gpus: float, kind: object) -> str:
    named = f"{kind} " if isinstance(kind, str) and kind else ""
    return f"{int(gpus)} {named}GPU{'s' if gpus != 1 else ''}"


def _gres(kind: object, count: int) -> str:
    return f"--gres=gpu:{kind}:{count}" if isinstance(kind, str) and kind and "+" not in kind else f"--gpus={count}"


def gpu_findings(jobs: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """Idle GPUs, low GPU use and GPU memory far under the GPU's size, worst first by the billing at stake.

    Only finished jobs with GPUs that ran at least ``min_seconds`` and whose cluster recorded ``gres/gpuutil``
    (``gpu-util``; absent is "not recorded", never 0 %). ``billed at stake`` is the job's bill (``billed``, in its
    ``billing-unit``) times the unused share: all of it for an idle GPU, (1 − use) for low use.
    """
    columns = list(FINDING_COLUMNS)
    if jobs.empty or "gpus" not in jobs.columns:
        return pd.DataFrame(columns=columns)
    t = thresholds
    gpus, util, peak = _floats(jobs, "gpus"), _floats(jobs, "gpu-util"), _floats(jobs, "gpu-mem-max")
    elapsed, bill = _floats(jobs, "elapsed-seconds"), _floats(jobs, "billed")
    kind = jobs["gpu-type"].astype("object").to_numpy() if "gpu-type" in jobs.columns else np.full(len(jobs), None)
    unit = _texts(jobs, "billing-unit")
    partition = _texts(jobs, "partition")
    with np.errstate(invalid="ignore"):
        ran = _flags(jobs, "finished") & (gpus > 0) & (elapsed >= t.min_seconds) & ~np.isnan(util)
        idle = ran & (util == 0)
        low = ran & (util > 0) & (util < t.gpu_util_percent)
    memory = np.array([memory_of(k) or np.nan for k in kind], dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        small = ran & ~idle & (peak >= 0) & (peak < memory * t.gpu_memory_percent / 100)
    rows: list[dict[str, object]] = []
    for i in np.flatnonzero(idle | low | small):
        base = {"run": _texts(jobs, "run")[i], "job": (_texts(jobs, "job") if "job" in jobs else
                                                      _texts(jobs, "job-id"))[i],
                "job-id": _texts(jobs, "job-id")[i], "job-name": _texts(jobs, "job-name")[i] or None,
                "state": _texts(jobs, "state")[i] or None, "billing-unit": unit[i] or None,
                "core-hours at stake": np.nan}
        words = _gpu_words(gpus[i], kind[i])
        money = f"; {bill[i]:,.1f} {unit[i]} at stake" if bill[i] == bill[i] and unit[i] else ""
        if idle[i]:
            rows.append({**base, "finding": "idle GPUs",
                         "figure": f"{words} allocated, 0 % use recorded (gres/gpuutil){money}",
                         "threshold": "GPU use 0 %",
                         "advice": "check that the program found its GPUs (torch.cuda.is_available(), "
                                   "CUDA_VISIBLE_DEVICES); if it needs none, submit without --gres=gpu to a CPU "
                                   "partition (--partition=small)",
                         "billed at stake": bill[i]})
            continue
        if low[i]:
            want = max(1, int(np.ceil(gpus[i] * util[i] / 100 * (1 + t.margin))))
            if gpus[i] > 1 and want < gpus[i]:
                advice = f"{_gres(kind[i], want)} (GPUs kept busy + {t.margin:.0%})"
            elif str(kind[i]).lower() == "a100" and partition[i] in ("gpusmall", "gputest", "gpumedium"):
                advice = "--gres=gpu:a100_1g.5gb:1 --partition=gpusmall (a seventh of an A100) if its memory suffices"
            else:
                advice = "feed the GPU faster (more --cpus-per-task for data loading, bigger batches) or use a " \
                         "smaller GPU"
            rows.append({**base, "finding": "low GPU use",
                         "figure": f"{words}, {util[i]:.0f} % use recorded (gres/gpuutil){money}",
                         "threshold": f"GPU use < {t.gpu_util_percent:g} %", "advice": advice,
                         "billed at stake": bill[i] * (1 - util[i] / 100)})
        if small[i]:
            fits_slice = peak[i] * (1 + t.margin) <= GPU_MEMORY["a100_1g.5gb"] and str(kind[i]).lower() == "a100"
            rows.append({**base, "finding": "GPU memory unused",
                         "figure": f"peak GPU memory {iec_size(peak[i])} of {iec_size(memory[i])} per {kind[i]} "
                                   "(gres/gpumem)",
                         "threshold": f"GPU memory < {t.gpu_memory_percent:g} % of the GPU's",
                         "advice": "--gres=gpu:a100_1g.5gb:1 --partition=gpusmall (5 GiB slice)" if fits_slice
                         else "a GPU with less memory, or a bigger batch size to use this one",
                         "billed at stake": np.nan})
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(rows)
    return out.sort_values("billed at stake", ascending=False, kind="stable", na_position="last")[columns]


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
