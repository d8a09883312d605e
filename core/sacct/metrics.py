"""Per-job efficiency, as ``seff`` and reportseff compute it, from a parsed sacct frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

# --- Per-job metrics ----------------------------------------------------------------------------------------------


def parent_job_id(job_ids: pd.Series) -> pd.Series:
    """The job an id belongs to: ``123_4`` and ``123_[1-5]`` → ``123`` (array), ``176+0`` → ``176`` (het job)."""
    return job_ids.astype(pd.StringDtype("pyarrow")).str.extract(r"^(\d+)")[0].fillna(job_ids)


def _col(frame: pd.DataFrame, name: str, dtype: str = "float64") -> pd.Series:
    if name in frame.columns:
        return frame[name].astype(dtype)
    return pd.Series(np.nan, index=frame.index, dtype=dtype)


def job_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per job record (each array task and het component), with seff-style efficiencies.

    Formulas (as ``seff`` and reportseff define them):

    - ``cpu-efficiency`` = TotalCPU / (Elapsed × AllocCPUS), TotalCPU from the job's own row when printed, else the
      sum over its steps;
    - ``time-efficiency`` = Elapsed / Timelimit;
    - ``memory-efficiency`` = max over the job's steps of (MaxRSS × NTasks) / requested memory, where NTasks missing
      counts as 1 and the requested memory is ReqMem × AllocCPUS for a per-CPU request (``c`` suffix) and
      ReqMem × NNodes otherwise (``n`` suffix or none: modern Slurm prints per-node memory without a suffix);
    - ``queue-wait-seconds`` = Start − Submit.

    Every metric is null when one of its inputs is missing or its denominator is zero: a chart must not show a fake
    zero.
    """
    if "job-id" not in frame.columns or frame.empty:
        return pd.DataFrame(columns=list(_METRIC_COLUMNS))
    step = _col(frame, "step", "object").fillna("")
    rows = frame.assign(step=step)
    jobs = rows[rows["step"] == ""].drop_duplicates("job-id").set_index("job-id")
    steps = rows[rows["step"] != ""]
    # Jobs printed only through their steps still get a row.
    missing = pd.Index(steps["job-id"].unique()).difference(jobs.index)
    if len(missing):
        jobs = pd.concat([jobs, pd.DataFrame(index=missing)])
    rss = _col(rows, "max-rss") * _col(rows, "n-tasks").fillna(1).astype("float64")
    max_rss = rss.groupby(rows["job-id"]).max()
    step_cpu = _col(steps, "total-cpu-seconds").groupby(steps["job-id"]).sum(min_count=1)
    out = pd.DataFrame(index=jobs.index)
    out.index.name = "job-id"
    for name in ("job-name", "state", "partition"):
        out[name] = _col(jobs, name, "object")
    # NCPUS is AllocCPUS under another name (sacct prints either); use it when AllocCPUS was not asked for.
    out["alloc-cpus"] = _col(jobs, "alloc-cpus").fillna(_col(jobs, "ncpus"))
    out["n-nodes"] = _col(jobs, "n-nodes")
    for name in ("elapsed-seconds", "timelimit-seconds", "submit-time", "start-time", "end-time"):
        out[name] = _col(jobs, name)
    total = _col(jobs, "total-cpu-seconds")
    out["total-cpu-seconds"] = total.fillna(step_cpu.reindex(out.index))
    out["queue-wait-seconds"] = out["start-time"] - out["submit-time"]
    out["max-rss"] = max_rss.reindex(out.index)
    req = _col(jobs, "req-mem")
    scope = _col(jobs, "req-mem-scope", "object").fillna("")
    per = np.where(scope == "cpu", out["alloc-cpus"], out["n-nodes"].fillna(1))
    out["req-mem-bytes"] = req * per
    out["steps"] = (rows["step"] != "").groupby(rows["job-id"]).sum().reindex(out.index).fillna(0).astype("Int64")

    def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
        den = den.where(den > 0)
        return (num / den).astype("float64")

    out["cpu-efficiency"] = ratio(out["total-cpu-seconds"], out["elapsed-seconds"] * out["alloc-cpus"])
    out["time-efficiency"] = ratio(out["elapsed-seconds"], out["timelimit-seconds"])
    out["memory-efficiency"] = ratio(out["max-rss"], out["req-mem-bytes"])
    out = out.reset_index()
    out["parent-job-id"] = parent_job_id(out["job-id"])
    out["alloc-cpus"] = out["alloc-cpus"].astype("Int64")
    return out[list(_METRIC_COLUMNS)]


_METRIC_COLUMNS = (
    "job-id", "parent-job-id", "job-name", "state", "partition", "alloc-cpus", "elapsed-seconds", "timelimit-seconds",
    "total-cpu-seconds", "submit-time", "start-time", "end-time", "queue-wait-seconds", "cpu-efficiency",
    "time-efficiency", "memory-efficiency", "max-rss", "req-mem-bytes", "steps",
)

