"""The demo data tells one story: Management status, seff report, log and sacct record of a job agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.demo import LOGS, RUN_CLUSTERS, SACCT_RUNS, demo_orchestration, seed_demo
from core.sacct import job_metrics
from core.serialize import parquet_to_frame
from core.settings import load_settings
from core.store.local import LocalStore

#: Management phase → the sacct states it agrees with.
AGREES = {"complete": {"COMPLETED"}, "stored": {"COMPLETED"}, "cancelled": {"CANCELLED"},
          "failed": {"FAILED", "OUT_OF_MEMORY", "TIMEOUT", "NODE_FAIL"}, "running": {"RUNNING"},
          "pending": {"PENDING"}}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> LocalStore:
    root = tmp_path_factory.mktemp("demo") / "store"
    store = LocalStore(root)
    seed_demo(store, load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(root)}))
    return store


def _mahti_jobs(store: LocalStore) -> dict[str, str]:
    frame = parquet_to_frame(store.get_object("mlch-for-air", "ARTIFACTS/SACCT/user-example-com-mahti-ray.parquet")[1])
    jobs = job_metrics(frame)
    return dict(zip(jobs["job-id"].astype(str), jobs["state"].astype(str), strict=True))


def test_every_demo_job_with_a_sacct_record_has_the_same_outcome_in_management(seeded: LocalStore) -> None:
    sacct_state = _mahti_jobs(seeded)
    checked = 0
    for name, platform in demo_orchestration().platforms.items():
        for job in platform.jobs:
            if job.id in sacct_state:
                assert name == "mahti"
                assert sacct_state[job.id] in AGREES[job.status.phase], (job.id, job.status.phase)
                checked += 1
    assert checked == 2  # 3459879 and 3461753


def test_job_3459879_completed_in_management_seff_log_and_sacct(seeded: LocalStore) -> None:
    mahti = {job.id: job.status.phase for job in demo_orchestration().platforms["mahti"].jobs}
    assert mahti["3459879"] == "complete"
    seff = seeded.get_object("mlch-pipe-user-example-com", "LOGS/seff-3459879.txt")[1].decode()
    assert "State: COMPLETED" in seff
    log = seeded.get_object("mlch-pipe-user-example-com", "LOGS/slurm-3459879.out")[1].decode()
    assert "Batch job Complete" in log and "CANCELLED" not in log
    frame = parquet_to_frame(seeded.get_object("mlch-for-air",
                                               "ARTIFACTS/SACCT/user-example-com-mahti-ray.parquet")[1])
    job = job_metrics(frame).set_index("job-id").loc["3459879"]
    assert job["state"] == "COMPLETED"
    # seff's own figures for the job: "CPU Efficiency: 0.37%", "Memory Efficiency: 36.61% of 1.00 GB".
    cpu = float(re.search(r"CPU Efficiency: ([0-9.]+)%", seff).group(1))  # type: ignore[union-attr]
    memory = float(re.search(r"Memory Efficiency: ([0-9.]+)%", seff).group(1))  # type: ignore[union-attr]
    assert round(job["cpu-efficiency"] * 100, 2) == cpu
    assert round(job["memory-efficiency"] * 100, 2) == memory


def test_job_3461753_cancelled_in_management_log_and_sacct(seeded: LocalStore) -> None:
    mahti = {job.id: job.status.phase for job in demo_orchestration().platforms["mahti"].jobs}
    assert mahti["3461753"] == "cancelled"
    log = seeded.get_object("mlch-pipe-user-example-com", "LOGS/slurm-3461753.out")[1].decode()
    assert "JOB 3461753 ON c2201 CANCELLED AT 2024-05-25T12:52:04" in log
    assert _mahti_jobs(seeded)["3461753"] == "CANCELLED"


def test_demo_runs_record_their_platform_and_cluster(seeded: LocalStore) -> None:
    for run in SACCT_RUNS:
        meta = seeded.head_object("mlch-for-air", f"ARTIFACTS/SACCT/user-example-com-{run}.parquet").custom
        assert meta["platform"] == ("mahti" if run == "mahti-ray" else "other")
        assert meta.get("cluster") == RUN_CLUSTERS[run]
        assert isinstance(meta["rows"], int) and meta["rows"] > 0
    assert set(LOGS) >= {"LOGS/slurm-3459879.out", "LOGS/seff-3459879.txt"}


def test_demo_seeding_is_idempotent_and_never_overwrites(tmp_path: Path) -> None:
    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(tmp_path / "store")})
    store = LocalStore(settings.local_store_path)
    first = seed_demo(store, settings)
    assert len(first.written) == 15 and first.skipped == 0
    name = "ARTIFACTS/SACCT/user-example-com-hyak-default.parquet"
    store.put_object("mlch-for-air", name, b"the user's own version")
    again = seed_demo(store, settings)
    assert again.written == [] and again.skipped == 15
    assert store.get_object("mlch-for-air", name)[1] == b"the user's own version"
    assert {b.name for b in store.list_buckets()} == {
        "mlch-for-air", "mlch-sub-air-user-example-com", "mlch-pipe-user-example-com", "mlch-exp-user-example-com"}
