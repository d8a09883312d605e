"""Per-job efficiency, as ``seff``, reportseff and jobstats compute it, from a parsed sacct frame."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.sacct.convert import durations_to_seconds, gather
from core.sacct.gpu import Distinct, allocation, gpu_use

#: States of a job that has not ended: its TotalCPU and MaxRSS are only updated when a step ends, and its Elapsed
#: still grows, so it has no CPU, memory or time efficiency yet.
UNFINISHED_STATES = frozenset({
    "PENDING", "RUNNING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SUSPENDED", "COMPLETING",
    "CONFIGURING", "SIGNALING", "STAGE_OUT", "STOPPED",
})


def parent_job_id(job_ids: pd.Series) -> pd.Series:
    """The job an id belongs to: ``123_4`` and ``123_[1-5]`` → ``123`` (array), ``176+0`` → ``176`` (het job)."""
    text = pa.array(job_ids.astype(pd.StringDtype("pyarrow")), from_pandas=True)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    found = pc.extract_regex(text, r"^(?P<id>\d+)")  # in Arrow's C++: pandas would match row by row in Python
    ids = pc.if_else(found.is_valid(), pc.struct_field(found, "id"), text)
    return pd.Series(pd.arrays.ArrowStringArray(ids), index=job_ids.index)


def _col(frame: pd.DataFrame, name: str, dtype: str = "float64") -> pd.Series:
    if name in frame.columns:
        return frame[name].astype(dtype)
    return pd.Series(np.nan, index=frame.index, dtype=dtype)


def _floats(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column as float64 numbers (NaN where null or not printed)."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return np.asarray(frame[name].to_numpy(dtype="float64", na_value=np.nan), dtype="float64")


def _group_max(values: np.ndarray, groups: np.ndarray, size: int) -> np.ndarray:
    """Per group, the largest value that is not NaN (NaN when there is none)."""
    out = np.full(size, -np.inf)
    np.fmax.at(out, groups, values)
    out[out == -np.inf] = np.nan
    return out


def _group_sum(values: np.ndarray, groups: np.ndarray, size: int) -> np.ndarray:
    """Per group, the sum of the values that are not NaN (NaN when there is none)."""
    known = ~np.isnan(values)
    total = np.bincount(groups, weights=np.where(known, values, 0.0), minlength=size).astype("float64")
    total[np.bincount(groups, weights=known, minlength=size) == 0] = np.nan
    return total


def _tres_cpu(tres: Distinct) -> np.ndarray:
    """The ``cpu=`` of TRES usage strings (``cpu=00:00:03,mem=25424K``) in seconds; NaN where there is none."""
    if not tres.values:
        return np.full(len(tres.codes), np.nan)
    return tres.gather(np.asarray(durations_to_seconds(tres.field("cpu", r"[0-9:.-]+")), dtype="float64"))


#: Where a job's ``total-cpu-seconds`` came from (column ``total-cpu-source``).
CPU_FROM_TOTALCPU = "TotalCPU"
CPU_FROM_STEPS = "steps' TotalCPU"
CPU_FROM_TRES = "steps' TRESUsageIn cpu="


def _cpu_time(job_total: np.ndarray, step_total: np.ndarray, sampled: np.ndarray, step_job: np.ndarray, jobs: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Each job's CPU time in seconds and where it came from.

    TotalCPU of the job row (in text, Slurm's sum over the steps), else the sum over its steps. A step's CPU time
    is its TotalCPU, or its ``TRESUsageInTot``/``TRESUsageInMax`` ``cpu=`` (``sampled``) when that is larger: a step
    whose processes were killed (a job cancelled while running) loses their CPU time from TotalCPU, which counts
    only the processes it waited for, while the sampled TRES usage kept it (``seff`` reports 0 % there). A job
    printed without steps (``sacct -X``) whose TotalCPU is 0 has no recorded CPU time (null): Slurm puts the figure
    on the steps. ``step_job`` is each step row's job.
    """
    step_best = np.fmax(step_total, sampled)
    steps_sum = _group_sum(step_total, step_job, jobs)
    best_sum = _group_sum(step_best, step_job, jobs)
    has_steps = np.bincount(step_job, minlength=jobs) > 0
    total = np.where((job_total == 0) & ~has_steps, np.nan, job_total)
    source = np.full(jobs, np.nan, dtype=object)
    source[~np.isnan(total)] = CPU_FROM_TOTALCPU
    from_steps = np.isnan(total) & ~np.isnan(steps_sum)
    total = np.where(np.isnan(total), steps_sum, total)
    source[from_steps] = CPU_FROM_STEPS
    raised = ~np.isnan(best_sum) & (best_sum > np.nan_to_num(total, nan=0.0) + 0.5)  # TRES prints whole seconds
    total = np.where(raised, best_sum, total)
    source[raised] = CPU_FROM_TRES
    return total, source


def requested_memory(req_mem: np.ndarray, scope: np.ndarray, alloc_cpus: np.ndarray, n_nodes: np.ndarray,
                     allocated: np.ndarray) -> np.ndarray:
    """The job's whole memory allocation in bytes.

    AllocTRES ``mem=`` (``allocated``, in bytes) is what Slurm allocated, so it wins when printed. Otherwise ReqMem:
    per CPU (``c`` suffix, ``scope`` "cpu") × AllocCPUS, per node (``n`` suffix, "node") × NNodes, and without a
    suffix it already is the job's total (Slurm ≥ 21.08 prints the total; earlier versions always printed a suffix).
    """
    nodes = np.where(n_nodes > 0, n_nodes, 1.0)
    codes, words = pd.factorize(np.asarray(scope, dtype=object))
    per_cpu, per_node = (gather(np.array([w == name for w in words], dtype=bool), codes, False)
                         for name in ("cpu", "node"))
    factor = np.where(per_cpu, alloc_cpus, np.where(per_node, nodes, 1.0))
    # A job that never started has nothing allocated (mem=0 or no string): what it asked for is ReqMem.
    return np.where(allocated > 0, allocated, req_mem * factor)


def _job_keys(frame: pd.DataFrame, by: tuple[str, ...], with_cluster: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per row, its job and its ``by`` group: integers numbered in the order they first appear."""
    parts = [frame[name] for name in by]
    if with_cluster:
        parts.append(frame["cluster"].astype("string").fillna(""))
    parts.append(frame["job-id"].astype("string"))
    codes = np.zeros(len(frame), dtype=np.int64)
    group = codes
    for i, part in enumerate(parts):
        part_codes, distinct = pd.factorize(part, use_na_sentinel=False)
        codes = pd.factorize(codes * max(len(distinct), 1) + part_codes)[0].astype(np.int64)
        if i == len(by) - 1:
            group = codes
    return codes, group


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

    The figures are computed over numpy arrays, one pass per column: a page computes them for a run's few hundred
    jobs on every first view, where each pandas operation would cost more than its figures.
    """
    if any(frame[name].hasnans for name in by):
        frame = frame.dropna(subset=list(by))
    if "job-id" not in frame.columns or frame.empty:
        return pd.DataFrame(columns=[*by, *(c for c in _METRIC_COLUMNS if c != "cluster")])
    n = len(frame)
    with_cluster = "cluster" in frame.columns
    is_job = ((frame["step"].fillna("") == "").to_numpy(dtype=bool, na_value=True) if "step" in frame.columns
              else np.ones(n, dtype=bool))
    key, group = _job_keys(frame, by, with_cluster)
    keys = int(key.max()) + 1
    # The jobs: each job row's key once, in the order of the rows; then jobs printed only through their steps, in
    # the order they first appear.
    job_rows = np.flatnonzero(is_job)
    present, first = np.unique(key[job_rows], return_index=True)
    order = np.argsort(first, kind="stable")
    present, src = present[order], job_rows[first[order]]
    step_rows = np.flatnonzero(~is_job)
    has_row = np.zeros(keys, dtype=bool)
    has_row[present] = True
    orphan = step_rows[~has_row[key[step_rows]]]
    named = orphan[np.sort(np.unique(key[orphan], return_index=True)[1])]
    missing = key[named]
    codes = np.concatenate([present, missing])
    # Each job's own row (-1 for a job printed only through its steps), and the row that names it.
    first_row = np.concatenate([src, named]).astype(np.intp)
    src = np.concatenate([src, np.full(len(missing), -1, dtype=src.dtype)]).astype(np.intp)
    if by:
        # Each group's jobs together, the groups in the order they first appear (jobs printed only through their
        # steps come last in their group, as they do for a frame of that group alone).
        regroup = np.argsort(group[first_row], kind="stable")
        codes, src, first_row = codes[regroup], src[regroup], first_row[regroup]
    jobs = len(codes)
    position = np.empty(keys, dtype=np.intp)
    position[codes] = np.arange(jobs)
    job_of = position[key]  # each row's job

    def at_job(name: str) -> np.ndarray:
        return gather(_floats(frame, name), src)

    def text_at_job(name: str) -> pd.Series:
        if name not in frame.columns:
            return pd.Series(np.full(jobs, np.nan, dtype=object), dtype=object)
        return pd.Series(gather(frame[name].to_numpy(dtype=object), src, pd.NA), dtype=object)

    out: dict[str, Any] = {}
    for name in by:
        out[name] = frame[name].take(first_row).reset_index(drop=True)
    out["job-id"] = frame["job-id"].astype("string").take(first_row).reset_index(drop=True)
    if with_cluster:
        out["cluster"] = frame["cluster"].astype("string").take(first_row).reset_index(drop=True)
    for name in ("job-name", "state", "partition", "exit-code"):
        out[name] = text_at_job(name)
    # NCPUS is AllocCPUS under another name (sacct prints either); use it when AllocCPUS was not asked for.
    alloc_cpus = at_job("alloc-cpus")
    alloc_cpus = np.where(np.isnan(alloc_cpus), at_job("ncpus"), alloc_cpus)
    n_nodes = at_job("n-nodes")
    tasks = _floats(frame, "n-tasks")
    elapsed = at_job("elapsed-seconds")
    out["elapsed-seconds"], out["timelimit-seconds"] = elapsed, at_job("timelimit-seconds")
    submit, start = at_job("submit-time"), at_job("start-time")
    out["submit-time"], out["end-time"] = submit, at_job("end-time")
    tot, peak = Distinct.column(frame, "tres-usage-in-tot"), Distinct.column(frame, "tres-usage-in-max")
    sampled = np.fmax(_tres_cpu(tot), _tres_cpu(peak))
    total_cpu = _floats(frame, "total-cpu-seconds")
    cpu_total, cpu_source = _cpu_time(gather(total_cpu, src), total_cpu[step_rows], sampled[step_rows],
                                      job_of[step_rows], jobs)
    out["total-cpu-seconds"], out["total-cpu-source"] = cpu_total, pd.Series(cpu_source, dtype=object)
    states, state_words = (pd.factorize(frame["state"]) if "state" in frame.columns
                           else (np.full(n, -1, dtype=np.intp), []))
    unfinished = gather(np.array([w in UNFINISHED_STATES for w in state_words], dtype=bool), states, False)
    oom = gather(np.array([w == "OUT_OF_MEMORY" for w in state_words], dtype=bool), states, False)
    finished = (gather(states, src, -1) >= 0) & ~gather(unfinished, src, True)
    if "state" in frame.columns:
        # A job that ended without running (cancelled while pending) has no start: sacct's text prints the
        # cancel time there, its JSON none.
        start = np.where(finished & (elapsed == 0), np.nan, start)
    else:
        finished = np.ones(jobs, dtype=bool)
    out["start-time"] = start
    core_seconds = elapsed * alloc_cpus
    out["core-seconds"] = core_seconds
    out["queue-wait-seconds"] = start - submit
    rss = _floats(frame, "max-rss") * np.where(np.isnan(tasks), 1.0, tasks)
    max_rss = _group_max(rss, job_of, jobs)
    out["max-rss"] = max_rss
    out["req-mem-scope"] = scope = text_at_job("req-mem-scope")
    alloc_tres = Distinct.column(frame, "alloc-tres")
    req_mem = requested_memory(at_job("req-mem"), scope.to_numpy(), alloc_cpus, n_nodes,
                                gather(alloc_tres.number("mem", size=True), src))
    out["req-mem-bytes"] = req_mem
    sources = [None if c not in frame.columns else alloc_tres if c == "alloc-tres" else Distinct.column(frame, c)
               for c in ("alloc-tres", "req-tres", "alloc-gres")]
    gpus, gpu_type = allocation(sources, n, src)
    out["gpu-type"] = pd.Series(gpu_type)
    out["gpu-hours"] = gpus * elapsed / 3600
    row_gpus, _ = allocation([alloc_tres], n)
    row_gpus = np.where(row_gpus > 0, row_gpus, gpus[job_of])
    util, memory = gpu_use(Distinct.column(frame, "tres-usage-in-ave"), peak, tot, tasks, row_gpus)
    out["gpu-util"] = _group_max(util, job_of, jobs)
    out["gpu-mem-max"] = _group_max(memory, job_of, jobs)
    nvme = gather(alloc_tres.number("gres/nvme"), src)
    out["nvme-gib"] = np.nan_to_num(nvme, nan=0.0) if "alloc-tres" in frame.columns else nvme
    out["steps"] = pd.array(np.bincount(job_of[step_rows], minlength=jobs), dtype="Int64")
    out["finished"] = finished
    out["out-of-memory"] = np.bincount(job_of, weights=oom, minlength=jobs) > 0
    ran = elapsed > 0

    def ratio(num: np.ndarray, den: np.ndarray, when: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return num / np.where((den > 0) & when, den, np.nan)

    out["cpu-efficiency"] = ratio(cpu_total, core_seconds, finished & ran)
    out["time-efficiency"] = ratio(elapsed, out["timelimit-seconds"], ran)
    out["memory-efficiency"] = ratio(max_rss, req_mem, finished & ~(elapsed == 0))
    for name, values in (("alloc-cpus", alloc_cpus), ("n-nodes", n_nodes),
                         ("n-tasks", _group_max(tasks, job_of, jobs)), ("gpus", gpus)):
        missing_value = np.isnan(values)
        out[name] = pd.arrays.IntegerArray(np.where(missing_value, 0, np.round(values)).astype(np.int64),
                                           missing_value)
    out["parent-job-id"] = parent_job_id(out["job-id"])
    return pd.DataFrame({name: out[name] for name in (*by, *_METRIC_COLUMNS) if name != "cluster" or with_cluster})


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
