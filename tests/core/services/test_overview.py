"""core.services.overview: what needs attention first, from the stored runs."""

from __future__ import annotations

import pandas as pd

from core.services import overview


def test_failed_jobs_are_the_failed_states_and_out_of_memory_steps_oom_first() -> None:
    jobs = pd.DataFrame({
        "run": ["a", "a", "a", "b", "b"], "job-id": ["1", "2", "3", "4", "5"], "job-name": ["x"] * 5,
        "state": ["COMPLETED", "FAILED", "OUT_OF_MEMORY", "COMPLETED", "RUNNING"],
        "out-of-memory": [False, False, True, True, None],
        "elapsed-seconds": [1.0, 2.0, 3.0, 4.0, 5.0], "end-time": [10.0, 40.0, 20.0, 30.0, None],
    })
    failed = overview.failed_jobs(jobs, {"a": "mahti"})
    # Job 4 COMPLETED but a step ran out of memory: it counts, and sorts with the OOM jobs (newest end first).
    assert failed["job-id"].tolist() == ["4", "3", "2"]
    assert failed["platform"].tolist() == ["unknown", "mahti", "mahti"]
    assert overview.failed_jobs(jobs.iloc[0:0], {}).empty
