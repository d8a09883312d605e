"""core.services.jobs: one job joined across Management, sacct and its logs (checked against the seff report)."""

from __future__ import annotations

import pandas as pd
import pytest

from core.demo import seed_demo
from core.errors import InvalidInput
from core.models import Job, Status
from core.serialize import dump_management
from core.services import jobs, management, runs, sacct
from core.settings import Settings
from core.store.local import LocalStore
from core.units import slurm_duration


@pytest.fixture()
def demo(store: LocalStore, settings: Settings) -> LocalStore:
    seed_demo(store, settings)
    return store


def _load(store: LocalStore, settings: Settings, key: jobs.JobKey) -> jobs.JobView:
    bucket = sacct.forwarder_bucket(settings)
    return jobs.load_job(store, settings, key, lambda ref: runs.load_described_run(store, bucket, ref.object)[0])


def test_a_demo_job_has_all_three_pieces_and_they_agree_with_its_seff_report(
    demo: LocalStore, settings: Settings
) -> None:
    view = _load(demo, settings, jobs.JobKey("3459879", platform="mahti", management_object="MANAGEMENT/1.json"))
    assert view.notes == []
    assert view.management is not None
    # Run 1 finished its store stage: its completed jobs are stored.
    assert (view.management.platform, view.management.phase) == ("mahti", "stored")
    assert view.management.script == "/users/mvirtane/ray-cluster.sh"
    assert [flag for flag, _ in view.management.flags] == [
        "start", "config", "submit", "pending", "running", "failed", "complete", "cancel", "stopped", "stored"]
    assert [flag for flag, on in view.management.flags if on] == [
        "start", "config", "submit", "pending", "running", "complete", "stored"]
    assert view.runs == ["user-example-com-mahti-2024-05"]
    assert view.rows["step"].fillna("").tolist() == ["", "batch", "extern", "0"]
    assert [(r.kind, r.object) for r in view.logs] == [
        ("output", "LOGS/slurm-3459879.out"), ("seff report", "LOGS/seff-3459879.txt")]
    # tests/data/logs/mahti_seff.txt (the real report): COMPLETED (exit code 0), 256 cores, CPU Utilized 00:04:56,
    # CPU Efficiency 0.37% of 21:58:24 core-walltime, wall-clock 00:05:09, Memory Efficiency 36.61% of 1.00 GB.
    text = jobs.seff_text("3459879", view.seff, "mahti") if view.seff else ""
    assert "State: COMPLETED (exit code 0:0)" in text
    assert "Cores: 256" in text and "CPU Utilized: 00:04:56" in text
    assert "CPU Efficiency: 0.37% of 21:58:24 core-walltime" in text
    assert "Job Wall-clock time: 00:05:09 of 00:10:00 limit" in text
    assert "Memory Efficiency: 36.61% of 1.00 GiB" in text
    # The advice (core.sacct.advice) on the same record: 1 of 256 cores busy, 374.88 MiB of 1 GiB used.
    assert view.findings["finding"].tolist() == ["idle cores", "memory over-requested"]
    assert view.findings["advice"].tolist() == ["--cpus-per-task=2 (busy cores + 20%)", "--mem=500M (peak + 20%)"]


def test_a_job_without_log_or_sacct_record_and_stale_names(demo: LocalStore, settings: Settings) -> None:
    # A job the submitter has just submitted: Management lists it, no sacct run or log holds it yet.
    bucket = management.submitter_bucket(settings)
    orchestration = management.load_orchestration(demo, bucket, "MANAGEMENT/3.json")
    orchestration.platforms["mahti"].jobs.append(Job(path="/users/mvirtane/sweep.sh", id="3499999",
                                                     status=Status(start=True, config=True, submit=True)))
    demo.put_object(bucket, "MANAGEMENT/4.json", dump_management(orchestration))
    view = _load(demo, settings, jobs.JobKey("3499999", run="gone-run", management_object="MANAGEMENT/9.json"))
    assert view.management is not None and view.management.phase == "submitted"
    assert view.runs == [] and view.seff is None and view.logs == []
    assert view.notes == [
        "Management object MANAGEMENT/9.json is not in mlch-sub-air-user-example-com; "
        "searched the newest ones instead.",
        "SACCT run gone-run is not stored; searched every stored run instead."]
    nowhere = _load(demo, settings, jobs.JobKey("3499999", platform="lumi"))
    assert nowhere.management is None  # that id is a Mahti job


def test_cancelled_job_rows_and_platform_lookup(demo: LocalStore, settings: Settings) -> None:
    bucket = management.submitter_bucket(settings)
    orchestration = management.load_orchestration(demo, bucket, "MANAGEMENT/2.json")
    entry = jobs.find_in_management([("MANAGEMENT/2.json", orchestration)], "3461753")
    assert entry is not None and (entry.platform, entry.phase) == ("mahti", "cancelled")
    view = _load(demo, settings, jobs.JobKey("3461753", run="user-example-com-mahti-2024-05"))
    assert view.rows["job-id"].tolist() == ["3461753"] * 5
    assert view.rows["step"].fillna("").tolist() == ["", "batch", "extern", "1", "2"]
    # Slurm ends the extern step COMPLETED even when the job is cancelled.
    assert view.rows["state"].tolist() == ["CANCELLED", "CANCELLED", "COMPLETED", "CANCELLED", "CANCELLED"]
    assert [(r.kind, r.object) for r in view.logs] == [
        ("output", "LOGS/slurm-3461753.out"), ("seff report", "LOGS/seff-3461753.txt")]


def test_sacct_rows_take_array_tasks_and_steps_of_the_job() -> None:
    frame = pd.DataFrame({"job-id": ["7_1", "7_1", "7_2", "8"], "step": ["", "batch", "", ""],
                          "parent-job-id": ["7", "7", "7", "8"]})
    assert jobs.sacct_rows(frame, "7")["job-id"].tolist() == ["7_1", "7_1", "7_2"]
    assert jobs.sacct_rows(frame, "7_2")["job-id"].tolist() == ["7_2"]
    assert jobs.sacct_rows(frame.iloc[0:0], "7").empty


@pytest.mark.parametrize("value", ["3459879", "123_4", "55+1", " 9 "])
def test_job_ids_from_a_url(value: str) -> None:
    assert jobs.parse_job_id(value) == value.strip()


@pytest.mark.parametrize(("value", "message"), [(None, "no job id given"), ("", "no job id given"),
                                                ("12;rm", "'12;rm' is not a Slurm job id"),
                                                ("[x](y)", "'[x](y)' is not a Slurm job id")])
def test_bad_job_ids_are_named(value: str | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")
                       .replace("]", r"\]").replace("+", r"\+")):
        jobs.parse_job_id(value)


def test_job_key_query_params_carry_only_what_is_set() -> None:
    assert jobs.JobKey("5").query_params() == {"job": "5"}
    assert jobs.JobKey("5", run="r", platform="lumi", management_object="MANAGEMENT/1.json").query_params() == {
        "job": "5", "run": "r", "platform": "lumi", "object": "MANAGEMENT/1.json"}


@pytest.mark.parametrize(("seconds", "text"), [(0, "00:00:00"), (309, "00:05:09"), (79104, "21:58:24"),
                                               (90061, "1-01:01:01"), (None, "—"), (float("nan"), "—")])
def test_slurm_duration(seconds: float | None, text: str) -> None:
    assert slurm_duration(seconds) == text
