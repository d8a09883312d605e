"""The demo project's pipeline: three runs on Puhti, Mahti, Roihu and LUMI, as the tools print them.

One list of jobs (:data:`JOBS`) is the single source of the demo: the Management objects, the TIMES runs, the sacct
text of each cluster (``sacct -P`` with a header, one file per cluster, as ``sacct -S 2024-05-01`` prints it), the
``seff`` reports and the Slurm ``.out`` logs are all rendered from it, so they agree by construction. Two jobs are
real (Mahti 3459879 and 3461753, SOURCES-sacct.md): their figures are the real ones and their logs are real files.

Times are the clusters' local time (sacct prints local time without a zone); the demo reads them in the store's
``SACCT_TIMEZONE``, so the TIMES stages and the jobs stay on one axis whatever the setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

#: The demo project on CSC's clusters and on LUMI, and its user on each.
CSC_PROJECT = "project_2001234"
LUMI_PROJECT = "project_465001234"
CSC_USER = "mvirtane"
LUMI_USER = "virtanem"
#: The cluster name sacct prints (Cluster) per platform.
CLUSTERS = {"puhti": "puhti", "mahti": "mahti", "roihu": "roihu", "lumi": "lumi"}
#: The SACCT run each platform's text is stored as (``sacct -S 2024-05-01`` on that cluster).
SACCT_RUN_NAMES = {p: f"{p}-2024-05" for p in CLUSTERS}
#: The fields of the demo's sacct text, in order.
FIELDS = ("JobID|JobIDRaw|JobName|User|Account|Cluster|Partition|AllocCPUS|NNodes|NTasks|State|ExitCode|Submit|Start|"
          "End|Timelimit|Elapsed|CPUTime|TotalCPU|ReqMem|MaxRSS|ReqTRES|AllocTRES|TRESUsageInAve|TRESUsageInMax|"
          "NodeList").split("|")

GIB = 1024**3


@dataclass(frozen=True)
class DemoJob:
    """One Slurm job (or array task) of the demo, with what its sacct record, seff report and log say.

    ``submit`` is local time; ``wait`` and ``elapsed`` are seconds (``elapsed`` None: not started). ``cpu_use`` is
    the fraction of the allocated core time the job used, ``rss`` its peak memory in bytes. ``gpu_util`` (percent)
    and ``gpu_mem`` (bytes) are per GPU, None where the cluster does not record GPU use (MIG slices, LUMI's AMD
    GPUs).
    """

    pipeline: int
    platform: str
    job_id: str
    script: str
    partition: str
    state: str
    submit: str
    wait: int
    elapsed: int | None
    timelimit: int
    cpus: int
    mem: str
    nodes: int = 1
    exit_code: str = "0:0"
    cpu_use: float = 0.5
    rss: int = 2 * GIB
    gpus: int = 0
    gpu_type: str | None = None
    typed_only: bool = False
    gpu_util: float | None = None
    gpu_mem: int | None = None
    node_list: str = ""
    array_task: int | None = None
    #: The srun steps of a job on several nodes: (step, nodes it ran on); one step over all nodes by default.
    srun_steps: tuple[tuple[str, str], ...] = ()

    @property
    def base_id(self) -> str:
        """The job id Management records (the array's own id for a task)."""
        return self.job_id.split("_")[0]

    @property
    def name(self) -> str:
        """JobName: Slurm's default, the script's file name."""
        return self.script.rsplit("/", 1)[-1]

    @property
    def cluster(self) -> str:
        """The cluster name sacct prints."""
        return CLUSTERS[self.platform]

    @property
    def user(self) -> str:
        """The demo's user on the job's cluster."""
        return LUMI_USER if self.platform == "lumi" else CSC_USER

    @property
    def account(self) -> str:
        """The project the job is billed to."""
        return LUMI_PROJECT if self.platform == "lumi" else CSC_PROJECT

    def times(self) -> tuple[datetime, datetime | None, datetime | None]:
        """Submit, start and end as local (naive) times; start/end None when the job has not got there."""
        submit = datetime.fromisoformat(self.submit)
        if self.elapsed is None:
            return submit, None, None
        start = submit + timedelta(seconds=self.wait)
        return submit, start, (None if self.state == "RUNNING" else start + timedelta(seconds=self.elapsed))


def _job(pipeline: int, platform: str, job_id: str, script: str, partition: str, state: str, submit: str,
         wait: int, elapsed: int | None, timelimit: int, cpus: int, mem: str, **more: object) -> DemoJob:
    return DemoJob(pipeline, platform, job_id, f"/users/{CSC_USER if platform != 'lumi' else LUMI_USER}/{script}",
                   partition, state, submit, wait, elapsed, timelimit, cpus, mem, **more)  # type: ignore[arg-type]


def _sweep(pipeline: int, job_id: str, submit: str, failed: dict[int, tuple[str, int]]) -> list[DemoJob]:
    """A hyperparameter sweep on Mahti's MIG slices: an array of 8 tasks, ``failed`` task → (exit code, elapsed)."""
    tasks: list[DemoJob] = []
    begin = datetime.fromisoformat(submit)
    for task in range(8):
        exit_code, elapsed = failed.get(task, ("0:0", 1260 + 97 * task))
        tasks.append(_job(pipeline, "mahti", f"{job_id}_{task}", "hyperparam.sh", "gpusmall",
                          "FAILED" if task in failed else "COMPLETED", begin.isoformat(), 40 + 95 * (task // 4),
                          elapsed, 3600, 4, "17500M", exit_code=exit_code, cpu_use=0.88 if task not in failed else 0.4,
                          rss=int((5.1 + 0.4 * task) * GIB), gpus=1, gpu_type="a100_1g.5gb", typed_only=True,
                          node_list=f"g{1101 + task // 4}", array_task=task))
    return tasks


#: Every job of the demo's three pipeline runs.
JOBS: tuple[DemoJob, ...] = (
    # Run 1, 2024-05-24: the whole pipeline, every stage finished; a sweep task failed and a GPU sat idle.
    _job(1, "puhti", "21538077", "preprocess.sh", "small", "COMPLETED", "2024-05-24T12:51:02", 45, 850, 3600, 8,
         "32G", cpu_use=0.82, rss=int(21.3 * GIB), node_list="r07c51"),
    _job(1, "puhti", "21538102", "train-resnet.sh", "gpu", "COMPLETED", "2024-05-24T13:06:10", 1320, 6480, 14400,
         40, "128G", cpu_use=0.31, rss=int(41.2 * GIB), gpus=4, gpu_type="v100", gpu_util=87.0,
         gpu_mem=int(27.6 * GIB), node_list="r13g02"),
    _job(1, "puhti", "21538110", "eval.sh", "gpu", "COMPLETED", "2024-05-24T15:17:03", 180, 1880, 3600, 10, "64G",
         cpu_use=0.93, rss=int(12.4 * GIB), gpus=1, gpu_type="v100", gpu_util=0.0, gpu_mem=0, node_list="r14g05"),
    _job(1, "mahti", "3459879", "ray-cluster.sh", "medium", "COMPLETED", "2024-05-24T13:06:53", 1, 309, 600, 256,
         "1G", node_list="c1101"),
    *_sweep(1, "3462001", "2024-05-24T13:15:00", {5: ("1:0", 131)}),
    _job(1, "roihu", "812345", "train-gnn.sh", "gpumedium", "COMPLETED", "2024-05-24T13:10:40", 540, 4320, 10800,
         288, "480G", cpu_use=0.22, rss=int(201.0 * GIB), gpus=4, gpu_util=64.0, gpu_mem=int(61.5 * GIB),
         node_list="rg1203"),
    _job(1, "roihu", "812360", "featurize.sh", "small", "OUT_OF_MEMORY", "2024-05-24T12:52:30", 25, 544, 3600, 32,
         "64G", exit_code="0:125", cpu_use=0.71, rss=64 * GIB, node_list="rc2044"),
    _job(1, "lumi", "7340012", "ray-cluster.sh", "standard-g", "COMPLETED", "2024-05-24T13:08:15", 1710, 7500,
         14400, 112, "960G", nodes=2, cpu_use=0.18, rss=int(388.0 * GIB), gpus=16, node_list="nid[005012-005013]"),
    _job(1, "lumi", "7340020", "finetune.sh", "small-g", "COMPLETED", "2024-05-24T15:40:02", 95, 2710, 7200, 7,
         "60G", cpu_use=0.64, rss=int(44.0 * GIB), gpus=1, node_list="nid005101"),
    # Run 2, 2024-05-25: the Ray cluster on Mahti was cancelled (its real log), the rest finished.
    _job(2, "puhti", "21541230", "preprocess.sh", "small", "COMPLETED", "2024-05-25T12:01:10", 30, 712, 3600, 8,
         "32G", cpu_use=0.85, rss=int(21.0 * GIB), node_list="r07c33"),
    _job(2, "puhti", "21541288", "train-resnet.sh", "gpu", "COMPLETED", "2024-05-25T12:13:40", 2880, 6900, 14400,
         40, "128G", cpu_use=0.30, rss=int(41.9 * GIB), gpus=4, gpu_type="v100", gpu_util=85.0,
         gpu_mem=int(28.1 * GIB), node_list="r15g01"),
    _job(2, "mahti", "3461753", "ray-cluster.sh", "medium", "CANCELLED", "2024-05-25T12:18:40", 91, 1913, 3600, 512,
         "1G", nodes=2, exit_code="0:15", cpu_use=0.02, rss=int(0.6 * GIB), node_list="c[2201-2202]",
         srun_steps=((".1", "c2201"), (".2", "c2202"))),
    _job(2, "roihu", "813002", "train-gnn.sh", "gpumedium", "COMPLETED", "2024-05-25T12:20:05", 960, 4610, 10800,
         288, "480G", cpu_use=0.21, rss=int(204.0 * GIB), gpus=4, gpu_util=66.0, gpu_mem=int(60.9 * GIB),
         node_list="rg1107"),
    _job(2, "lumi", "7345511", "finetune.sh", "small-g", "COMPLETED", "2024-05-25T12:25:30", 140, 2950, 7200, 7,
         "60G", cpu_use=0.61, rss=int(45.3 * GIB), gpus=1, node_list="nid005133"),
    _job(2, "lumi", "7345530", "export.sh", "small", "COMPLETED", "2024-05-25T13:16:00", 12, 420, 1800, 4, "8G",
         cpu_use=0.55, rss=int(3.2 * GIB), node_list="nid002410"),
    # Run 3, 2024-05-27: under way; training runs, evaluation waits in the queue.
    _job(3, "puhti", "21545001", "preprocess.sh", "small", "COMPLETED", "2024-05-27T09:30:12", 40, 730, 3600, 8,
         "32G", cpu_use=0.84, rss=int(21.1 * GIB), node_list="r07c12"),
    _job(3, "puhti", "21545020", "train-resnet.sh", "gpu", "RUNNING", "2024-05-27T09:43:05", 900, 5400, 14400, 40,
         "128G", cpu_use=0.30, rss=int(40.8 * GIB), gpus=4, gpu_type="v100", gpu_util=88.0,
         gpu_mem=int(27.9 * GIB), node_list="r13g07"),
    _job(3, "puhti", "21545033", "eval.sh", "gpu", "PENDING", "2024-05-27T09:43:20", 0, None, 3600, 10, "64G",
         gpus=1, gpu_type="v100"),
    _job(3, "mahti", "3470110", "ray-cluster.sh", "medium", "RUNNING", "2024-05-27T09:44:00", 35, 4800, 7200, 256,
         "1G", cpu_use=0.05, rss=int(1.4 * GIB), node_list="c3104"),
    _job(3, "roihu", "815577", "train-gnn.sh", "gpumedium", "PENDING", "2024-05-27T09:45:10", 0, None, 10800, 288,
         "480G", gpus=4),
    _job(3, "lumi", "7351200", "finetune.sh", "small-g", "PENDING", "2024-05-27T09:46:00", 0, None, 7200, 7, "60G",
         gpus=1),
)

#: Jobs Management knows that were never submitted: (pipeline, platform, script, flags).
UNSUBMITTED: tuple[tuple[int, str, str, tuple[str, ...]], ...] = (
    (3, "mahti", "/users/mvirtane/sweep.sh", ("start",)),
    (3, "lumi", "/users/virtanem/export.sh", ()),
)

#: TIMES stages of each run: stage → (begin, end) local time; a stage not reached is absent.
STAGES: dict[int, dict[str, tuple[str, str]]] = {
    1: {"start": ("2024-05-24T12:50:00", "2024-05-24T12:50:04"),
        "config": ("2024-05-24T12:50:05", "2024-05-24T12:50:58"),
        "run": ("2024-05-24T12:51:00", "2024-05-24T16:30:00"),
        "store": ("2024-05-24T16:30:01", "2024-05-24T16:30:43")},
    2: {"start": ("2024-05-25T12:00:00", "2024-05-25T12:00:04"),
        "config": ("2024-05-25T12:00:05", "2024-05-25T12:01:05"),
        "run": ("2024-05-25T12:01:08", "2024-05-25T15:10:30"),
        "cancel": ("2024-05-25T12:52:00", "2024-05-25T12:52:09"),
        "store": ("2024-05-25T15:10:31", "2024-05-25T15:11:15")},
    3: {"start": ("2024-05-27T09:29:00", "2024-05-27T09:29:04"),
        "config": ("2024-05-27T09:29:05", "2024-05-27T09:30:02")},
}
#: The stage a run is in and has not finished: it began but has no end yet.
OPEN_STAGES: dict[int, tuple[str, str]] = {3: ("run", "2024-05-27T09:30:05")}


def pipeline_runs() -> list[int]:
    """The pipeline runs of the demo, in order."""
    return sorted(STAGES)


def jobs_of(pipeline: int | None = None, platform: str | None = None) -> list[DemoJob]:
    """The demo's jobs of one pipeline run and/or platform, in submission order."""
    return sorted((j for j in JOBS if (pipeline is None or j.pipeline == pipeline)
                   and (platform is None or j.platform == platform)), key=lambda j: (j.submit, j.job_id))


def epoch(local: str, timezone: str) -> float:
    """A local time of the demo as epoch seconds in ``timezone``."""
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(timezone)).timestamp()


# --- sacct text ----------------------------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    """``[D-]HH:MM:SS`` as sacct prints Elapsed, Timelimit and CPUTime."""
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{days}-" if days else "") + f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _cpu_time(seconds: float) -> str:
    """TotalCPU as sacct prints it: ``MM:SS.mmm`` under an hour, else ``[D-]HH:MM:SS``."""
    if seconds < 3600:
        minutes, secs = divmod(seconds, 60)
        return f"{int(minutes):02d}:{secs:06.3f}"
    return _duration(seconds)


def _stamp(value: datetime | None) -> str:
    return "Unknown" if value is None else value.strftime("%Y-%m-%dT%H:%M:%S")


def _kib(n: float) -> str:
    """A size as sacct prints memory: KiB with a ``K`` (a plain ``0`` for nothing)."""
    return f"{round(n / 1024)}K" if n else "0"


def _mem_bytes(mem: str) -> int:
    units = {"K": 1024, "M": 1024**2, "G": GIB, "T": 1024**4}
    return int(float(mem[:-1]) * units[mem[-1]])


def _gres(job: DemoJob) -> str:
    """The GPU entries of AllocTRES, in Slurm's alphabetical order (typed entry first)."""
    if not job.gpus:
        return ""
    typed = f"gres/gpu:{job.gpu_type}={job.gpus}" if job.gpu_type else ""
    plain = f"gres/gpu={job.gpus}"
    parts = [typed] if job.typed_only else [p for p in (typed, plain) if p]
    return ",".join(parts) + ","


def _usage(job: DemoJob, cpu_seconds: float, rss: int, *, gpus: bool, tasks: int = 1) -> str:
    """TRESUsageInAve/Max of a step; GPU entries only where the cluster records them.

    As Slurm's GPU plugins do, a task's entries add up its GPUs (the step's GPUs shared among its tasks):
    ``gpu_util`` and ``gpu_mem`` are per GPU.
    """
    parts = [f"cpu={_duration(cpu_seconds)}", "energy=0", f"fs/disk={int(rss * 0.37)}"]
    if gpus and job.gpus and job.gpu_util is not None:
        per_task = max(1.0, job.gpus / tasks)
        parts += [f"gres/gpumem={int((job.gpu_mem or 0) * per_task)}", f"gres/gpuutil={job.gpu_util * per_task:g}"]
    parts += [f"mem={_kib(rss)}", "pages=0", f"vmem={_kib(rss * 1.08)}"]
    return ",".join(parts)


def _first_node(node_list: str) -> str:
    """The first host of a Slurm host list (``nid[005012-005013]`` → ``nid005012``)."""
    if "[" not in node_list:
        return node_list
    prefix, rest = node_list.split("[", 1)
    return prefix + rest.split("-")[0].split(",")[0].rstrip("]")


def sacct_rows(job: DemoJob) -> list[list[str]]:
    """The job's sacct lines (job, ``.batch``, ``.extern`` and on several nodes its srun steps), as field lists."""
    submit, start, end = job.times()
    pending = start is None
    finished = job.state not in ("RUNNING", "PENDING")
    raw = job.job_id
    if job.array_task is not None:  # the last task keeps the array's own id, the others get ids after it
        raw = job.base_id if job.array_task == 7 else str(int(job.base_id) + 1 + job.array_task)
    elapsed = 0 if pending else (job.elapsed or 0)
    req = f"billing={job.cpus},cpu={job.cpus},{_gres(job)}mem={job.mem},node={job.nodes}"
    used = job.cpu_use * job.cpus * elapsed
    srun = job.srun_steps or ((".0", job.node_list),)
    # (step, nodes, cpus, tasks, CPU seconds, MaxRSS, node list, carries the GPU work)
    steps: list[tuple[str, int, int, int, float, int, str, bool]] = []
    if not pending:
        per_node = job.cpus // job.nodes
        steps.append((".batch", 1, per_node, 1, used if job.nodes == 1 else used * 0.01,
                      job.rss if job.nodes == 1 else int(1.2 * GIB), _first_node(job.node_list), job.nodes == 1))
        steps.append((".extern", job.nodes, job.cpus, job.nodes, 0.001, 0, job.node_list, False))
        if job.nodes > 1:
            share = job.nodes // len(srun)
            for step, hosts in srun:
                steps.append((step, share, per_node * share, share, used * 0.99 / len(srun), job.rss // len(srun),
                              hosts, True))
    total_cpu = sum(s[4] for s in steps) if finished else 0.0
    rows = [[
        job.job_id, raw, job.name, job.user, job.account, job.cluster, job.partition, str(job.cpus), str(job.nodes),
        "", job.state, job.exit_code if finished else "0:0", _stamp(submit), _stamp(start), _stamp(end),
        _duration(job.timelimit), _duration(elapsed), _duration(elapsed * job.cpus), _cpu_time(total_cpu), job.mem,
        "", req, "" if pending else req, "", "", job.node_list if not pending else "None assigned",
    ]]
    for step, nodes, cpus, tasks, cpu_seconds, rss, node_list, gpu_work in steps:
        if not finished:
            state, code = "RUNNING", "0:0"
        elif step == ".extern":
            state, code = "COMPLETED", "0:0"
        elif job.state == "CANCELLED":
            state, code = "CANCELLED", "0:15"
        else:
            state, code = job.state, job.exit_code if (gpu_work or step == ".batch") else "0:0"
        gres = "" if step == ".extern" else _gres(job)
        usage = _usage(job, cpu_seconds / tasks, rss, gpus=gpu_work, tasks=tasks) if finished else ""
        rows.append([
            job.job_id + step, raw + step, "python3" if step[1:].isdigit() else step[1:], "", job.account,
            job.cluster, "", str(cpus), str(nodes), str(tasks), state, code, _stamp(start), _stamp(start),
            _stamp(end), "", _duration(elapsed), _duration(elapsed * cpus),
            _cpu_time(cpu_seconds) if finished else "00:00:00", "", _kib(rss) if finished else "", "",
            f"cpu={cpus},{gres}mem={job.mem},node={nodes}", usage, usage, node_list,
        ])
    return rows


#: The real Mahti job 3459879 (SOURCES-sacct.md): its lines are the recorded ones, with the fields of the demo.
_REAL_3459879 = [
    "3459879|3459879|ray-cluster.sh|mvirtane|project_2001234|mahti|medium|256|1||COMPLETED|0:0|2024-05-24T13:06:53|"
    "2024-05-24T13:06:54|2024-05-24T13:12:03|00:10:00|00:05:09|21:58:24|04:55.666|1G||"
    "billing=256,cpu=256,mem=1G,node=1|billing=256,cpu=256,mem=1G,node=1|||c1101",
    "3459879.batch|3459879.batch|batch||project_2001234|mahti||256|1|1|COMPLETED|0:0|2024-05-24T13:06:54|"
    "2024-05-24T13:06:54|2024-05-24T13:12:03||00:05:09|21:58:24|00:01.469||5684K||cpu=256,mem=1G,node=1|"
    "cpu=00:00:01,energy=0,fs/disk=9500426,mem=5684K,pages=0,vmem=221048K|"
    "cpu=00:00:01,energy=0,fs/disk=9500426,mem=5684K,pages=0,vmem=221048K|c1101",
    "3459879.extern|3459879.extern|extern||project_2001234|mahti||256|1|1|COMPLETED|0:0|2024-05-24T13:06:54|"
    "2024-05-24T13:06:54|2024-05-24T13:12:03||00:05:09|21:58:24|00:00.001||0||cpu=256,mem=1G,node=1|"
    "cpu=00:00:00,energy=0,fs/disk=10485,mem=0,pages=0,vmem=0|cpu=00:00:00,energy=0,fs/disk=10485,mem=0,pages=0,"
    "vmem=0|c1101",
    "3459879.0|3459879.0|python3||project_2001234|mahti||2|1|1|COMPLETED|0:0|2024-05-24T13:07:00|"
    "2024-05-24T13:07:00|2024-05-24T13:12:03||00:05:03|00:10:06|04:54.195||383872K||cpu=2,mem=1G,node=1|"
    "cpu=00:04:54,energy=0,fs/disk=103179878,mem=383872K,pages=0,vmem=1520112K|"
    "cpu=00:04:54,energy=0,fs/disk=103179878,mem=383872K,pages=0,vmem=1520112K|c1101",
]


def sacct_text(platform: str) -> str:
    """What ``sacct -P -S 2024-05-01 --format=<FIELDS>`` prints on ``platform`` for the demo project."""
    lines = ["|".join(FIELDS)]
    for job in jobs_of(platform=platform):
        if job.job_id == "3459879":
            lines += _REAL_3459879
            continue
        lines += ["|".join(row) for row in sacct_rows(job)]
    return "\n".join(lines) + "\n"


# --- seff reports ----------------------------------------------------------------------------------------------------


def _seff_size(n: float) -> str:
    """Seff's memory figure: MB or GB, 1024-based, two decimals."""
    if n >= GIB:
        return f"{n / GIB:.2f} GB"
    return f"{n / 1024**2:.2f} MB"


def csc_billed(job: DemoJob) -> tuple[float, str] | None:
    """What CSC bills the job, by the rates of CSC's billing page, and its pool; None on LUMI or unfinished."""
    if job.platform == "lumi" or job.elapsed is None or job.state in ("RUNNING", "PENDING"):
        return None
    hours = job.elapsed / 3600
    mem_gib = _mem_bytes(job.mem) / GIB
    if job.platform == "puhti":
        if job.gpus:
            return (60 * job.gpus + job.cpus + 0.1 * mem_gib) * hours, "GPU"
        return (job.cpus + 0.1 * mem_gib) * hours, "CPU"
    if job.platform == "mahti":
        if job.gpu_type == "a100_1g.5gb":
            return 15 * job.gpus * hours, "GPU"
        if job.gpus:
            return 100 * job.gpus * hours, "GPU"
        if job.partition in ("medium", "large", "test", "gc"):
            return 100 * job.nodes * hours, "CPU"
        return job.cpus * hours, "CPU"
    if job.gpus:  # roihu
        return 200 * job.gpus * hours, "GPU"
    return max(0.75 * job.cpus, 0.375 * mem_gib) * hours, "CPU"


def seff_text(job: DemoJob) -> str | None:
    """The ``seff`` report of a finished job (Slurm's contrib/seff, with CSC's billing lines), else None."""
    if job.elapsed is None or job.state in ("RUNNING", "PENDING"):
        return None
    if job.job_id == "3459879":
        cpu_seconds, rss = 295.666, 383872 * 1024
    else:
        rows = sacct_rows(job)
        cpu_seconds = job.cpu_use * job.cpus * job.elapsed
        rss = max(_mem_bytes(r[20]) if r[20] not in ("", "0") else 0 for r in rows[1:])
    core_walltime = job.cpus * job.elapsed
    lines = [f"Job ID: {job.job_id}"]
    if job.array_task is not None:
        lines.append(f"Array Job ID: {job.job_id}")
    state = f"{job.state} (exit code {job.exit_code.split(':')[0]})"
    lines += [
        f"Cluster: {job.cluster}",
        f"User/Group: {job.user}/pepr_{job.user}" if job.platform != "lumi" else f"User/Group: {job.user}/{job.user}",
        f"State: {state}",
        f"Nodes: {job.nodes}",
        f"Cores per node: {job.cpus // job.nodes}",
        f"CPU Utilized: {_duration(cpu_seconds)}",
        f"CPU Efficiency: {100 * cpu_seconds / core_walltime:.2f}% of {_duration(core_walltime)} core-walltime",
        f"Job Wall-clock time: {_duration(job.elapsed)}",
        f"Memory Utilized: {_seff_size(rss)}",
        f"Memory Efficiency: {100 * rss / _mem_bytes(job.mem):.2f}% of {_seff_size(_mem_bytes(job.mem))}",
    ]
    billed = csc_billed(job)
    if billed is not None:
        amount, pool = billed
        units = "CSC billing units" if pool == "CPU" else "CSC GPU billing units"
        lines += [f"Job consumed {amount:.2f} {units} based on following used resources",
                  f"Billed project: {job.account}",
                  f"Non-Interactive BUs: {amount:.2f}"]
    return "\n".join(lines) + "\n"


# --- logs ----------------------------------------------------------------------------------------------------------

#: Logs that are real files (SOURCES-logs.md).
REAL_LOGS = {"3459879": "mahti_logs.txt", "3461753": "ray_slurm_artifacts_2.txt"}


def log_name(job: DemoJob) -> str:
    """The ``.out`` file Slurm writes by default: ``slurm-%j.out``, for an array task ``slurm-%A_%a.out``."""
    return f"slurm-{job.job_id}.out"


def log_text(job: DemoJob) -> str | None:
    """The job's ``.out`` as the job wrote it so far; None for a job that has not started."""
    _, start, end = job.times()
    if start is None:
        return None
    gpu_line = ""
    if job.gpus:
        kind = {"v100": "Tesla V100-SXM2-32GB", "a100_1g.5gb": "NVIDIA A100-SXM4-40GB MIG 1g.5gb"}.get(
            job.gpu_type or "", "AMD Instinct MI250X" if job.platform == "lumi" else "NVIDIA GH200 120GB")
        gpu_line = f"torch.cuda.device_count() = {job.gpus} ({kind})\n"
    modules = "pytorch/2.2" if job.platform != "lumi" else "LUMI/23.09 partition/G PyTorch/2.2.0-rocm-5.6.1"
    lines = [
        f"Loaded modules: {modules}",
        "Activating venv",
        "Venv active",
        f"Job {job.job_id} on {job.node_list} ({job.partition}, {job.cpus} cores"
        + (f", {job.gpus} GPU{'s' if job.gpus > 1 else ''}" if job.gpus else "") + ")",
    ]
    if gpu_line:
        lines.append(gpu_line.rstrip("\n"))
    epochs = max(1, (job.elapsed or 0) // 600)
    if job.state == "RUNNING":
        epochs = max(1, epochs // 2)
    for i in range(1, min(epochs, 12) + 1):
        lines.append(f"epoch {i}: loss {1.9 / (1 + 0.35 * i):.4f}")
    if job.state == "COMPLETED":
        lines += ["Artifacts uploaded to Allas", "Batch job Complete"]
    elif job.state == "FAILED":
        lines += [
            "Traceback (most recent call last):",
            f'  File "{job.script.rsplit("/", 1)[0]}/train.py", line 88, in <module>',
            "    loss = model(batch).loss",
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB. GPU 0 has a total capacity of "
            "4.75 GiB of which 312.00 MiB is free.",
            f"srun: error: {job.node_list}: task 0: Exited with exit code {job.exit_code.split(':')[0]}",
        ]
    elif job.state == "OUT_OF_MEMORY":
        lines += [f"slurmstepd: error: Detected 1 oom_kill event in StepId={job.job_id}.batch. Some of the step "
                  "tasks have been OOM Killed."]
    elif job.state == "TIMEOUT":
        lines += [f"slurmstepd: error: *** JOB {job.job_id} ON {job.node_list} CANCELLED AT {_stamp(end)} DUE TO "
                  "TIME LIMIT ***"]
    return "\n".join(lines) + "\n"


