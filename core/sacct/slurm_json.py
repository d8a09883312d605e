"""Slurm ``--json`` output (``sacct --json``, Slurm 20.11 through 25.x) into the same frame as the text formats.

The shape changed across versions: numbers became ``{"set", "infinite", "number"}`` objects (23.02), states and exit
statuses became lists (23.11), the step id a string (23.11), and one ``required.memory`` with a per-CPU flag bit
became ``memory_per_cpu`` / ``memory_per_node`` (23.02). Every form of Slurm's "no value" and "infinite"
(NO_VAL, INFINITE, their 64-bit forms, unset or infinite objects) becomes null, never a number.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from core.errors import SacctParseError
from core.sacct.encoding import EXPECTED
from core.sacct.fields import ParseWarning

# --- JSON ---------------------------------------------------------------------------------------------------------


#: Slurm's NO_VAL and INFINITE, and their 64-bit forms, as printed in bare numbers.
_SENTINELS = frozenset({0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFE, 0xFFFFFFFFFFFFFFFF})
#: The flag bit that marks a per-CPU memory request in ``required.memory`` (Slurm's MEM_PER_CPU).
_MEM_PER_CPU = 1 << 63


def _number(value: Any) -> float | None:
    """A Slurm JSON number: plain, or ``{"set": .., "infinite": .., "number": ..}``; no value or infinite → None."""
    if isinstance(value, dict):
        if not value.get("set", True) or value.get("infinite", False):
            return None
        value = value.get("number")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value < 0 or value in _SENTINELS or value >= 2**62:  # sentinels, or flag bits in a number
        return None
    return float(value)


def _seconds(value: Any) -> float | None:
    if isinstance(value, dict) and ("seconds" in value or "microseconds" in value):
        seconds, micro = _number(value.get("seconds")), _number(value.get("microseconds"))
        if seconds is None and micro is None:
            return None
        return (seconds or 0.0) + (micro or 0.0) / 1e6
    return _number(value)


def _epoch(value: Any) -> float | None:
    number = _number(value)
    return number if number else None  # 0 means "not set" (a pending job's start)


def _memory(required: dict[str, Any]) -> tuple[float | None, str | None]:
    """The requested memory in MiB and what it is per (``cpu`` or ``node``), in any version's shape."""
    per_cpu, per_node = _number(required.get("memory_per_cpu")), _number(required.get("memory_per_node"))
    if per_cpu:
        return per_cpu, "cpu"
    if per_node:
        return per_node, "node"
    legacy = required.get("memory")  # before 23.02: one number, the MEM_PER_CPU bit marking a per-CPU request
    if isinstance(legacy, bool) or not isinstance(legacy, int):
        return None, None
    if legacy < 0:  # the flag bit printed as a signed number
        legacy += _MEM_PER_CPU
        scope = "cpu"
    elif legacy >= _MEM_PER_CPU:
        legacy -= _MEM_PER_CPU
        scope = "cpu"
    else:
        scope = "node"
    mib = _number(legacy)
    return (mib, scope) if mib else (None, None)


def _state(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("current")
    if isinstance(value, list):
        value = value[0] if value else None
    words = str(value).split() if value else []
    return words[0].upper() if words else None


def _exit_code(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    code = _number(value.get("return_code"))
    signal = value.get("signal", {})
    # "signal_id" before 23.02, "id" since.
    sig = _number(signal.get("id", signal.get("signal_id"))) if isinstance(signal, dict) else None
    return f"{int(code or 0)}:{int(sig or 0)}"


def _tres(items: Any, kind: str) -> float | None:
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and item.get("type") == kind:
                return _number(item.get("count"))
    return None


def _plain(count: float) -> str:
    """A count as sacct prints it: whole numbers in full (``32212254720``, never ``3.22123e+10``)."""
    return f"{int(count)}" if count == int(count) else f"{count:g}"


def _tres_string(items: Any, cpu_seconds: bool = False) -> str | None:
    """A TRES list as sacct's text prints it (``billing=2,cpu=2,gres/gpu=1,mem=400M,node=1``), sorted by name.

    Allocations count memory in MiB (``M``); usage counts it in bytes (no suffix) and CPU time in milliseconds,
    printed as ``HH:MM:SS.mmm`` with ``cpu_seconds``.
    """
    if not isinstance(items, list):
        return None
    parts: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict) or not item.get("type"):
            continue
        count = _number(item.get("count"))
        if count is None:
            continue
        name = f"{item['type']}/{item['name']}" if item.get("name") else str(item["type"])
        if name == "cpu" and cpu_seconds:
            seconds = count / 1000
            parts[name] = f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}:{seconds % 60:06.3f}"
        elif name == "mem" and not cpu_seconds:
            parts[name] = f"{_plain(count)}M"
        else:
            parts[name] = _plain(count)
    return ",".join(f"{k}={v}" for k, v in sorted(parts.items())) or None


def _job_id(job: dict[str, Any]) -> str:
    array = job.get("array") or {}
    task = _number(array.get("task_id"))
    if array.get("job_id") and task is not None:
        return f"{array['job_id']}_{int(task)}"
    het = job.get("het") or {}
    offset = _number(het.get("job_offset"))
    if het.get("job_id") and offset is not None:
        return f"{het['job_id']}+{int(offset)}"
    return str(job.get("job_id", ""))


def _job_totals(job: dict[str, Any], steps: list[dict[str, Any]], step_codes: list[str | None]) -> None:
    """Give the job row what the text formats print on it and Slurm's JSON leaves on the steps.

    CPU time: Slurm 22.05 and earlier print the job's own ``time.total`` as 0 and keep the CPU time on the steps;
    the job's TotalCPU is then their sum, as ``sacct`` prints it in text. Exit code: 22.05 prints a failed job's
    code as ``SUCCESS`` (0) where the text of the same job says 3:0: a FAILED job's 0:0 becomes a step's non-zero
    code when there is one, otherwise not recorded (null), never a success.
    """
    step_cpu = [row["total-cpu-seconds"] for row in steps if row["total-cpu-seconds"] is not None]
    if not job["total-cpu-seconds"] and step_cpu:
        job["total-cpu-seconds"] = sum(step_cpu)
        for part in ("user-cpu", "system-cpu"):
            values = [row[part] for row in steps if row[part] is not None]
            job[part] = sum(values) if values else job[part]
    if job["exit-code"] in (None, "0:0") and job["state"] == "FAILED":
        failed = [code for code in step_codes if code not in (None, "0:0")]
        if failed:
            job["exit-code"] = failed[0]
        else:
            job["exit-code"] = None


def parse_json(body: str, warnings: list[ParseWarning]) -> pd.DataFrame:
    """``sacct --json`` output (Slurm 20.11 to 25.x) as the frame of the text formats; NO_VAL and INFINITE are null."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise SacctParseError(f"line {exc.lineno}: not valid JSON ({exc.msg}); {EXPECTED}") from None
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), list):
        raise SacctParseError("JSON without a 'jobs' list: " + EXPECTED)
    rows: list[dict[str, Any]] = []
    for job in document["jobs"]:
        if not isinstance(job, dict):
            warnings.append(ParseWarning(1, "a 'jobs' entry is not an object; skipped"))
            continue
        job_id = _job_id(job)
        time = job.get("time") or {}
        required = job.get("required") or {}
        tres = job.get("tres") or {}
        memory, scope = _memory(required)  # MiB
        requested_total = _tres(tres.get("requested"), "mem")
        if scope == "node" and "memory" in required and requested_total:
            # 22.05's required.memory of a --mem-per-cpu job is the per-CPU value without its flag, so it cannot be
            # told from a per-node one: the job's whole request (its requested TRES) is what ReqMem prints in text.
            memory, scope = requested_total, None
        cpus = _tres(tres.get("allocated"), "cpu") or _number(required.get("CPUs", required.get("cpus")))
        limit = _number(time.get("limit"))
        cluster = job.get("cluster") or None
        rows.append({
            "cluster": cluster,
            "job-id": job_id, "step": "", "job-name": job.get("name"), "partition": job.get("partition") or None,
            "account": job.get("account") or None, "user": job.get("user") or None, "state": _state(job.get("state")),
            "exit-code": _exit_code(job.get("exit_code")), "alloc-cpus": cpus,
            "n-nodes": _number(job.get("allocation_nodes")), "n-tasks": None,
            "submit-time": _epoch(time.get("submission")), "start-time": _epoch(time.get("start")),
            "end-time": _epoch(time.get("end")), "elapsed-seconds": _number(time.get("elapsed")),
            "timelimit-seconds": limit * 60 if limit is not None else None,
            "total-cpu-seconds": _seconds(time.get("total")), "user-cpu": _seconds(time.get("user")),
            "system-cpu": _seconds(time.get("system")),
            "req-mem": memory * 1024**2 if memory else None,
            "req-mem-scope": scope,
            "max-rss": None, "node-list": job.get("nodes") or None,
            "alloc-tres": _tres_string(tres.get("allocated")), "tres-usage-in-max": None, "tres-usage-in-tot": None,
            "req-tres": _tres_string(tres.get("requested")), "tres-usage-in-ave": None,
        })
        job_row = rows[-1]
        step_codes: list[str | None] = []
        for step in job.get("steps") or []:
            if not isinstance(step, dict):
                continue
            ident = (step.get("step") or {}).get("id")
            # {"job_id", "step_id"} (23.02), "123.batch" (23.11 on), or the bare step: "batch", 0 (before 23.02).
            if isinstance(ident, dict):
                ident = ident.get("step_id")
            step_name = "" if ident is None else str(ident).split(".", 1)[-1]
            stime = step.get("time") or {}
            stres = step.get("tres") or {}
            usage = stres.get("requested") or {}
            max_rss = _tres(usage.get("max"), "mem")
            step_code = _exit_code(step.get("exit_code"))
            if step_code == "0:0" and _state(step.get("state")) == "FAILED":
                step_code = None  # 22.05's SUCCESS for a failed step: not recorded
            step_codes.append(step_code)
            rows.append({
                "cluster": cluster, "job-id": job_id,
                "step": step_name.lower() if not step_name.isdigit() else step_name,
                "job-name": (step.get("step") or {}).get("name"), "partition": None, "account": None, "user": None,
                "state": _state(step.get("state")), "exit-code": step_code,
                "alloc-cpus": _tres(stres.get("allocated"), "cpu"),
                "n-nodes": _number((step.get("nodes") or {}).get("count")),
                "n-tasks": _number((step.get("tasks") or {}).get("count")),
                "submit-time": None, "start-time": _epoch(stime.get("start")), "end-time": _epoch(stime.get("end")),
                "elapsed-seconds": _number(stime.get("elapsed")), "timelimit-seconds": None,
                "total-cpu-seconds": _seconds(stime.get("total")), "user-cpu": _seconds(stime.get("user")),
                "system-cpu": _seconds(stime.get("system")), "req-mem": None, "req-mem-scope": None,
                "max-rss": max_rss, "node-list": (step.get("nodes") or {}).get("range") or None,
                "alloc-tres": _tres_string(stres.get("allocated")),
                "tres-usage-in-max": _tres_string(usage.get("max"), cpu_seconds=True),
                "tres-usage-in-tot": _tres_string(usage.get("total"), cpu_seconds=True),
                "req-tres": None, "tres-usage-in-ave": _tres_string(usage.get("average"), cpu_seconds=True),
            })
        _job_totals(job_row, rows[len(rows) - len(step_codes):], step_codes)
    frame = pd.DataFrame(rows)
    if frame.empty:
        raise SacctParseError("the JSON has no jobs")
    for col in ("alloc-cpus", "n-nodes", "n-tasks"):
        frame[col] = pd.array(frame[col].to_numpy(dtype="float64"), dtype="Float64").astype("Int64")
    for col in ("cluster", "job-id", "step", "job-name", "partition", "account", "user", "state", "exit-code",
                "req-mem-scope", "node-list", "alloc-tres", "tres-usage-in-max", "tres-usage-in-tot", "req-tres",
                "tres-usage-in-ave"):
        frame[col] = frame[col].astype(pd.StringDtype("pyarrow"))
    float_cols = [c for c in frame.columns if c.endswith(("-seconds", "-time")) or c in ("user-cpu", "system-cpu",
                                                                                          "req-mem", "max-rss")]
    frame[float_cols] = frame[float_cols].astype("float64")
    return frame

