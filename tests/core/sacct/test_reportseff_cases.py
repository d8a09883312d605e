"""A job's own figures follow reportseff's test cases (troycomi/reportseff tests/test_job.py and conftest.py).

Where this product differs on purpose, the test says why: a job that never started has no time efficiency (reportseff
shows 0 %), since it used none of the time it asked for only because it never got any.
"""

from __future__ import annotations

import pandas as pd
import pytest

from core.sacct import finished_that_ran, job_metrics, parse_sacct
from core.services import charts

#: reportseff's sacct call: ``-P -n --delimiter=^|^`` with these fields, sorted, and a trailing delimiter.
FIELDS = ["AdminComment", "AllocCPUS", "Elapsed", "JobID", "JobIDRaw", "MaxRSS", "NNodes", "NTasks", "ReqMem", "State",
          "Timelimit", "TotalCPU"]


def _job(text: str, fields: list[str] = FIELDS) -> pd.Series:
    frame = parse_sacct(text, fields=fields, delimiter="^|^").frame
    return job_metrics(frame).iloc[0]


def _line(job: str, state: str, elapsed: str, total_cpu: str, rss: str = "", limit: str = "00:20:00") -> str:
    return f"^|^1^|^{elapsed}^|^{job}^|^{job}^|^{rss}^|^1^|^^|^1Gn^|^{state}^|^{limit}^|^{total_cpu}^|^\n"


def test_completed_job() -> None:
    job = _job(_line("24371655", "COMPLETED", "00:10:00", "00:09:00"))
    assert job["time-efficiency"] == pytest.approx(0.5)
    assert job["cpu-efficiency"] == pytest.approx(0.9)


def test_running_job_has_its_time_used_so_far() -> None:
    text = _line("24371655", "RUNNING", "00:10:00", "00:09:00") + _line("24371655.batch", "RUNNING", "00:10:00",
                                                                       "00:09:00")
    job = _job(text)
    assert job["time-efficiency"] == pytest.approx(0.5)  # reportseff: 50.0
    assert pd.isna(job["cpu-efficiency"]) and pd.isna(job["memory-efficiency"])  # reportseff: ---


def test_pending_job_has_no_efficiency() -> None:
    job = _job(_line("24371655", "PENDING", "00:00:00", "00:00:00"))
    assert pd.isna(job["time-efficiency"]) and pd.isna(job["cpu-efficiency"])


def test_job_that_never_started_has_no_time_efficiency() -> None:
    """reportseff shows 0 %; a job cancelled before it started used no time because it had none."""
    job = _job(_line("24371655", "CANCELLED", "00:00:00", "00:09:00"))
    assert pd.isna(job["time-efficiency"]) and pd.isna(job["cpu-efficiency"])
    assert job["req-mem-bytes"] == 1024**3


def test_memory_efficiency_without_elapsed() -> None:
    """reportseff's 24418435: 99.8 % CPU, 47.6 % memory; memory needs no Elapsed."""
    fields = [f for f in FIELDS if f != "Timelimit"]
    text = ("^|^1^|^01:27:42^|^24418435^|^24418435^|^^|^1^|^1^|^1Gn^|^COMPLETED^|^01:27:29^|^\n"
            "^|^1^|^01:27:42^|^24418435.batch^|^24418435.batch^|^499092K^|^1^|^1^|^1Gn^|^COMPLETED^|^01:27:29^|^\n"
            "^|^1^|^01:27:42^|^24418435.extern^|^24418435.extern^|^1376K^|^1^|^1^|^1Gn^|^COMPLETED^|^00:00:00^|^\n")
    job = _job(text, fields)
    assert round(job["cpu-efficiency"] * 100, 1) == 99.8
    assert round(job["memory-efficiency"] * 100, 1) == 47.6
    without_elapsed = [f for f in fields if f != "Elapsed"]
    text = "\n".join("^|^".join(v for k, v in zip(fields, line.split("^|^"), strict=False) if k != "Elapsed")
                     + "^|^" for line in text.splitlines()) + "\n"
    job = _job(text, without_elapsed)
    assert round(job["memory-efficiency"] * 100, 1) == 47.6
    assert pd.isna(job["cpu-efficiency"])  # CPU efficiency needs Elapsed


def test_charts_count_only_finished_jobs_that_ran() -> None:
    text = (_line("1", "RUNNING", "00:10:00", "00:09:00") + _line("2", "COMPLETED", "00:10:00", "00:05:00")
            + _line("3", "CANCELLED", "00:00:00", "00:00:00"))
    jobs = job_metrics(parse_sacct(text, fields=FIELDS, delimiter="^|^").frame)
    assert list(jobs.loc[finished_that_ran(jobs), "job-id"]) == ["2"]
    figure = charts.efficiency(jobs)
    names = {trace.name for trace in figure.data}
    # One job per box: the running job's time efficiency so far is not among the finished jobs'.
    assert names and all("1 job" in name for name in names), names
    assert "finished jobs" in str(figure.layout.title.text)
