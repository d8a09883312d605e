"""Sweeps: an array's tasks per state, efficiencies, failed tasks and advice that covers 95 % of the tasks."""

from __future__ import annotations

import pandas as pd

from core.sacct import parse_sacct
from core.sacct.advice import Thresholds
from core.sacct.metrics import job_metrics
from core.sacct.sweeps import find_sweeps, summarize, tasks_of

HEADER = "JobID|JobName|State|ExitCode|Elapsed|Timelimit|AllocCPUS|NNodes|NTasks|TotalCPU|ReqMem|MaxRSS"


def array_text() -> str:
    """Array 700 of 40 tasks: 37 complete in 10-46 min (peaks 1.0-4.6 GiB), task 37 fails (exit 3), 38 runs out of
    memory, 39 completes in 3 h (an outlier); three other jobs named prep; one lone job."""
    rows = [HEADER]
    for i in range(40):
        minutes, gib, state, code = 10 + i, 1.0 + i / 10, "COMPLETED", "0:0"
        if i == 37:
            state, code = "FAILED", "3:0"
        elif i == 38:
            state, code, gib = "OUT_OF_MEMORY", "0:125", 8.0
        elif i == 39:
            minutes = 180
        elapsed = f"{minutes // 60:02d}:{minutes % 60:02d}:00"
        rows.append(f"700_{i}|sweep-lr|{state}|{code}|{elapsed}|04:00:00|2|1|1|{elapsed}|8G|")
        rows.append(f"700_{i}.batch|batch|{state}|{code}|{elapsed}||2|1|1|{elapsed}||{int(gib * 1024)}M")
    for j in range(3):
        rows.append(f"80{j}|prep|COMPLETED|0:0|00:05:00|01:00:00|1|1|1|00:04:00|1G|")
    rows.append("900|alone|COMPLETED|0:0|00:05:00|01:00:00|1|1|1|00:04:00|1G|")
    return "\n".join(rows) + "\n"


def jobs() -> pd.DataFrame:
    metrics = job_metrics(parse_sacct(array_text()).frame)
    metrics.insert(0, "run", "r1")
    return metrics


def test_arrays_and_jobs_sharing_a_name_are_sweeps() -> None:
    sweeps = find_sweeps(jobs())
    assert [(s.kind, s.ident, s.tasks) for s in sweeps] == [("array", "700", 40), ("name", "prep", 3)]
    assert sweeps[0].label == "array 700 (sweep-lr) in r1: 40 tasks" and sweeps[0].key == "r1/array/700"
    assert len(tasks_of(jobs(), sweeps[1])) == 3


def test_summary_counts_states_and_lists_failed_tasks_with_exit_codes() -> None:
    all_jobs = jobs()
    summary = summarize(tasks_of(all_jobs, find_sweeps(all_jobs)[0]), Thresholds())
    assert summary.tasks == 40
    assert dict(zip(summary.states["state"], summary.states["tasks"], strict=True)) == {
        "COMPLETED": 38, "FAILED": 1, "OUT_OF_MEMORY": 1}
    assert summary.failed[["job-id", "state", "exit-code"]].values.tolist() == [
        ["700_37", "FAILED", "3:0"], ["700_38", "OUT_OF_MEMORY", "0:125"]]
    cpu = summary.efficiency.set_index("figure").loc["CPU eff."]
    assert cpu["min"] == 0.5 and cpu["max"] == 0.5 and cpu["tasks measured"] == 40  # TotalCPU = Elapsed on 2 cores
    gpu = summary.efficiency.set_index("figure").loc["GPU eff."]
    assert gpu["tasks measured"] == 0 and pd.isna(gpu["min"])  # not recorded, never 0
    assert len(summary.elapsed) == 40


def test_advice_covers_95_percent_of_tasks_not_the_outlier() -> None:
    all_jobs = jobs()
    summary = summarize(tasks_of(all_jobs, find_sweeps(all_jobs)[0]), Thresholds(margin_percent=20))
    # 38 completed tasks: 10..46 min and one of 180 min. 95 % of 38 is 36.1 → the 37th smallest, 46 min.
    assert summary.time.directive == "--time=00:56:00"  # 46 min + 20 % = 55.2 min, rounded up to the minute
    assert "covers 95% of the 38 tasks that completed or timed out" in summary.time.reason
    assert "the longest completed task took 03:00:00" in summary.time.reason
    # Peaks of the 39 finished tasks that did not run out of memory (1.0 .. 4.7 GiB, the failed one included, and
    # 4.9 GiB) plus the OOM task counted beyond every value: 40 values, the 38th smallest (ceil(0.95 × 40)) is
    # 4.7 GiB; + 20 % = 5.64 GiB, which sbatch is asked for in whole GiB.
    assert summary.memory.directive == "--mem=6G"
    assert "covers 95% of the 40 finished tasks with a peak: MaxRSS × NTasks 4.70 GiB + 20%" in summary.memory.reason
    assert "the largest peak was 4.90 GiB" in summary.memory.reason


def test_too_many_timeouts_ask_for_more_time_than_the_limit() -> None:
    text = "\n".join([HEADER, *(f"5_{i}|s|{'TIMEOUT' if i < 3 else 'COMPLETED'}|0:0|01:00:00|01:00:00|1|1|1|"
                                f"00:30:00|1G|" for i in range(10))]) + "\n"
    metrics = job_metrics(parse_sacct(text).frame).assign(run="r")
    summary = summarize(tasks_of(metrics, find_sweeps(metrics)[0]), Thresholds())
    assert summary.time.directive is None
    assert summary.time.reason.startswith("3 of 10 tasks that completed or timed out timed out")
    assert "above 01:00:00" in summary.time.reason
