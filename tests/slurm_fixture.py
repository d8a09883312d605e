"""A real Slurm cluster for the tests, and jobs whose use the jobs themselves record (the ground truth).

``slurm_cluster`` (pytest fixture, session scope, in ``tests/conftest.py``) starts the cluster of
:mod:`stack.slurm` in a temporary folder; ``slurm_jobs`` runs :data:`JOBS` on it once per session and gives a
:class:`GroundTruth`: the cluster, each job's :class:`JobTruth` by name, and :meth:`GroundTruth.sacct` to run
``sacct`` on those jobs with any options. A failure to start the cluster or a job that does not end fails the tests
that asked; nothing is skipped. Tests that use them carry the ``slurm`` marker.

Each job runs ``tests/slurm_payload.py``, which burns a known amount of CPU time, holds a known amount of memory,
exits with a known code, and writes what it used (``getrusage``) to a file; the truth is that record, and the state
and exit code Slurm must report for what the job did.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from stack.slurm import SlurmInfo, start, stop

PAYLOAD = Path(__file__).with_name("slurm_payload.py")
MIB = 1024**2
#: States of a job that has ended.
_ENDED = {"COMPLETED", "FAILED", "TIMEOUT", "OUT_OF_MEMORY", "CANCELLED", "NODE_FAIL", "PREEMPTED", "DEADLINE",
          "BOOT_FAIL"}


@dataclass(frozen=True)
class JobSpec:
    """A ground-truth job: ``sbatch`` options and the lines of its script (``{py}``, ``{out}`` filled in)."""

    name: str
    options: tuple[str, ...]
    script: tuple[str, ...]


#: The set, run at once (the node offers 8 CPUs): about 90 s, the time-out job's minute setting the pace.
JOBS: tuple[JobSpec, ...] = (
    # One of two allocated cores busy for 4 s of CPU time: CPU efficiency about 50 %.
    JobSpec("cpu", ("-c", "2", "--mem=200M", "--time=5"), ("exec {py} {out} --cores 1 --cpu-seconds 4",)),
    # 200 MiB held of 2 × 200 MiB asked per CPU: memory efficiency about 50 % (a --mem-per-cpu request).
    JobSpec("mem", ("-c", "2", "--mem-per-cpu=200M", "--time=5"),
            ("exec {py} {out} --hold-mib 200 --hold-seconds 5",)),
    JobSpec("exit3", ("--mem=100M", "--time=5"), ("exec {py} {out} --cpu-seconds 1 --exit 3",)),
    JobSpec("timeout", ("--mem=100M", "--time=1"), ("exec {py} {out} --sleep 600",)),
    # Killed as soon as it reaches its 100 MiB; the second's wait first makes its Elapsed at least 1 s whichever second
    # it starts in (Slurm records whole seconds: a kill in the starting second would read as a job that never ran).
    JobSpec("oom", ("--mem=100M", "--time=5"), ("sleep 1.5", "exec {py} {out} --hold-mib 400 --hold-seconds 5")),
    JobSpec("array", ("--array=1-3", "--mem=100M", "--time=5"),
            ('code=0; [ "$SLURM_ARRAY_TASK_ID" = 2 ] && code=1',
             "exec {py} {out}.$SLURM_ARRAY_TASK_ID --cpu-seconds 1 --exit $code")),
    # Two steps: two tasks burning 2 s each, then one task holding 150 MiB.
    JobSpec("steps", ("-n", "2", "--mem=400M", "--time=5"),
            ("srun -n 2 {py} {out}.0 --cpu-seconds 2", "srun -n 1 {py} {out}.1 --hold-mib 150 --hold-seconds 4")),
    JobSpec("cancel-running", ("--mem=100M", "--time=5"), ("exec {py} {out} --cpu-seconds 600",)),
    JobSpec("cancel-pending", ("--hold", "--mem=100M", "--time=5"), ("exec {py} {out}",)),
    JobSpec("gpu", ("-p", "gpu", "--gres=gpu:1", "--mem=100M", "--time=5"), ("exec {py} {out} --sleep 1",)),
)


@dataclass
class JobTruth:
    """What a job did, from its own record, and what Slurm must say about it."""

    name: str
    job_id: str  # as sacct prints it: 123, or 123_2 for an array task
    state: str
    exit_code: str
    alloc_cpus: int
    req_mem_bytes: float
    timelimit_seconds: float
    cpu_seconds: float | None = None  # CPU time the job's processes used; None: not measured by the job
    max_rss_bytes: float | None = None  # peak of the task that held memory (× its step's tasks)
    wall_seconds: float | None = None
    ran: bool = True
    gpus: int = 0
    records: list[dict[str, object]] = field(default_factory=list)


@dataclass(eq=False)
class GroundTruth:
    """The cluster and the truth of every job that ran on it."""

    cluster: SlurmInfo
    jobs: dict[str, JobTruth]
    workdir: Path

    @property
    def job_ids(self) -> list[str]:
        """Every job id the set printed, array tasks as ``<array>_<task>``."""
        return [truth.job_id for truth in self.jobs.values()]

    def sacct(self, *options: str) -> str:
        """``sacct`` on the set's jobs with ``options`` (``-P``, ``--json``, ``-o ...``), its standard output."""
        parents = sorted({job_id.split("_")[0] for job_id in self.job_ids})
        return self.cluster.run(["sacct", "-j", ",".join(parents), *options]).stdout


def _script(spec: JobSpec, workdir: Path) -> Path:
    out = workdir / spec.name
    lines = [line.format(py=sys.executable, out=f"{PAYLOAD} {out}") for line in spec.script]
    path = workdir / f"{spec.name}.sh"
    path.write_text("#!/bin/bash\n" + "\n".join(lines) + "\n")
    return path


def _submit(cluster: SlurmInfo, spec: JobSpec, workdir: Path) -> str:
    script = _script(spec, workdir)
    result = cluster.run(["sbatch", "--parsable", f"--job-name={spec.name}", f"--output={workdir}/{spec.name}.log",
                          f"--chdir={workdir}", *spec.options, str(script)])
    return result.stdout.strip().split(";")[0]


def _wait_for(check: object, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise RuntimeError(f"{what}: not within {timeout:.0f} s")


def _ended(cluster: SlurmInfo, parents: list[str]) -> bool:
    out = cluster.run(["sacct", "-j", ",".join(parents), "-n", "-P", "-o", "JobID,State,End"]).stdout
    rows = [line.split("|") for line in out.splitlines() if line]
    # Every row (job and step) has ended and says when.
    return bool(rows) and all(row[1].split()[0] in _ENDED and row[2] not in ("", "Unknown") for row in rows)


def _record(path: Path) -> dict[str, object]:
    return dict(json.loads(path.read_text()))


def run_jobs(cluster: SlurmInfo, workdir: Path, timeout: float = 240) -> GroundTruth:
    """Run :data:`JOBS` on ``cluster`` and wait until accounting has them all; their truth."""
    workdir.mkdir(parents=True, exist_ok=True)
    ids = {spec.name: _submit(cluster, spec, workdir) for spec in JOBS}
    cluster.run(["scancel", ids["cancel-pending"]])
    progress = workdir / "cancel-running.progress"

    def burnt_enough() -> bool:
        try:  # the job rewrites the file as it runs: a read between its truncate and its write finds it empty
            return progress.exists() and float(_record(progress)["cpu_seconds"]) >= 3  # type: ignore[arg-type]
        except json.JSONDecodeError:
            return False

    _wait_for(burnt_enough, "the job to cancel while running did not burn 3 s of CPU", 120)
    cluster.run(["scancel", ids["cancel-running"]])
    _wait_for(lambda: _ended(cluster, sorted(ids.values())), "the ground-truth jobs did not end", timeout)
    time.sleep(0.5)
    cancelled_cpu = float(_record(progress)["cpu_seconds"])  # type: ignore[arg-type]

    def done(name: str) -> dict[str, object]:
        return _record(workdir / name)

    def cpu(*names: str) -> float:
        return sum(float(done(n)["cpu_seconds"]) for n in names)  # type: ignore[arg-type]

    def rss(name: str) -> float:
        return float(done(name)["max_rss_kib"]) * 1024  # type: ignore[arg-type]

    jobs = [
        JobTruth("cpu", ids["cpu"], "COMPLETED", "0:0", 2, 200 * MIB, 300, cpu_seconds=cpu("cpu"),
                 wall_seconds=float(done("cpu")["wall_seconds"])),  # type: ignore[arg-type]
        JobTruth("mem", ids["mem"], "COMPLETED", "0:0", 2, 400 * MIB, 300, cpu_seconds=cpu("mem"),
                 max_rss_bytes=rss("mem")),
        JobTruth("exit3", ids["exit3"], "FAILED", "3:0", 1, 100 * MIB, 300, cpu_seconds=cpu("exit3")),
        JobTruth("timeout", ids["timeout"], "TIMEOUT", "0:0", 1, 100 * MIB, 60),
        JobTruth("oom", ids["oom"], "OUT_OF_MEMORY", "0:125", 1, 100 * MIB, 300),
        *[JobTruth(f"array_{task}", f"{ids['array']}_{task}", "FAILED" if task == 2 else "COMPLETED",
                   "1:0" if task == 2 else "0:0", 1, 100 * MIB, 300, cpu_seconds=cpu(f"array.{task}"))
          for task in (1, 2, 3)],
        JobTruth("steps", ids["steps"], "COMPLETED", "0:0", 2, 400 * MIB, 300,
                 cpu_seconds=cpu("steps.0.0", "steps.0.1", "steps.1"),
                 max_rss_bytes=max(rss("steps.1"), 2 * max(rss("steps.0.0"), rss("steps.0.1")))),
        JobTruth("cancel-running", ids["cancel-running"], "CANCELLED", "0:0", 1, 100 * MIB, 300,
                 cpu_seconds=cancelled_cpu),
        JobTruth("cancel-pending", ids["cancel-pending"], "CANCELLED", "0:0", 1, 100 * MIB, 300, ran=False),
        JobTruth("gpu", ids["gpu"], "COMPLETED", "0:0", 1, 100 * MIB, 300, gpus=1),
    ]
    return GroundTruth(cluster, {job.name: job for job in jobs}, workdir)


def cluster_session(directory: Path) -> Iterator[SlurmInfo]:
    """Start the cluster in ``directory``, yield it, stop it (the body of the session fixture)."""
    try:
        yield start(directory)
    finally:
        stop(directory)
