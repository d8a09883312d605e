"""A stand-in for Slurm's ``sacct`` and ``scontrol`` on PATH, for tests of ``hpc-monitor collect``.

``FakeSlurm(directory)`` writes two executables into ``directory/bin``. ``sacct`` prints, in ``--parsable2``, the rows
of ``directory/accounting.psv`` (Slurm 22.05's ``sacct -P`` print: ``MM:SS.mmm`` TotalCPU, ``HH:MM:SS`` Elapsed,
ReqMem without suffix, MaxRSS on step lines only) that the call selects as real sacct does: with ``--starttime`` and
``--endtime`` the jobs that were submitted before the end and had not ended before the start (pending and running
jobs included), with ``--jobs`` those jobs whatever their time, always with their steps; only the ``--format`` fields,
in their order. It is a standard-library script run by ``python -S`` (no site-packages to load at each call). Each
call is logged (``calls()``). ``dbd_down()`` makes it fail as 22.05 does when slurmdbd is down; ``delay`` makes every
call take that long.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.services.collect import FIELDS

_SACCT = r'''#!{python} -S
import json, os, sys, time
from datetime import datetime, timezone
here = {here!r}
args = sys.argv[1:]
with open(os.path.join(here, "calls.log"), "a") as log:
    log.write(json.dumps(args) + "\n")
if os.path.exists(os.path.join(here, "delay")):
    time.sleep(float(open(os.path.join(here, "delay")).read()))
if os.path.exists(os.path.join(here, "dbd_down")):
    sys.stderr.write("sacct: error: slurm_persist_conn_open_without_init: failed to open persistent connection to "
                     "host:localhost:6819: Connection refused\n"
                     "sacct: error: Sending PersistInit msg: Connection refused\n"
                     "sacct: error: Problem talking to the database: Connection refused\n")
    sys.exit(1)
def value(name):
    for i, a in enumerate(args):
        if a == name:
            return args[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None
def when(text):
    if text in ("", "Unknown", "None"):
        return None
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()
lines = open(os.path.join(here, "accounting.psv")).read().splitlines()
header = lines[0].split("|")
rows = [dict(zip(header, line.split("|"))) for line in lines[1:] if line]
fields = (value("--format") or ",".join(header)).split(",")
start, end, jobs = value("--starttime"), value("--endtime"), value("--jobs")
chosen = set()
for row in rows:
    if "." in row["JobID"]:
        continue
    if jobs is not None:
        if row["JobID"] in jobs.split(",") or row["JobID"].split("_")[0] in jobs.split(","):
            chosen.add(row["JobID"])
        continue
    submit, ended = when(row["Submit"]), when(row["End"])
    if submit is not None and submit <= when(end) and (ended is None or ended >= when(start)):
        chosen.add(row["JobID"])
print("|".join(fields))
for row in rows:
    if row["JobID"].split(".")[0] in chosen:
        print("|".join(row.get(f, "") for f in fields))
'''

_SCONTROL = r'''#!/bin/sh
echo "Configuration data as of 2026-03-01T00:00:00"
echo "AccountingStorageType   = accounting_storage/slurmdbd"
echo "ClusterName             = {cluster}"
'''


def _time(epoch: float | None) -> str:
    return "Unknown" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86_400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days}-{text}" if days else text


def _cpu(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    if minutes >= 60:
        return _duration(seconds)
    return f"{int(minutes):02d}:{rest:06.3f}"


@dataclass
class Job:
    """One job as the fake cluster records it (times in epoch seconds, UTC)."""

    job_id: str
    submit: float
    start: float | None
    end: float | None
    state: str
    cpus: int = 2
    cpu_seconds: float = 0.0
    mem_mib: int = 4000
    rss_kib: int = 1_048_576
    name: str = "train"
    partition: str = "small"
    account: str = "project_2001"
    user: str = "alice"
    exit_code: str = "0:0"
    timelimit: float = 7200.0
    gpus: int = 0

    def lines(self, cluster: str) -> list[dict[str, str]]:
        now_end = self.end if self.end is not None else self.start
        elapsed = (now_end - self.start) if self.start is not None and now_end is not None else 0
        tres = f"billing={self.cpus},cpu={self.cpus},mem={self.mem_mib}M,node=1"
        if self.gpus:
            tres += f",gres/gpu={self.gpus}"
        base = {"Cluster": cluster, "JobID": self.job_id, "JobIDRaw": self.job_id, "JobName": self.name,
                "Partition": self.partition, "Account": self.account, "User": self.user, "State": self.state,
                "ExitCode": self.exit_code, "Submit": _time(self.submit), "Eligible": _time(self.submit),
                "Start": _time(self.start), "End": _time(self.end), "Elapsed": _duration(elapsed),
                "Timelimit": _duration(self.timelimit), "AllocCPUS": str(self.cpus if self.start else 0),
                "NNodes": "1", "NTasks": "", "ReqMem": f"{self.mem_mib}M", "ReqTRES": tres,
                "AllocTRES": tres if self.start else "", "TotalCPU": _cpu(self.cpu_seconds),
                "UserCPU": _cpu(self.cpu_seconds), "SystemCPU": "00:00.000", "MaxRSS": "", "AveRSS": "",
                "MaxVMSize": "", "TRESUsageInTot": "", "TRESUsageInMax": "", "NodeList": "localhost" if self.start
                else "None assigned", "QOS": "normal", "WorkDir": f"/scratch/{self.account}"}
        rows = [base]
        if self.start is not None:
            step_state = "CANCELLED" if self.state == "TIMEOUT" else self.state
            rows.append({**base, "JobID": f"{self.job_id}.batch", "JobIDRaw": f"{self.job_id}.batch",
                         "JobName": "batch", "Partition": "", "Account": self.account, "User": "",
                         "State": step_state, "Timelimit": "", "NTasks": "1", "ReqMem": "", "ReqTRES": "",
                         "MaxRSS": f"{self.rss_kib}K", "AveRSS": f"{self.rss_kib}K",
                         "TRESUsageInTot": f"cpu={_duration(self.cpu_seconds)},mem={self.rss_kib}K"})
        return rows


class FakeSlurm:
    """``sacct`` and ``scontrol`` on PATH (``bin``) answering from ``accounting.psv``."""

    def __init__(self, directory: Path, cluster: str = "testcluster") -> None:
        self.directory = directory
        self.cluster = cluster
        self.bin = directory / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        sacct = self.bin / "sacct"
        sacct.write_text(_SACCT.format(python=sys.executable, here=str(directory)))
        scontrol = self.bin / "scontrol"
        scontrol.write_text(_SCONTROL.format(cluster=cluster))
        for tool in (sacct, scontrol):
            tool.chmod(0o755)
        self.jobs: dict[str, Job] = {}
        self.record()

    def record(self, *jobs: Job) -> None:
        """Add or update jobs (a later state of a job replaces the earlier one) and write the accounting file."""
        for job in jobs:
            self.jobs[job.job_id] = job
        lines = ["|".join(FIELDS)]
        for job in self.jobs.values():
            lines += ["|".join(row[f] for f in FIELDS) for row in job.lines(self.cluster)]
        (self.directory / "accounting.psv").write_text("\n".join(lines) + "\n")

    def calls(self) -> list[list[str]]:
        """Every sacct call's arguments so far."""
        log = self.directory / "calls.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def reset_calls(self) -> None:
        (self.directory / "calls.log").unlink(missing_ok=True)

    def dbd_down(self, down: bool = True) -> None:
        flag = self.directory / "dbd_down"
        if down:
            flag.write_text("")
        else:
            flag.unlink(missing_ok=True)

    def delay(self, seconds: float) -> None:
        (self.directory / "delay").write_text(str(seconds))

    def path(self, base: str) -> str:
        """A PATH with the fake tools first."""
        return f"{self.bin}:{base}"
