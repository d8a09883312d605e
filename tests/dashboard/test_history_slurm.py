"""End to end on a real Slurm: jobs with known use → ``hpc-monitor collect`` → the history → the History page."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.services import history
from core.settings import load_settings
from core.store.local import LocalStore
from tests.core.test_cli import hpc_monitor
from tests.slurm_fixture import GroundTruth

pytestmark = pytest.mark.slurm
OpenPage = Callable[..., AppTest]


def test_collected_jobs_reach_the_history_and_the_page_with_their_truth(
        slurm_jobs: GroundTruth, store_dir: Path, open_page: OpenPage, tmp_path: Path) -> None:
    cluster = slurm_jobs.cluster
    assert time.timezone == 0, "sacct prints the machine's local time: these tests run in UTC"
    env = {"STORE": "local", "LOCAL_STORE_PATH": str(store_dir), "SACCT_TIMEZONE": "UTC",
           "SLURM_CONF": str(cluster.conf), "PATH": os.environ["PATH"]}
    since = time.strftime("%Y-%m-%d", time.localtime(time.time() - 86_400))
    first = hpc_monitor(["collect", "--since", since], env, tmp_path)  # the cluster's name from scontrol
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"Collected {cluster.cluster}: "), first.stdout
    again = hpc_monitor(["collect"], env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 new jobs, 0 updated, 0 months written" in again.stdout, again.stdout

    settings = load_settings(None, env)
    store = LocalStore(store_dir)
    months = history.list_months(store, settings)
    jobs = history.history_jobs(store, settings, months).set_index("job-id")
    missing = {t.name for t in slurm_jobs.jobs.values() if t.job_id not in jobs.index}
    # A job cancelled while held never became eligible (Eligible Unknown): sacct's time windows select by eligible
    # time and never print it, so a collection by windows misses it (the README says so). Every other job is there.
    assert missing == {"cancel-pending"}, missing
    for truth in slurm_jobs.jobs.values():
        if truth.name in missing:
            continue
        job = jobs.loc[truth.job_id]
        assert job["state"] == truth.state, truth.name
        assert job["alloc-cpus"] == truth.alloc_cpus or not truth.ran, truth.name
        assert job["req-mem-bytes"] == pytest.approx(truth.req_mem_bytes, rel=0.01), truth.name
        if truth.cpu_seconds is not None and truth.state == "COMPLETED" and truth.name != "steps":
            assert job["total-cpu-seconds"] == pytest.approx(truth.cpu_seconds, abs=0.5, rel=0.1), truth.name
        if truth.gpus:
            assert job["gpus"] == truth.gpus
    assert jobs.loc[slurm_jobs.jobs["cpu"].job_id, "cpu-efficiency"] == pytest.approx(
        slurm_jobs.jobs["cpu"].cpu_seconds / (jobs.loc[slurm_jobs.jobs["cpu"].job_id, "elapsed-seconds"] * 2),
        rel=0.1)

    stored = hpc_monitor(["jobs", "--stored", "--cluster", cluster.cluster, "--format", "json"], env, tmp_path)
    assert stored.returncode == 0, stored.stderr
    rows = {row["job_id"]: row for row in json.loads(stored.stdout)}
    cpu = slurm_jobs.jobs["cpu"]
    assert rows[cpu.job_id]["cpu_efficiency_percent"] == pytest.approx(
        100 * jobs.loc[cpu.job_id, "cpu-efficiency"], rel=1e-6)
    assert rows[slurm_jobs.jobs["exit3"].job_id]["state"] == slurm_jobs.jobs["exit3"].state

    at = open_page("views/history.py")
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert table["jobs"].sum() == len(jobs) == len(slurm_jobs.jobs) - 1
