"""Demo data for the embedded local store, built from real public sacct outputs and Slurm logs.

``seed_demo`` writes only the objects that are missing, so it is safe on every start and never overwrites what a
user stored. The sacct runs are parsed by the same parser the upload page uses; the management object has jobs in
every status on Puhti, Mahti and LUMI with workspaces parsed from ``csc-workspaces`` listings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources

import pandas as pd

from core.errors import NotFound
from core.models import Configs, Files, Job, Orchestration, Platform, Properties, Status, Venv
from core.naming import bucket_name, log_object, management_object, sacct_run_object, times_object
from core.platforms import OTHER, platform_of_cluster
from core.sacct import parse_sacct
from core.serialize import dump_management, frame_to_parquet
from core.settings import Settings
from core.store.base import MetaValue, ObjectStore
from core.workspaces import parse_workspaces

log = logging.getLogger(__name__)

#: The field list of the headerless demo sample 06 (Habrok's hbjobinfo, ``--noheader``).
FIELDS_06 = (
    "JobID,JobName,User,Partition,NodeList,NNodes,NCPUs,NTasks,State,Submit,Start,End,Timelimit,Elapsed,TotalCPU,"
    "CPUTime,UserCPU,SystemCPU,ReqMem,MaxRSS,MaxVMSize,ReqTRES,AllocTRES,TRESUsageInMax,TRESUsageInTot,"
    "TRESUsageOutTot,MaxDiskRead,MaxDiskWrite,MaxRSSNode,MaxRSSTask,MaxVMSizeNode,MaxVMSizeTask,MaxDiskReadNode,"
    "MaxDiskReadTask,MaxDiskWriteNode,MaxDiskWriteTask,Comment"
).split(",")
#: The field list of the headerless demo sample 07 (slurmdog, Alpine, ``--noheader``).
FIELDS_07 = "JobID,User,Group,State,Cluster,AllocCPUS,REQMEM,TotalCPU,Elapsed,MaxRSS,ExitCode,NNodes,NTasks".split(",")

#: SACCT demo runs: run name → (sample file, headerless field list).
SACCT_RUNS: dict[str, tuple[str, list[str] | None]] = {
    "habrok-gpu": ("06_hbjobinfo_parsable_snowman_noheader.txt", FIELDS_06),
    "alpine-4-months": ("07_slurmdog_parsable2_noheader_alpine.txt", FIELDS_07),
    "hyak-default": ("01_hyak_default_fixedwidth.txt", None),
    "cedar-queue": ("09_tdhock_parsable2_multiuser.txt", None),
    "torchx-hetjob": ("05_torchx_hetjob_parsable.txt", None),
    "alpine-array-json": ("13_slurmdog_json_slurm23.02.txt", None),
    # Written last, so the newest stored: the SACCT page opens on it.
    "mahti-ray": ("mahti_sacct_ray.txt", None),
}
#: The cluster each demo run comes from (SOURCES-sacct.md); only Mahti is one of CSC's platforms.
RUN_CLUSTERS: dict[str, str | None] = {
    "mahti-ray": "mahti", "habrok-gpu": "habrok", "alpine-4-months": "alpine", "hyak-default": "hyak",
    "cedar-queue": "cedar", "torchx-hetjob": None, "alpine-array-json": "alpine",
}
#: Demo logs: object → sample file.
LOGS = {log_object("slurm-3459879.out"): "mahti_logs.txt", log_object("slurm-3461753.out"): "ray_slurm_artifacts_2.txt",
        log_object("seff-3459879.txt"): "mahti_seff.txt"}


def _sample(name: str) -> bytes:
    return resources.files("core.demo_data").joinpath(name).read_bytes()


def _status(*flags: str) -> Status:
    return Status.model_validate(dict.fromkeys(flags, True))


_FLOW = ("start", "config", "submit")
#: One job in every phase, spread over the platforms.
_JOBS: dict[str, list[tuple[str, str, Status]]] = {
    "puhti": [
        ("/users/csc/ray-cluster.sh", "21538077", _status(*_FLOW, "pending", "running", "complete", "stored")),
        ("/users/csc/train-resnet.sh", "21538102", _status(*_FLOW, "pending", "running")),
        ("/users/csc/preprocess.sh", "21538110", _status(*_FLOW, "pending")),
        ("/users/csc/eval.sh", "None", _status("start", "config")),
    ],
    # Jobs 3459879 and 3461753 are the real Mahti jobs of the demo's sacct run, logs and seff report (the first
    # COMPLETED, the second CANCELLED): their statuses here agree with those.
    "mahti": [
        ("/users/csc/ray-cluster.sh", "3459879", _status(*_FLOW, "pending", "running", "complete")),
        ("/users/csc/ray-cluster.sh", "3461753", _status(*_FLOW, "pending", "running", "cancel")),
        ("/users/csc/hyperparam.sh", "3462001", _status(*_FLOW, "pending", "running", "failed")),
        ("/users/csc/sweep.sh", "None", _status("start")),
    ],
    "lumi": [
        ("/users/csc/ray-cluster.sh", "7340012", _status(*_FLOW, "pending", "running", "stopped")),
        ("/users/csc/finetune.sh", "7340020", _status(*_FLOW)),
        ("/users/csc/export.sh", "None", Status()),
    ],
}


def demo_orchestration() -> Orchestration:
    """The management object of the demo."""
    venv = Venv(name="exp-venv", path="/users/csc", modules=["pytorch"],
                packages=["ray", "python-swiftclient", "torch", "torchmetrics"])
    platforms: dict[str, Platform] = {}
    for name, jobs in _JOBS.items():
        listing = parse_workspaces(_sample(f"workspaces_{name}.txt").decode("utf-8"))
        files = Files.model_validate({
            "send": [
                {"transfer": {"source": {"place": "local/submitter", "path": "/run/secrets/parameters",
                                         "value": "integration/cloud-hpc/key"},
                              "target": {"place": f"hpc/{name}", "path": "/users/csc/cloud-hpc.pem", "value": "None"}},
                 "overwrite": False},
                {"transfer": {"source": {"place": "storage/allas/pipeline", "path": "/CODE/SLURM/ray-cluster.sh",
                                         "value": "None"},
                              "target": {"place": f"hpc/{name}", "path": "/users/csc/ray-cluster.sh", "value": "None"}},
                 "overwrite": True},
            ],
            "get": [
                {"transfer": {"source": {"place": f"hpc/{name}", "path": "/users/csc/slurm-{0}.out", "value": "None"},
                              "target": {"place": "storage/allas/pipeline", "path": "LOGS/{0}", "value": "None"}},
                 "remove": False},
            ],
        })
        platforms[name] = Platform(
            properties=Properties(directory="/users/csc", languages=[{"name": "Python", "version": "3.6.8"}],
                                  workspaces=listing.workspaces),
            configs=Configs(modules=["gcc", "openmpi", "openblas", "csc-tools", "StdEnv"], venv=venv),
            files=files,
            jobs=[Job(path=path, id=job_id, status=status) for path, job_id, status in jobs],
        )
    return Orchestration(name="multi-cloud-hpc-integration", platforms=platforms)


def demo_times() -> dict[str, pd.DataFrame]:
    """Stage timings of four pipeline runs (the seed's Times frame: stages as index; begin, end, total)."""
    runs: dict[str, pd.DataFrame] = {}
    base = 1_716_540_000
    durations = {
        "run-1": (4.2, 31.0, 612.5, 3.1, 18.4),
        "run-2": (3.9, 29.5, 845.0, 2.8, 21.0),
        "run-3": (4.4, 35.2, 301.7, 55.9, 0.0),
        "run-4": (3.7, 27.8, 1290.3, 3.0, 26.2),
    }
    for i, (run, stage_seconds) in enumerate(durations.items()):
        begin = float(base + i * 7200)
        rows = {}
        for stage, seconds in zip(("start", "config", "run", "cancel", "store"), stage_seconds, strict=True):
            end = begin + seconds
            rows[stage] = {"begin": begin if seconds else 0.0, "end": end if seconds else 0.0, "total": seconds}
            begin = end + 1.0
        runs[run] = pd.DataFrame.from_dict(rows, orient="index").rename_axis("stage")
    return runs


@dataclass(frozen=True)
class SeedReport:
    """What a seeding wrote."""

    written: list[str]
    skipped: int


def seed_demo(store: ObjectStore, settings: Settings) -> SeedReport:
    """Write the demo objects that are missing; leave every existing object alone."""
    user = settings.pipeline_user
    forwarder = bucket_name("forwarder", settings.bucket_prefix, user)
    submitter = bucket_name("submitter", settings.bucket_prefix, user)
    pipeline = bucket_name("pipeline", settings.bucket_prefix, user)
    store.create_bucket(bucket_name("experiment", settings.bucket_prefix, user))  # the pipeline's fourth bucket
    written: list[str] = []
    skipped = 0

    def put(bucket: str, name: str, build: object, content_type: str, meta: dict[str, MetaValue] | None = None) -> None:
        nonlocal skipped
        try:
            store.head_object(bucket, name)
            skipped += 1
            return
        except NotFound:
            pass
        data = build() if callable(build) else build
        assert isinstance(data, bytes)
        store.put_object(bucket, name, data, metadata={"version": 1, **(meta or {})}, content_type=content_type)
        written.append(f"{bucket}/{name}")

    put(submitter, management_object("1.json"), lambda: dump_management(demo_orchestration()), "application/json")
    for run, frame in demo_times().items():
        put(pipeline, times_object(run), lambda f=frame: frame_to_parquet(f), "application/vnd.apache.parquet")
    for run, (sample, fields) in SACCT_RUNS.items():
        cluster = RUN_CLUSTERS.get(run)
        meta: dict[str, MetaValue] = {"source": sample, "platform": platform_of_cluster(cluster) or OTHER}
        if cluster is not None:
            meta["cluster"] = cluster

        def build(sample: str = sample, fields: list[str] | None = fields, meta: dict[str, MetaValue] = meta) -> bytes:
            parsed = parse_sacct(_sample(sample), timezone=settings.sacct_timezone, fields=fields)
            meta.update(format=parsed.format, rows=len(parsed.frame))  # what an upload records too
            return frame_to_parquet(parsed.frame)

        put(forwarder, sacct_run_object(user, run), build, "application/vnd.apache.parquet", meta)
    for name, sample in LOGS.items():
        put(pipeline, name, _sample(sample), "text/plain; charset=utf-8")
    if written:
        log.info("demo data: wrote %d objects, %d were already there", len(written), skipped)
    return SeedReport(written, skipped)
