"""The real samples the tests read, each kept once.

Public sacct outputs of other sites' clusters are test data (``tests/data/sacct``), not demo data: a test that needs
them in a store seeds them with :func:`seed_public_runs`. The demo's real Slurm logs live in ``core/demo_data/``
(shipped with the package). Each sample's source and the facts checked by hand are in ``tests/data/sacct/SOURCES.md``,
``tests/data/logs/SOURCES.md`` and ``core/demo_data/SOURCES-logs.md``.
"""

from __future__ import annotations

from pathlib import Path

from core.naming import bucket_name, sacct_run_object
from core.platforms import OTHER
from core.sacct import parse_sacct
from core.serialize import frame_to_parquet
from core.settings import Settings
from core.store.base import MetaValue, ObjectStore

ROOT = Path(__file__).resolve().parents[1]
DEMO_DATA = ROOT / "core" / "demo_data"
TEST_DATA = ROOT / "tests" / "data"


def sacct(name: str) -> Path:
    """A sacct sample by file name (``01_hyak_default_fixedwidth.txt``), from the demo data or tests/data/sacct."""
    for folder in (DEMO_DATA, TEST_DATA / "sacct"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"no sacct sample {name} in {DEMO_DATA} or {TEST_DATA / 'sacct'}")


def log(name: str) -> Path:
    """A real Slurm log (``mahti_logs.txt``, shipped with the demo) or seff report (``mahti_seff.txt``)."""
    for folder in (DEMO_DATA, TEST_DATA / "logs"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"no log sample {name} in {DEMO_DATA} or {TEST_DATA / 'logs'}")


def workspaces(platform: str) -> Path:
    """The CSC workspace listing of ``platform`` (puhti, mahti, lumi) the demo uses."""
    return DEMO_DATA / f"workspaces_{platform}.txt"


#: The field lists of the headerless samples (their SOURCES entries give the commands).
FIELDS_06 = (
    "JobID,JobName,User,Partition,NodeList,NNodes,NCPUs,NTasks,State,Submit,Start,End,Timelimit,Elapsed,TotalCPU,"
    "CPUTime,UserCPU,SystemCPU,ReqMem,MaxRSS,MaxVMSize,ReqTRES,AllocTRES,TRESUsageInMax,TRESUsageInTot,"
    "TRESUsageOutTot,MaxDiskRead,MaxDiskWrite,MaxRSSNode,MaxRSSTask,MaxVMSizeNode,MaxVMSizeTask,MaxDiskReadNode,"
    "MaxDiskReadTask,MaxDiskWriteNode,MaxDiskWriteTask,Comment"
).split(",")
FIELDS_07 = "JobID,User,Group,State,Cluster,AllocCPUS,REQMEM,TotalCPU,Elapsed,MaxRSS,ExitCode,NNodes,NTasks".split(",")

#: Public samples of other sites' clusters as SACCT runs: run name → (sample, headerless field list, cluster).
PUBLIC_RUNS: dict[str, tuple[str, list[str] | None, str | None]] = {
    "habrok-gpu": ("06_hbjobinfo_parsable_snowman_noheader.txt", FIELDS_06, "habrok"),
    "alpine-4-months": ("07_slurmdog_parsable2_noheader_alpine.txt", FIELDS_07, "alpine"),
    "hyak-default": ("01_hyak_default_fixedwidth.txt", None, "hyak"),
    "cedar-queue": ("09_tdhock_parsable2_multiuser.txt", None, "cedar"),
    "torchx-hetjob": ("05_torchx_hetjob_parsable.txt", None, None),
    "alpine-array-json": ("13_slurmdog_json_slurm23.02.txt", None, "alpine"),
}


def seed_public_runs(store: ObjectStore, settings: Settings, runs: list[str] | None = None) -> list[str]:
    """Store public samples (all of :data:`PUBLIC_RUNS`, or ``runs``, in that order) as SACCT runs of platform
    ``other``, as an upload of them would; returns their object names."""
    forwarder = bucket_name("forwarder", settings.bucket_prefix, settings.pipeline_user)
    store.create_bucket(forwarder)
    written = []
    for run in runs or list(PUBLIC_RUNS):
        sample, fields, cluster = PUBLIC_RUNS[run]
        parsed = parse_sacct(sacct(sample).read_bytes(), timezone=settings.sacct_timezone, fields=fields)
        meta: dict[str, MetaValue] = {"version": 1, "source": sample, "platform": OTHER, "format": parsed.format,
                                      "rows": len(parsed.frame)}
        if cluster is not None:
            meta["cluster"] = cluster
        name = sacct_run_object(settings.pipeline_user, run)
        store.put_object(forwarder, name, frame_to_parquet(parsed.frame), metadata=meta,
                         content_type="application/vnd.apache.parquet")
        written.append(name)
    return written
