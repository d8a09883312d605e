"""Overview: failed and out-of-memory jobs of the newest runs, full quotas, stuck pipelines, newest runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from core.demo import seed_demo
from core.serialize import dump_management, load_management
from core.services import overview
from core.settings import Settings
from core.store.local import LocalStore


def test_failed_jobs_put_out_of_memory_first_and_name_their_platform() -> None:
    jobs = pd.DataFrame({
        "run": ["a", "a", "b", "b"], "job-id": ["1", "2", "3", "4"], "job-name": ["x", "y", "z", "w"],
        "state": ["FAILED", "COMPLETED", "CANCELLED", "TIMEOUT"], "out-of-memory": [False, False, True, False],
        "elapsed-seconds": [1.0, 2.0, 3.0, 4.0], "end-time": [100.0, 200.0, 50.0, 300.0],
    })
    failed = overview.failed_jobs(jobs, {"a": "mahti", "b": "lumi"})
    # Job 3 was cancelled after a step ran out of memory: it counts, and comes first.
    assert failed["job-id"].tolist() == ["3", "4", "1"]
    assert failed["platform"].tolist() == ["lumi", "lumi", "mahti"]


def test_overview_of_the_demo_with_a_stale_object(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    later = datetime.now(UTC) + timedelta(hours=3)  # the object was written now: three hours later it is stale
    view = overview.build_overview(store, settings, later)
    assert view.problems == []
    # The four demo runs (one per cluster) are all searched: the rule the SACCT page opens on.
    assert view.runs_searched == 4 == len(view.newest_runs)
    assert view.newest_runs[0].name == "user-example-com-lumi-2024-05"
    # The pipeline's own failures, out of memory first; the cancelled Ray cluster is not a failure.
    assert view.failed_jobs[["job-id", "state", "platform"]].values.tolist() == [
        ["812360", "OUT_OF_MEMORY", "roihu"], ["3462001_5", "FAILED", "mahti"]]
    # Runs 1 and 2 have ended; run 3 (MANAGEMENT/3.json) has active jobs on every platform.
    assert len(view.stuck) == 1 and view.management_read == 3
    stuck = view.stuck[0]
    assert (stuck.object, stuck.name) == ("MANAGEMENT/3.json", "multi-cloud-hpc-integration")
    assert 179 < stuck.minutes < 181
    assert sorted(stuck.active_jobs["platform"].unique()) == ["lumi", "mahti", "puhti", "roihu"]
    assert view.quotas.empty  # no demo workspace is over 90 %
    assert overview.build_overview(store, settings, datetime.now(UTC)).stuck == []


def test_quotas_come_from_the_most_recently_changed_object(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    bucket = "mlch-sub-air-user-example-com"
    content = load_management(store.get_object(bucket, "MANAGEMENT/3.json")[1])
    content["platforms"]["lumi"]["properties"]["workspaces"][0].update(
        {"used-capacity": "21G", "max-capacity": "22G", "used-capacity-bytes": None, "max-capacity-bytes": None})
    store.put_object(bucket, "MANAGEMENT/4.json", dump_management(content))
    view = overview.build_overview(store, settings, datetime.now(UTC))
    assert view.quotas[["platform", "path", "project", "over"]].values.tolist() == [
        ["lumi", "/users/virtanem", "personal", "capacity"]]
    # The older objects changed minutes ago: they cannot hold a stuck pipeline, and only the newest one's quotas count.
    assert view.management_read == 1
    later = overview.build_overview(store, settings, datetime.now(UTC) + timedelta(hours=3))
    assert later.management_read == 4  # all stale: older objects are read for their stuck jobs
    assert [p.object for p in later.stuck] == ["MANAGEMENT/4.json", "MANAGEMENT/3.json"]


def test_an_unreadable_run_is_a_problem_line_not_a_failure(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    store.put_object("mlch-for-air", "ARTIFACTS/SACCT/broken.parquet", b"not parquet")
    view = overview.build_overview(store, settings, datetime.now(UTC))
    assert len(view.problems) == 1 and "broken" in view.problems[0]
    # The broken run is the newest of the five: the four demo runs are still searched and listed.
    assert view.newest_runs[0].name == "broken" and view.runs_searched == 4
