"""The demo tells one pipeline's story: Management, TIMES, sacct records, logs and seff reports agree."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from core.billing import Rates, bill
from core.demo import (
    LOGS,
    MANAGEMENT_OBJECTS,
    RUN_CLUSTERS,
    SACCT_RUNS,
    TIMES_RUNS,
    demo_orchestration,
    seed_demo,
)
from core.demo_data import pipeline
from core.models import Orchestration
from core.sacct import job_metrics, parse_sacct
from core.serialize import load_management, parquet_to_frame
from core.settings import load_settings
from core.store.local import LocalStore
from tests import samples

#: Management phase → the sacct states it agrees with.
AGREES = {"complete": {"COMPLETED"}, "stored": {"COMPLETED"}, "cancelled": {"CANCELLED"},
          "failed": {"FAILED", "OUT_OF_MEMORY", "TIMEOUT", "NODE_FAIL"}, "running": {"RUNNING"},
          "pending": {"PENDING"}}
PIPE = "mlch-pipe-user-example-com"
SUB = "mlch-sub-air-user-example-com"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> LocalStore:
    root = tmp_path_factory.mktemp("demo") / "store"
    store = LocalStore(root)
    # A zone other than UTC: the stages and the jobs must stay on one axis whatever SACCT_TIMEZONE says.
    seed_demo(store, load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(root),
                                          "SACCT_TIMEZONE": "Europe/Helsinki"}))
    return store


def _frame(store: LocalStore, platform: str) -> pd.DataFrame:
    run = next(name for name, p in SACCT_RUNS.items() if p == platform)
    return parquet_to_frame(store.get_object("mlch-for-air", f"ARTIFACTS/SACCT/user-example-com-{run}.parquet")[1])


def _jobs(store: LocalStore, platform: str) -> pd.DataFrame:
    return job_metrics(_frame(store, platform)).set_index("job-id")


def _text(store: LocalStore, name: str) -> str:
    return store.get_object(PIPE, name)[1].decode()


def test_every_management_job_has_its_sacct_record_log_and_seff_report(seeded: LocalStore) -> None:
    checked = failures = 0
    listed: dict[str, set[str]] = {p: set() for p in pipeline.CLUSTERS}
    per_platform = {p: _jobs(seeded, p) for p in pipeline.CLUSTERS}  # each platform's jobs, read and measured once
    for run, name in MANAGEMENT_OBJECTS.items():
        orchestration = Orchestration.model_validate(load_management(seeded.get_object(SUB, name)[1]))
        assert orchestration == demo_orchestration(run)
        assert set(orchestration.platforms) == {"puhti", "mahti", "roihu", "lumi"}
        for platform, entry in orchestration.platforms.items():
            jobs = per_platform[platform]
            for job in entry.jobs:
                if job.id == "None":  # never submitted: nothing to match, and the phase says so
                    assert job.status.phase in {"new", "started", "configured"}
                    continue
                listed[platform].add(job.id)
                ids = [i for i in jobs.index if i == job.id or i.split("_")[0] == job.id]
                assert ids, (platform, job.id)
                states = set(jobs.loc[ids, "state"])
                # An array is failed in Management when one task failed.
                assert states & AGREES[job.status.phase], (job.id, job.status.phase, states)
                for job_id in ids:
                    state = jobs.loc[job_id, "state"]
                    if state != "PENDING":
                        assert _text(seeded, f"LOGS/slurm-{job_id}.out")
                    if state not in ("PENDING", "RUNNING"):
                        seff = _text(seeded, f"LOGS/seff-{job_id}.txt")
                        assert f"State: {state}" in seff and "()" not in seff
                        failures += state != "COMPLETED"
                checked += 1
    # Every job in the sacct runs is one Management lists: nothing stray, nothing missing.
    for platform in pipeline.CLUSTERS:
        assert {i.split("_")[0] for i in per_platform[platform].index} == listed[platform]
    assert checked == 21
    assert failures == 3  # the sweep's task 5, Roihu's out-of-memory job, Mahti's cancelled Ray cluster


def test_job_3459879_seff_report_is_the_real_one_with_the_projects_names(seeded: LocalStore) -> None:
    real = samples.log("mahti_seff.txt").read_text()
    assert "User/Group: ()/pepr_()" in real and "project_()" in real  # the anonymised original
    expected = real.replace("()", "mvirtane").replace("project_mvirtane", "project_2001234").rstrip("\n")
    assert _text(seeded, "LOGS/seff-3459879.txt").rstrip("\n") == expected
    job = _jobs(seeded, "mahti").loc["3459879"]
    assert job["state"] == "COMPLETED"
    cpu = float(re.search(r"CPU Efficiency: ([0-9.]+)%", real).group(1))  # type: ignore[union-attr]
    memory = float(re.search(r"Memory Efficiency: ([0-9.]+)%", real).group(1))  # type: ignore[union-attr]
    assert round(job["cpu-efficiency"] * 100, 2) == cpu == 0.37
    assert round(job["memory-efficiency"] * 100, 2) == memory == 36.61
    # The 8.58 BU seff reports is what the SACCT figures bill: 100 BU per node-hour on Mahti's medium partition.
    bu = bill(job.to_frame().T.reset_index(), pd.Series(["mahti"]), Rates())
    assert round(float(bu["billed"].iloc[0]), 2) == 8.58 and bu["billing-unit"].iloc[0] == "CSC CPU BU"
    assert "Batch job Complete" in _text(seeded, "LOGS/slurm-3459879.out")


def test_cpu_billing_in_seff_reports_equals_the_sacct_figures(seeded: LocalStore) -> None:
    compared = 0
    for platform in ("puhti", "mahti", "roihu"):
        jobs = _jobs(seeded, platform).reset_index()
        jobs["bu"] = bill(jobs, pd.Series(platform, index=jobs.index), Rates())["billed"]
        for _, job in jobs.iterrows():
            name = f"LOGS/seff-{job['job-id']}.txt"
            if name not in LOGS:
                continue
            seff = _text(seeded, name)
            match = re.search(r"Job consumed ([0-9.]+) CSC billing units", seff)
            if match:  # the CPU pool; GPU BU are a pool of their own
                assert round(float(job["bu"]), 2) == float(match.group(1)), job["job-id"]
                compared += 1
    assert compared == 6


def test_job_3461753_cancelled_by_the_pipelines_cancel_stage(seeded: LocalStore) -> None:
    mahti = {job.id: job.status.phase for job in demo_orchestration(2).platforms["mahti"].jobs}
    assert mahti["3461753"] == "cancelled"
    assert "JOB 3461753 ON c2201 CANCELLED AT 2024-05-25T12:52:04" in _text(seeded, "LOGS/slurm-3461753.out")
    rows = _frame(seeded, "mahti")
    rows = rows[rows["job-id"] == "3461753"]
    assert set(rows["step"].fillna("")) >= {"1", "2"}
    assert set(rows["state"]) == {"CANCELLED", "COMPLETED"}  # its extern step ends COMPLETED, as Slurm prints it
    end = pd.Timestamp("2024-05-25T12:52:04", tz="Europe/Helsinki").timestamp()
    assert rows["end-time"].max() == end
    cancel = parquet_to_frame(seeded.get_object(PIPE, "TIMES/run-2.parquet")[1]).loc["cancel"]
    assert cancel["begin"] <= end <= cancel["end"]


def test_jobs_of_each_run_lie_in_its_times_run_stage(seeded: LocalStore) -> None:
    for run, times in TIMES_RUNS.items():
        stages = parquet_to_frame(seeded.get_object(PIPE, f"TIMES/{times}.parquet")[1])
        begin, end = stages.loc["run", "begin"], stages.loc["run", "end"]
        for job in pipeline.jobs_of(run):
            jobs = _frame(seeded, job.platform)
            row = jobs[(jobs["job-id"] == job.job_id) & (jobs["step"].fillna("") == "")].iloc[0]
            assert row["submit-time"] >= begin, job.job_id
            if end:  # a finished run stage holds the jobs' ends too
                assert row["end-time"] <= end, job.job_id
            else:
                assert pd.isna(row["end-time"]) or job.state not in ("RUNNING", "PENDING")


def test_gpu_jobs_on_every_platform_as_sacct_prints_them() -> None:
    text = {p: pipeline.sacct_text(p) for p in pipeline.CLUSTERS}
    assert "gres/gpu:v100=4,gres/gpu=4" in text["puhti"]
    assert "gres/gpu:a100_1g.5gb=1,mem" in text["mahti"]  # the MIG slice: typed entry only
    assert "gres/gpu=4,mem" in text["roihu"]
    lumi = parse_sacct(text["lumi"]).frame
    partitions = set(lumi["partition"].dropna())
    assert {"small-g", "standard-g"} <= partitions
    assert lumi.loc[lumi["job-id"] == "7340012", "alloc-tres"].iloc[0].count("gres/gpu=16") == 1
    # Busy V100s record their use on the batch step, added up over a task's GPUs as Slurm does (4 × 87 %), and the
    # job's figure is per GPU again; MIG slices and LUMI's GPUs record none.
    assert "gres/gpuutil=348," in text["puhti"]
    busy = job_metrics(parse_sacct(text["puhti"]).frame).set_index("job-id").loc["21538102"]
    assert (busy["gpus"], busy["gpu-util"]) == (4, 87)
    assert "gpuutil" not in text["mahti"] and "gpuutil" not in text["lumi"]


def test_the_idle_gpu_is_a_recorded_zero_on_a_job_of_over_five_minutes() -> None:
    frame = parse_sacct(pipeline.sacct_text("puhti")).frame
    rows = frame[frame["job-id"] == "21538110"]
    job, batch = rows[rows["step"].fillna("") == ""].iloc[0], rows[rows["step"] == "batch"].iloc[0]
    assert "gres/gpu=1" in job["alloc-tres"] and job["elapsed-seconds"] >= 300
    assert "gres/gpuutil=0," in batch["tres-usage-in-max"] and "gres/gpumem=0," in batch["tres-usage-in-ave"]


def test_the_array_sweep_has_one_failed_task_with_its_traceback(seeded: LocalStore) -> None:
    jobs = _jobs(seeded, "mahti")
    tasks = jobs[[i.startswith("3462001_") for i in jobs.index]]
    assert len(tasks) == 8
    assert tasks["state"].value_counts().to_dict() == {"COMPLETED": 7, "FAILED": 1}
    frame = _frame(seeded, "mahti")
    failed = frame[(frame["job-id"] == "3462001_5") & (frame["step"].fillna("") == "")].iloc[0]
    assert failed["exit-code"] == "1:0"
    assert "CUDA out of memory" in _text(seeded, "LOGS/slurm-3462001_5.out")
    phases = {job.id: job.status.phase for job in demo_orchestration(1).platforms["mahti"].jobs}
    assert phases["3462001"] == "failed"


def test_demo_runs_record_their_platform_and_cluster(seeded: LocalStore) -> None:
    assert sorted(SACCT_RUNS.values()) == ["lumi", "mahti", "puhti", "roihu"]
    for run, platform in SACCT_RUNS.items():
        meta = seeded.head_object("mlch-for-air", f"ARTIFACTS/SACCT/user-example-com-{run}.parquet").custom
        assert meta["platform"] == platform and meta["cluster"] == RUN_CLUSTERS[run] == platform
        assert isinstance(meta["rows"], int) and meta["rows"] > 0
        assert set(_frame(seeded, platform)["cluster"]) == {platform}


def test_demo_seeding_is_idempotent_and_never_overwrites(tmp_path: Path) -> None:
    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(tmp_path / "store")})
    store = LocalStore(settings.local_store_path)
    first = seed_demo(store, settings)
    total = len(MANAGEMENT_OBJECTS) + len(TIMES_RUNS) + len(SACCT_RUNS) + len(LOGS) + 1  # and the allocation
    assert len(first.written) == total and first.skipped == 0
    assert "mlch-for-air/ARTIFACTS/BUDGET.json" in first.written
    name = "ARTIFACTS/SACCT/user-example-com-puhti-2024-05.parquet"
    store.put_object("mlch-for-air", name, b"the user's own version")
    again = seed_demo(store, settings)
    assert again.written == [] and again.skipped == total
    assert store.get_object("mlch-for-air", name)[1] == b"the user's own version"
    assert {b.name for b in store.list_buckets()} == {
        "mlch-for-air", "mlch-sub-air-user-example-com", "mlch-pipe-user-example-com", "mlch-exp-user-example-com"}
