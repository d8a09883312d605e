"""Per-job efficiency, as ``seff``, reportseff and jobstats compute it, from a parsed sacct frame."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.sacct.convert import durations_to_seconds, sizes_to_numbers
from core.sacct.gpu import gpu_allocation, step_gpu_use, tres_number

#: States of a job that has not ended: its TotalCPU and MaxRSS are only updated when a step ends, and its Elapsed
#: still grows, so it has no CPU, memory or time efficiency yet.
UNFINISHED_STATES = frozenset({
    "PENDING", "RUNNING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SUSPENDED", "COMPLETING",
    "CONFIGURING", "SIGNALING", "STAGE_OUT", "STOPPED",
})


def parent_job_id(job_ids: pd.Series) -> pd.Series:
    """The job an id belongs to: ``123_4`` and ``123_[1-5]`` → ``123`` (array), ``176+0`` → ``176`` (het job)."""
    return job_ids.astype(pd.StringDtype("pyarrow")).str.extract(r"^(\d+)")[0].fillna(job_ids)


def _col(frame: pd.DataFrame, name: str, dtype: str = "float64") -> pd.Series:
    if name in frame.columns:
        return frame[name].astype(dtype)
    return pd.Series(np.nan, index=frame.index, dtype=dtype)


def tres_memory(tres: pd.Series) -> pd.Series:
    """The ``mem=`` of TRES strings (``billing=1,cpu=1,mem=7996M,node=1``) in bytes; null where there is none."""
    # A run repeats a few TRES strings many times: read each distinct one once.
    codes, distinct = pd.factorize(tres.astype("string"))
    mem = pd.Series(distinct, dtype="string").str.extract(r"(?:^|,)mem=([0-9.]+[KMGTPE]?)(?:,|$)")[0]
    values = np.append(sizes_to_numbers(mem.fillna(""), binary=True).astype("float64"), np.nan)
    return pd.Series(values[codes], index=tres.index, dtype="float64")  # code -1 (missing) takes the NaN


def tres_cpu(tres: pd.Series) -> pd.Series:
    """The ``cpu=`` of TRES usage strings (``cpu=00:00:03,mem=25424K``) in seconds; null where there is none."""
    codes, distinct = pd.factorize(tres.astype("string"))
    cpu = pd.Series(distinct, dtype="string").str.extract(r"(?:^|,)cpu=([0-9:.-]+)(?:,|$)")[0]
    values = np.append(durations_to_seconds(cpu.fillna("")).astype("float64"), np.nan)
    return pd.Series(values[codes], index=tres.index, dtype="float64")


#: Where a job's ``total-cpu-seconds`` came from (column ``total-cpu-source``).
CPU_FROM_TOTALCPU = "TotalCPU"
CPU_FROM_STEPS = "steps' TotalCPU"
CPU_FROM_TRES = "steps' TRESUsageIn cpu="


def _cpu_time(jobs: pd.DataFrame, steps: pd.DataFrame, index: pd.Index) -> tuple[pd.Series, pd.Series]:
    """Each job's CPU time in seconds and where it came from.

    TotalCPU of the job row (in text, Slurm's sum over the steps), else the sum over its steps. A step's CPU time
    is its TotalCPU, or its ``TRESUsageInTot``/``TRESUsageInMax`` ``cpu=`` when that is larger: a step whose
    processes were killed (a job cancelled while running) loses their CPU time from TotalCPU, which counts only
    the processes it waited for, while the sampled TRES usage kept it (``seff`` reports 0 % there). A job printed
    without steps (``sacct -X``) whose TotalCPU is 0 has no recorded CPU time (null): Slurm puts the figure on the
    steps.
    """
    job_total = _col(jobs, "total-cpu-seconds").reindex(index)
    step_total = _col(steps, "total-cpu-seconds")
    sampled = pd.concat([tres_cpu(_col(steps, name, "object")) for name in ("tres-usage-in-tot", "tres-usage-in-max")],
                        axis=1).max(axis=1)
    step_best = pd.concat([step_total, sampled], axis=1).max(axis=1)
    by_step = steps["_key"]
    steps_sum = step_total.groupby(by_step).sum(min_count=1).reindex(index)
    best_sum = step_best.groupby(by_step).sum(min_count=1).reindex(index)
    has_steps = pd.Series(index.isin(by_step.unique()), index=index)
    total = job_total.where(~((job_total == 0) & ~has_steps))
    source = pd.Series(None, index=index, dtype="object")
    source[total.notna()] = CPU_FROM_TOTALCPU
    from_steps = total.isna() & steps_sum.notna()
    total = total.fillna(steps_sum)
    source[from_steps] = CPU_FROM_STEPS
    raised = best_sum.notna() & (best_sum > total.fillna(0) + 0.5)  # TRES prints whole seconds of CPU
    total = total.mask(raised, best_sum)
    source[raised] = CPU_FROM_TRES
    return total, source


def requested_memory(req_mem: pd.Series, scope: pd.Series, alloc_cpus: pd.Series, n_nodes: pd.Series,
                     alloc_tres: pd.Series) -> pd.Series:
    """The job's whole memory allocation in bytes.

    AllocTRES ``mem=`` is what Slurm allocated, so it wins when printed. Otherwise ReqMem: per CPU (``c`` suffix) ×
    AllocCPUS, per node (``n`` suffix) × NNodes, and without a suffix it already is the job's total (Slurm ≥ 21.08
    prints the total; earlier versions always printed a suffix).
    """
    scope = scope.astype("object").fillna("")
    factor = np.where(scope == "cpu", alloc_cpus.astype("float64"),
                      np.where(scope == "node", n_nodes.astype("float64").where(n_nodes > 0).fillna(1), 1.0))
    allocated = tres_memory(alloc_tres)
    # A job that never started has nothing allocated (mem=0 or no string): what it asked for is ReqMem.
    return allocated.where(allocated > 0).fillna(req_mem.astype("float64") * factor)


def job_metrics(frame: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per job record (each array task and het component), with seff-style efficiencies.

    A job is its job id, within its cluster when the frame has a Cluster column (``sacct -M`` can print the same id
    for two clusters), and within the values of the ``by`` columns (``("run",)``: several stored runs computed in
    one pass, each job of each run its own row; those columns come first in the result, rows without them are
    left out). Formulas (as ``seff``, reportseff and jobstats define them):

    - ``cpu-efficiency`` = CPU time / (Elapsed × AllocCPUS); the CPU time is TotalCPU, or what the steps recorded
      (see :func:`_cpu_time`; ``total-cpu-source`` says which);
    - ``time-efficiency`` = Elapsed / Timelimit, also for a running job (the time used so far, as reportseff);
    - ``memory-efficiency`` = max over the job's rows of (MaxRSS × NTasks) / the job's memory allocation (see
      :func:`requested_memory`), NTasks missing counting as 1. It can exceed 100 %: MaxRSS is each task's peak,
      sampled at different moments, and the product assumes every task peaks at once;
    - ``core-seconds`` = Elapsed × AllocCPUS (sacct's CPUTimeRAW: what the allocation held, used or not);
    - ``queue-wait-seconds`` = Start − Submit;
    - ``gpus`` and ``gpu-type`` from AllocTRES (ReqTRES for a pending job; :mod:`core.sacct.gpu`), ``gpu-hours`` =
      GPUs × Elapsed, ``gpu-util`` = the highest per-GPU use (percent) of the job's steps and ``gpu-mem-max`` the
      highest per-GPU peak memory (bytes), from ``gres/gpuutil`` and ``gres/gpumem`` (:func:`core.sacct.gpu.
      step_gpu_use`): null where Slurm recorded none;
      ``nvme-gib`` = AllocTRES ``gres/nvme`` (GiB of local disk).

    ``finished`` is true when the job has ended (its state is not pending, running, requeued, suspended...; a frame
    without State counts as ended). CPU efficiency is given for finished jobs that ran (Elapsed > 0); memory
    efficiency for finished jobs not known to have never run (it does not depend on Elapsed, which may be missing);
    time efficiency for every job that ran, finished or not. Every metric is null when one of its inputs is missing
    or its denominator is zero: a chart must not show a fake zero. Charts and aggregates count only
    :func:`finished_that_ran` jobs.
    ``out-of-memory`` is true when the job or one of its steps ended OUT_OF_MEMORY.
    """
    if by:
        frame = frame.dropna(subset=list(by))
    if "job-id" not in frame.columns or frame.empty:
        return pd.DataFrame(columns=[*by, *(c for c in _METRIC_COLUMNS if c != "cluster")])
    step = _col(frame, "step", "object").fillna("")
    rows = frame.assign(step=step)
    with_cluster = "cluster" in rows.columns
    key = rows["job-id"].astype("string")
    # The unit separator never appears in a run or cluster name or a job id.
    if with_cluster:
        key = rows["cluster"].astype("string").fillna("") + "\x1f" + key
    for name in reversed(by):
        key = rows[name].astype("string") + "\x1f" + key
    rows = rows.assign(_key=key)
    jobs = rows[rows["step"] == ""].drop_duplicates("_key").set_index("_key")
    steps = rows[rows["step"] != ""]
    # Jobs printed only through their steps still get a row.
    missing = pd.Index(steps["_key"].unique()).difference(jobs.index)
    if len(missing):
        named = [*by, "job-id"] + (["cluster"] * with_cluster)
        first = steps.drop_duplicates("_key").set_index("_key").loc[missing, named]
        jobs = pd.concat([jobs, first])
    by_job = rows["_key"]
    rss = _col(rows, "max-rss") * _col(rows, "n-tasks").fillna(1).astype("float64")
    # The columns are gathered first and made one frame at the end (a column set on a frame costs more than its
    # figures on a run's few hundred jobs).
    out: dict[str, Any] = {}
    index = jobs.index
    for name in by:
        out[name] = jobs[name]
    out["job-id"] = jobs["job-id"].astype("string")
    if with_cluster:
        out["cluster"] = jobs["cluster"].astype("string")
    for name in ("job-name", "state", "partition", "exit-code"):
        out[name] = _col(jobs, name, "object")
    # NCPUS is AllocCPUS under another name (sacct prints either); use it when AllocCPUS was not asked for.
    out["alloc-cpus"] = _col(jobs, "alloc-cpus").fillna(_col(jobs, "ncpus"))
    out["n-nodes"] = _col(jobs, "n-nodes")
    out["n-tasks"] = _col(rows, "n-tasks").groupby(by_job).max().reindex(index)
    for name in ("elapsed-seconds", "timelimit-seconds", "submit-time", "start-time", "end-time"):
        out[name] = _col(jobs, name)
    out["total-cpu-seconds"], out["total-cpu-source"] = _cpu_time(jobs, steps, index)
    if "state" in frame.columns:
        # A job that ended without running (cancelled while pending) has no start: sacct's text prints the
        # cancel time there, its JSON none.
        never_started = out["state"].notna() & ~out["state"].isin(UNFINISHED_STATES) & (out["elapsed-seconds"] == 0)
        out["start-time"] = out["start-time"].mask(never_started)
    out["core-seconds"] = out["elapsed-seconds"] * out["alloc-cpus"]
    out["queue-wait-seconds"] = out["start-time"] - out["submit-time"]
    out["max-rss"] = rss.groupby(by_job).max().reindex(index)
    out["req-mem-scope"] = _col(jobs, "req-mem-scope", "object")
    out["req-mem-bytes"] = requested_memory(_col(jobs, "req-mem"), out["req-mem-scope"], out["alloc-cpus"],
                                            out["n-nodes"], _col(jobs, "alloc-tres", "object"))
    gpu = gpu_allocation(*(jobs[c] if c in jobs.columns else None for c in ("alloc-tres", "req-tres", "alloc-gres")),
                         index=jobs.index)
    out["gpus"] = pd.Series(gpu["gpus"].to_numpy(), index=index)
    out["gpu-type"] = pd.Series(gpu["gpu-type"].to_numpy(), index=index)
    out["gpu-hours"] = out["gpus"] * out["elapsed-seconds"] / 3600
    use = step_gpu_use(rows, rows["_key"].map(out["gpus"]))
    out["gpu-util"] = use["gpu-util"].groupby(by_job).max().reindex(index)
    out["gpu-mem-max"] = use["gpu-mem-max"].groupby(by_job).max().reindex(index)
    nvme = tres_number(_col(jobs, "alloc-tres", "object"), "gres/nvme")
    out["nvme-gib"] = nvme.fillna(0.0) if "alloc-tres" in jobs.columns else nvme
    out["steps"] = (rows["step"] != "").groupby(by_job).sum().reindex(index).fillna(0).astype("Int64")
    state = out["state"].astype("object")
    if "state" in frame.columns:
        out["finished"] = state.notna() & ~state.isin(UNFINISHED_STATES)
        oom = (_col(rows, "state", "object") == "OUT_OF_MEMORY").groupby(by_job).any()
        out["out-of-memory"] = oom.reindex(index).fillna(False).astype(bool)
    else:
        out["finished"] = True
        out["out-of-memory"] = False
    ran = out["elapsed-seconds"] > 0
    never_ran = out["elapsed-seconds"] == 0

    def ratio(num: pd.Series, den: pd.Series, when: pd.Series) -> pd.Series:
        den = den.where((den > 0) & when)
        return (num / den).astype("float64")

    out["cpu-efficiency"] = ratio(out["total-cpu-seconds"], out["core-seconds"], out["finished"] & ran)
    out["time-efficiency"] = ratio(out["elapsed-seconds"], out["timelimit-seconds"], ran)
    out["memory-efficiency"] = ratio(out["max-rss"], out["req-mem-bytes"], out["finished"] & ~never_ran)
    result = pd.DataFrame(out, index=index)
    if by:
        # Each group's jobs together, the groups in the order they first appear (jobs printed only through their
        # steps come last in their group, as they do for a frame of that group alone).
        group, _ = pd.factorize(pd.MultiIndex.from_frame(rows[list(by)]))
        rank = pd.Series(group, index=by_job.to_numpy()).groupby(level=0).first().reindex(result.index)
        result = result.iloc[np.argsort(rank.to_numpy(), kind="stable")]
    result = result.reset_index(drop=True)
    result["parent-job-id"] = parent_job_id(result["job-id"])
    for name in ("alloc-cpus", "n-nodes", "n-tasks", "gpus"):
        result[name] = result[name].round().astype("Int64")
    columns = [*by, *(c for c in _METRIC_COLUMNS if c != "cluster" or with_cluster)]
    return result[columns]


_METRIC_COLUMNS = (
    "cluster", "job-id", "parent-job-id", "job-name", "state", "exit-code", "partition", "finished", "out-of-memory",
    "alloc-cpus", "n-nodes", "n-tasks", "elapsed-seconds", "timelimit-seconds", "total-cpu-seconds",
    "total-cpu-source", "core-seconds",
    "submit-time", "start-time", "end-time", "queue-wait-seconds", "cpu-efficiency", "time-efficiency",
    "memory-efficiency", "max-rss", "req-mem-bytes", "req-mem-scope", "gpus", "gpu-type", "gpu-hours", "gpu-util",
    "gpu-mem-max", "nvme-gib", "steps",
)


def finished_that_ran(jobs: pd.DataFrame) -> pd.Series:
    """The jobs of a :func:`job_metrics` frame that charts, headline aggregates and advice count.

    Finished jobs that ran (Elapsed > 0, or Elapsed not printed). A running job's time efficiency so far is its own
    figure, not theirs.
    """
    finished = jobs["finished"].fillna(False).astype(bool) if "finished" in jobs else pd.Series(True, jobs.index)
    elapsed = _col(jobs, "elapsed-seconds")
    return finished & ~(elapsed <= 0)
