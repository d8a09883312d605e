"""Demo data for the embedded local store: one project's pipeline on Puhti, Mahti, Roihu and LUMI.

Everything comes from the job list of :mod:`core.demo_data.pipeline`: three Management objects (one per pipeline
run), their TIMES runs, one SACCT run per cluster (sacct text parsed by the parser the Upload page uses), and each
job's ``.out`` log and seff report. ``seed_demo`` writes only the objects that are missing, so it is safe on every
start and never overwrites what a user stored.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import resources

import pandas as pd

from core.demo_data import pipeline
from core.errors import NotFound
from core.models import Configs, Files, Job, Orchestration, Platform, Properties, Status, Venv
from core.naming import bucket_name, budget_object, log_object, management_object, sacct_run_object, times_object
from core.sacct import parse_sacct
from core.serialize import dump_management, frame_to_parquet
from core.settings import Settings
from core.store.base import MetaValue, ObjectStore
from core.workspaces import parse_workspaces

log = logging.getLogger(__name__)

#: The demo project's allocation per billing pool (ARTIFACTS/BUDGET.json).
DEMO_ALLOCATIONS: dict[str, float] = {"CSC CPU BU": 2000, "CSC GPU BU": 5000, "LUMI core-hours": 1000,
                                      "LUMI GPU-hours": 100}
#: SACCT demo runs: run name → platform; each is what ``sacct -P`` printed on that cluster for the demo project.
SACCT_RUNS: dict[str, str] = {name: platform for platform, name in pipeline.SACCT_RUN_NAMES.items()}
#: The cluster each demo run comes from (sacct's Cluster field).
RUN_CLUSTERS: dict[str, str] = {name: pipeline.CLUSTERS[platform] for name, platform in SACCT_RUNS.items()}
#: The Management object of each pipeline run.
MANAGEMENT_OBJECTS: dict[int, str] = {run: management_object(f"{run}.json") for run in pipeline.pipeline_runs()}
#: The TIMES run of each pipeline run.
TIMES_RUNS: dict[int, str] = {run: f"run-{run}" for run in pipeline.pipeline_runs()}


def _sample(name: str) -> bytes:
    return resources.files("core.demo_data").joinpath(name).read_bytes()


def demo_logs() -> dict[str, bytes]:
    """Every demo log object (``LOGS/slurm-<id>.out``, ``LOGS/seff-<id>.txt``) and its text."""
    logs: dict[str, bytes] = {}
    for job in pipeline.JOBS:
        real = pipeline.REAL_LOGS.get(job.job_id)
        text = _sample(real).decode("utf-8") if real else pipeline.log_text(job)
        if text is not None:
            logs[log_object(pipeline.log_name(job))] = text.encode("utf-8")
        seff = pipeline.seff_text(job)
        if seff is not None:
            logs[log_object(f"seff-{job.job_id}.txt")] = seff.encode("utf-8")
    return logs


def _workspaces(platform: str) -> str | None:
    """The platform's ``csc-workspaces`` listing (a real one, its anonymised names made the demo project's)."""
    sample = resources.files("core.demo_data").joinpath(f"workspaces_{platform}.txt")
    if not sample.is_file():
        return None
    project = pipeline.LUMI_PROJECT if platform == "lumi" else pipeline.CSC_PROJECT
    user = pipeline.LUMI_USER if platform == "lumi" else pipeline.CSC_USER
    text = sample.read_text(encoding="utf-8").replace("project_csc", project)
    return text.replace("/users/csc", f"/users/{user}").replace("Quota for user csc", f"Quota for user {user}")


#: Demo log objects (the names; :func:`demo_logs` gives their text).
LOGS: tuple[str, ...] = tuple(demo_logs())

#: The Management flags each final sacct state leaves a job with.
_FLOW = ("start", "config", "submit")
_FLAGS_OF_STATE: dict[str, tuple[str, ...]] = {
    "PENDING": (*_FLOW, "pending"),
    "RUNNING": (*_FLOW, "pending", "running"),
    "COMPLETED": (*_FLOW, "pending", "running", "complete"),
    "CANCELLED": (*_FLOW, "pending", "running", "cancel"),
    "FAILED": (*_FLOW, "pending", "running", "failed"),
    "OUT_OF_MEMORY": (*_FLOW, "pending", "running", "failed"),
    "TIMEOUT": (*_FLOW, "pending", "running", "failed"),
}


def _status(*flags: str) -> Status:
    return Status.model_validate(dict.fromkeys(flags, True))


def _management_jobs(run: int, platform: str) -> list[Job]:
    """The jobs Management lists for ``platform`` in pipeline run ``run``: one per Slurm job (an array once)."""
    stored = "store" in pipeline.STAGES[run]
    jobs: list[Job] = []
    tasks: dict[str, list[pipeline.DemoJob]] = {}
    for job in pipeline.jobs_of(run, platform):
        tasks.setdefault(job.base_id, []).append(job)
    for job_id, members in tasks.items():
        states = {m.state for m in members}
        # An array is failed when a task failed, still running while a task runs.
        state = next((s for s in ("FAILED", "OUT_OF_MEMORY", "TIMEOUT", "CANCELLED", "RUNNING", "PENDING")
                      if s in states), "COMPLETED")
        flags = _FLAGS_OF_STATE[state] + (("stored",) if stored and state == "COMPLETED" else ())
        jobs.append(Job(path=members[0].script, id=job_id, status=_status(*flags)))
    for unsubmitted_run, name, path, flags in pipeline.UNSUBMITTED:
        if unsubmitted_run == run and name == platform:
            jobs.append(Job(path=path, id="None", status=_status(*flags)))
    return jobs


def demo_orchestration(run: int = 1) -> Orchestration:
    """The Management object of pipeline run ``run`` of the demo (1, 2 or 3)."""
    user = {p: (pipeline.LUMI_USER if p == "lumi" else pipeline.CSC_USER) for p in pipeline.CLUSTERS}
    platforms: dict[str, Platform] = {}
    for name in pipeline.CLUSTERS:
        home = f"/users/{user[name]}"
        venv = Venv(name="exp-venv", path=home, modules=["pytorch"],
                    packages=["ray", "python-swiftclient", "torch", "torchmetrics"])
        workspaces = parse_workspaces(listing).workspaces if (listing := _workspaces(name)) else []
        files = Files.model_validate({
            "send": [
                {"transfer": {"source": {"place": "local/submitter", "path": "/run/secrets/parameters",
                                         "value": "integration/cloud-hpc/key"},
                              "target": {"place": f"hpc/{name}", "path": f"{home}/cloud-hpc.pem", "value": "None"}},
                 "overwrite": False},
                {"transfer": {"source": {"place": "storage/allas/pipeline", "path": "/CODE/SLURM/ray-cluster.sh",
                                         "value": "None"},
                              "target": {"place": f"hpc/{name}", "path": f"{home}/ray-cluster.sh", "value": "None"}},
                 "overwrite": True},
            ],
            "get": [
                {"transfer": {"source": {"place": f"hpc/{name}", "path": f"{home}/slurm-{{0}}.out", "value": "None"},
                              "target": {"place": "storage/allas/pipeline", "path": "LOGS/{0}", "value": "None"}},
                 "remove": False},
            ],
        })
        platforms[name] = Platform(
            properties=Properties(directory=home, languages=[{"name": "Python", "version": "3.6.8"}],
                                  workspaces=workspaces),
            configs=Configs(modules=["gcc", "openmpi", "openblas", "csc-tools", "StdEnv"], venv=venv),
            files=files,
            jobs=_management_jobs(run, name),
        )
    return Orchestration(name="multi-cloud-hpc-integration", platforms=platforms)


def demo_times(timezone: str = "UTC") -> dict[str, pd.DataFrame]:
    """Stage timings of the pipeline runs (the seed's Times frame: stages as index; begin, end, total).

    The stages are the clusters' local times read in ``timezone`` (the store's ``SACCT_TIMEZONE``), as the jobs'
    sacct times are, so both lie on one axis. A stage under way has its begin and an end of 0.
    """
    runs: dict[str, pd.DataFrame] = {}
    for run in pipeline.pipeline_runs():
        rows: dict[str, dict[str, float]] = {}
        for stage, (begin, end) in pipeline.STAGES[run].items():
            b, e = pipeline.epoch(begin, timezone), pipeline.epoch(end, timezone)
            rows[stage] = {"begin": b, "end": e, "total": e - b}
        if run in pipeline.OPEN_STAGES:
            stage, begin = pipeline.OPEN_STAGES[run]
            rows[stage] = {"begin": pipeline.epoch(begin, timezone), "end": 0.0, "total": 0.0}
        order = ("start", "config", "run", "cancel", "store")
        frame = pd.DataFrame.from_dict({s: rows[s] for s in order if s in rows}, orient="index")
        runs[TIMES_RUNS[run]] = frame.rename_axis("stage")
    return runs


@dataclass(frozen=True)
class SeedReport:
    """What a seeding wrote."""

    written: list[str]
    skipped: int


def seed_new_store(store: ObjectStore, settings: Settings) -> SeedReport:
    """Seed the demo into a store that holds no bucket yet; leave a store in use as it is.

    A demo object the user deleted stays deleted: only a new (empty) embedded store gets the demo.
    """
    if store.list_buckets():
        return SeedReport([], 0)
    return seed_demo(store, settings)


def seed_demo(store: ObjectStore, settings: Settings) -> SeedReport:
    """Write the demo objects that are missing; leave every existing object alone."""
    user = settings.pipeline_user
    forwarder = bucket_name("forwarder", settings.bucket_prefix, user)
    submitter = bucket_name("submitter", settings.bucket_prefix, user)
    pipeline_bucket = bucket_name("pipeline", settings.bucket_prefix, user)
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

    for number, name in MANAGEMENT_OBJECTS.items():
        put(submitter, name, lambda n=number: dump_management(demo_orchestration(n)), "application/json")
    for times_run, frame in demo_times(settings.sacct_timezone).items():
        put(pipeline_bucket, times_object(times_run), lambda f=frame: frame_to_parquet(f),
            "application/vnd.apache.parquet")
    for run, platform in SACCT_RUNS.items():
        meta: dict[str, MetaValue] = {"source": f"sacct -P on {RUN_CLUSTERS[run]}", "platform": platform,
                                      "cluster": RUN_CLUSTERS[run]}

        def build(platform: str = platform, meta: dict[str, MetaValue] = meta) -> bytes:
            parsed = parse_sacct(pipeline.sacct_text(platform), timezone=settings.sacct_timezone)
            meta.update(format=parsed.format, rows=len(parsed.frame))  # what an upload records too
            return frame_to_parquet(parsed.frame)

        put(forwarder, sacct_run_object(user, run), build, "application/vnd.apache.parquet", meta)
    # The demo project's allocation per pool, so the Overview shows the budget on first run.
    put(forwarder, budget_object(), json.dumps(DEMO_ALLOCATIONS, indent=1).encode(), "application/json")
    for name, text in demo_logs().items():
        put(pipeline_bucket, name, text, "text/plain; charset=utf-8")
    if written:
        log.info("demo data: wrote %d objects, %d were already there", len(written), skipped)
    return SeedReport(written, skipped)
