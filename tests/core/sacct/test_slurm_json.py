"""Slurm --json from 20.11 through 25.x, and every form of Slurm's "no value" and "infinite" sentinels."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pandas as pd
import pytest

from core.sacct import job_metrics, parse_sacct
from tests import samples

SAMPLE = samples.sacct("13_slurmdog_json_slurm23.02.txt")
NO_VAL, INFINITE = 0xFFFFFFFE, 0xFFFFFFFF
NO_VAL64, INFINITE64 = 0xFFFFFFFFFFFFFFFE, 0xFFFFFFFFFFFFFFFF
SUBMIT, START, END = 1_700_000_000, 1_700_000_600, 1_700_004_200


def number(value: int, *, set_: bool = True, infinite: bool = False) -> dict[str, Any]:
    """Slurm's number object (data_parser v0.0.39 on, Slurm 23.02 on)."""
    return {"set": set_, "infinite": infinite, "number": value}


def job_20_11() -> dict[str, Any]:
    """Slurm 20.11-22.05 (openapi dbv0.0.36/37/38): bare numbers, one `required.memory`, string states."""
    return {
        "account": "project_1", "allocation_nodes": 2, "cluster": "mahti", "job_id": 3001, "name": "train",
        "partition": "medium", "user": "alice", "nodes": "c[1-2]",
        "array": {"job_id": 0, "task_id": None, "task": None},
        "het": {"job_id": 0, "job_offset": None},
        "required": {"CPUs": 8, "memory": 4096},  # MiB per node
        "state": {"current": "COMPLETED", "reason": "None"},
        "exit_code": {"status": "SUCCESS", "return_code": 0},
        "time": {"elapsed": 3600, "eligible": SUBMIT, "submission": SUBMIT, "start": START, "end": END,
                 "suspended": 0, "limit": 120, "system": {"seconds": 10, "microseconds": 500000},
                 "user": {"seconds": 7000, "microseconds": 0}, "total": {"seconds": 7010, "microseconds": 500000}},
        "tres": {"allocated": [{"type": "cpu", "id": 1, "name": None, "count": 8}], "requested": []},
        "steps": [
            {"step": {"job_id": 3001, "het": {"component": NO_VAL}, "id": "batch", "name": "batch"},
             "state": "COMPLETED", "exit_code": {"status": "SUCCESS", "return_code": 0},
             "nodes": {"count": 1, "range": "c1"}, "tasks": {"count": 1},
             "time": {"elapsed": 3600, "start": START, "end": END, "suspended": 0,
                      "system": {"seconds": 1, "microseconds": 0}, "user": {"seconds": 9, "microseconds": 0},
                      "total": {"seconds": 10, "microseconds": 0}},
             "tres": {"allocated": [{"type": "cpu", "count": 4}],
                      "requested": {"max": [{"type": "mem", "id": 2, "count": 1 << 30, "task": 0, "node": "c1"}]}}},
            {"step": {"job_id": 3001, "het": {"component": NO_VAL}, "id": 0, "name": "python"},
             "state": "COMPLETED", "exit_code": {"status": "SUCCESS", "return_code": 0},
             "nodes": {"count": 2, "range": "c[1-2]"}, "tasks": {"count": 2},
             "time": {"elapsed": 3500, "start": START + 50, "end": END - 50, "suspended": 0,
                      "system": {"seconds": 9, "microseconds": 0}, "user": {"seconds": 6991, "microseconds": 0},
                      "total": {"seconds": 7000, "microseconds": 0}},
             "tres": {"allocated": [{"type": "cpu", "count": 8}],
                      "requested": {"max": [{"type": "mem", "id": 2, "count": 3 << 30, "task": 1, "node": "c2"}]}}},
        ],
    }


def job_23_11(job: dict[str, Any] | None = None) -> dict[str, Any]:
    """Slurm 23.11-25.x (data_parser v0.0.40-v0.0.43): number objects, list states, string step ids."""
    new = copy.deepcopy(job or job_20_11())
    new["array"] = {"job_id": 0, "task_id": number(0, set_=False), "task": ""}
    new["het"] = {"job_id": 0, "job_offset": number(0, set_=False)}
    new["required"] = {"CPUs": 8, "memory_per_cpu": number(0, set_=False), "memory_per_node": number(4096)}
    new["state"] = {"current": ["COMPLETED"], "reason": "None"}
    new["exit_code"] = {"status": ["SUCCESS"], "return_code": number(0), "signal": {"id": number(0, set_=False),
                                                                                    "name": ""}}
    new["time"]["limit"] = number(120)
    new["time"]["planned"] = number(600)
    for step, ident in zip(new["steps"], ("3001.batch", "3001.0"), strict=True):
        step["step"] = {"id": ident, "name": step["step"]["name"]}
        step["state"] = ["COMPLETED"]
        step["exit_code"] = new["exit_code"]
        step["time"]["limit"] = number(0, set_=False, infinite=True)
    return new


def document(*jobs: dict[str, Any], major: int = 20, minor: int = 11) -> str:
    meta = {"Slurm": {"version": {"major": major, "minor": minor, "micro": 1}, "release": f"{major}.{minor:02d}.1"}}
    return json.dumps({"meta": meta, "errors": [], "jobs": list(jobs)})


def check_job_3001(f: pd.DataFrame) -> None:
    assert f["step"].tolist() == ["", "batch", "0"]
    job = f.iloc[0]
    assert (job["job-id"], job["job-name"], job["state"], job["partition"]) == ("3001", "train", "COMPLETED", "medium")
    assert (job["submit-time"], job["start-time"], job["end-time"]) == (SUBMIT, START, END)
    assert job["elapsed-seconds"] == 3600 and job["timelimit-seconds"] == 120 * 60
    assert job["total-cpu-seconds"] == pytest.approx(7010.5)
    assert job["req-mem"] == 4096 * 1024**2 and job["req-mem-scope"] == "node"
    assert (job["alloc-cpus"], job["n-nodes"]) == (8, 2)
    assert f["max-rss"].tolist()[1:] == [1 << 30, 3 << 30] and f["n-tasks"].tolist()[1:] == [1, 2]
    metrics = job_metrics(f).iloc[0]
    assert metrics["cpu-efficiency"] == pytest.approx(7010.5 / (3600 * 8))
    assert metrics["time-efficiency"] == pytest.approx(0.5)


@pytest.mark.parametrize(("major", "minor"), [(20, 11), (21, 8), (22, 5)])
def test_json_before_23_02(major: int, minor: int) -> None:
    parsed = parse_sacct(document(job_20_11(), major=major, minor=minor))
    assert parsed.format == "json" and parsed.warnings == []
    check_job_3001(parsed.frame)


@pytest.mark.parametrize(("major", "minor"), [(23, 11), (24, 5), (24, 11), (25, 5), (25, 11)])
def test_json_from_23_11(major: int, minor: int) -> None:
    parsed = parse_sacct(document(job_23_11(), major=major, minor=minor))
    assert parsed.format == "json"
    check_job_3001(parsed.frame)


def test_json_real_slurm_23_02_sample_per_cpu_memory_and_array_task() -> None:
    f = parse_sacct(SAMPLE.read_bytes()).frame
    job = f[f["step"] == ""].iloc[0]
    assert job["job-id"] == "12078642_6" and job["req-mem-scope"] == "cpu" and job["req-mem"] == 3840 * 1024**2


@pytest.mark.parametrize("flagged", [-9223372036854771968, (1 << 63) + 3840], ids=["signed", "unsigned"])
def test_json_before_23_02_per_cpu_memory_flag_bit(flagged: int) -> None:
    job = job_20_11()
    job["required"]["memory"] = flagged  # MEM_PER_CPU | 3840 MiB, as 22.05 and the 23.02 sample print it
    f = parse_sacct(document(job)).frame
    assert f["req-mem"].iloc[0] == 3840 * 1024**2 and f["req-mem-scope"].iloc[0] == "cpu"


def test_json_signal_before_and_after_23_02() -> None:
    old = job_20_11()
    old["exit_code"] = {"status": "SIGNALED", "return_code": 0, "signal": {"signal_id": 9, "name": "KILL"}}
    new = job_23_11()
    new["exit_code"] = {"status": ["SIGNALED"], "return_code": number(0), "signal": {"id": number(9), "name": "KILL"}}
    for job in (old, new):
        assert parse_sacct(document(job)).frame["exit-code"].iloc[0] == "0:9"


# --- sentinels ----------------------------------------------------------------------------------------------------

SENTINELS = {
    "NO_VAL": NO_VAL, "INFINITE": INFINITE, "NO_VAL64": NO_VAL64, "INFINITE64": INFINITE64,
    "unset": number(0, set_=False), "unset-with-number": number(NO_VAL, set_=False),
    "infinite": number(0, infinite=True), "set-NO_VAL": number(NO_VAL), "set-NO_VAL64": number(NO_VAL64),
}


@pytest.mark.parametrize("sentinel", list(SENTINELS.values()), ids=list(SENTINELS))
def test_pending_job_sentinels_are_null_never_a_number(sentinel: Any) -> None:
    # A pending job in Slurm 24.11 prints start 4294967294: read as a time it is a date in 2106.
    job = job_23_11()
    job["state"] = {"current": ["PENDING"], "reason": "Priority"}
    job["steps"] = []
    for key in ("start", "end", "elapsed", "limit"):
        job["time"][key] = sentinel
    job["time"]["total"] = {"seconds": sentinel, "microseconds": sentinel}
    job["required"] = {"CPUs": sentinel, "memory_per_cpu": sentinel, "memory_per_node": sentinel,
                       "memory": sentinel}
    job["tres"] = {"allocated": [{"type": "cpu", "count": sentinel}]}
    job["allocation_nodes"] = sentinel
    parsed = parse_sacct(document(job, major=24, minor=11))
    row = parsed.frame.iloc[0]
    assert row["state"] == "PENDING" and row["submit-time"] == SUBMIT
    for column in ("start-time", "end-time", "elapsed-seconds", "timelimit-seconds", "total-cpu-seconds",
                   "req-mem", "req-mem-scope", "alloc-cpus", "n-nodes"):
        assert pd.isna(row[column]), (column, row[column])
    metrics = job_metrics(parsed.frame).iloc[0]
    assert math.isnan(metrics["queue-wait-seconds"]) and math.isnan(metrics["time-efficiency"])


@pytest.mark.parametrize("sentinel", list(SENTINELS.values()), ids=list(SENTINELS))
def test_sentinels_in_array_and_het_ids_do_not_make_ids(sentinel: Any) -> None:
    job = job_23_11()
    job["array"] = {"job_id": 3000, "task_id": sentinel}
    job["het"] = {"job_id": 3000, "job_offset": sentinel}
    assert parse_sacct(document(job)).frame["job-id"].iloc[0] == "3001"


def test_step_sentinels_are_null() -> None:
    job = job_20_11()
    step = job["steps"][0]
    step["time"]["end"] = NO_VAL
    step["tasks"]["count"] = INFINITE
    step["tres"]["requested"]["max"][0]["count"] = NO_VAL64
    f = parse_sacct(document(job)).frame
    batch = f[f["step"] == "batch"].iloc[0]
    assert pd.isna(batch["end-time"]) and pd.isna(batch["n-tasks"]) and pd.isna(batch["max-rss"])
