"""``collect``: sacct pulled window by window into the history, against a fake sacct on PATH that logs its calls."""

from __future__ import annotations

import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from core.errors import Forbidden
from core.services import collect, history, upload
from core.services.sacct import forwarder_bucket
from core.settings import Settings
from core.store.local import LocalStore
from tests.fake_slurm import FakeSlurm, Job


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.fixture()
def slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSlurm:
    fake = FakeSlurm(tmp_path / "slurm")
    monkeypatch.setenv("PATH", fake.path("/usr/bin:/bin"))
    return fake


def three_months(slurm: FakeSlurm) -> None:
    """Jobs from late January to early March 2026: finished, failed, one still running, one pending."""
    jobs = []
    for n in range(10):
        submit = at("2026-01-25T08:00:00") + n * 4 * 86_400
        day = n
        jobs.append(Job(str(1000 + day), submit, submit + 300, submit + 300 + 3600, "COMPLETED",
                        cpu_seconds=3600 * 1.5))
        jobs.append(Job(str(2000 + day), submit + 7200, submit + 7260, submit + 7260 + 600, "FAILED",
                        exit_code="1:0", cpu_seconds=60, name="prep"))
    jobs.append(Job("3000", at("2026-03-05T10:00:00"), at("2026-03-05T10:01:00"), None, "RUNNING"))
    jobs.append(Job("3001", at("2026-03-05T11:00:00"), None, None, "PENDING"))
    slurm.record(*jobs)


def stored_jobs(store: LocalStore, settings: Settings) -> pd.DataFrame:
    months = history.list_months(store, settings)
    return history.history_jobs(store, settings, months)


def stored_rows(store: LocalStore, settings: Settings) -> pd.DataFrame:
    frames = [history.read_month_rows(store, settings, m.cluster, m.month)
              for m in history.list_months(store, settings)]
    return pd.concat(frames, ignore_index=True)


def options(**kw: object) -> collect.CollectOptions:
    return collect.CollectOptions(cluster="testcluster", **kw)  # type: ignore[arg-type]


def test_a_first_pull_makes_one_sacct_call_per_window_and_stores_each_job_once_in_its_month(
        slurm: FakeSlurm, store: LocalStore, settings: Settings) -> None:
    three_months(slurm)
    report = collect.collect(store, settings, options(since=at("2026-01-20T00:00:00"), window_seconds=4 * 86_400),
                             now=at("2026-03-06T00:00:00"))
    calls = slurm.calls()
    assert report.sacct_calls == len(calls) == report.windows == 12  # 45 days in windows of 4
    starts = [c[c.index("--starttime") + 1] for c in calls]
    assert starts[0] == "2026-01-20T00:00:00" and starts[1] == "2026-01-24T00:00:00"
    assert all("--parsable2" in c and "--clusters" in c for c in calls)
    months = history.list_months(store, settings)
    assert [(m.cluster, m.month) for m in months] == [("testcluster", "2026-01"), ("testcluster", "2026-02"),
                                                      ("testcluster", "2026-03")]
    jobs = stored_jobs(store, settings)
    assert len(jobs) == 22 and jobs["job-id"].is_unique
    rows = stored_rows(store, settings)
    # Every row once: 20 finished jobs with a batch step, a running one with its step, a pending one alone.
    assert len(rows) == 20 * 2 + 2 + 1
    assert not rows.duplicated(["job-id", "step"]).any()
    one = jobs.set_index("job-id").loc["1000"]
    assert one["month"] == "2026-01" and one["cpu-efficiency"] == pytest.approx(0.75)
    assert one["core-seconds"] == 7200 and one["queue-wait-seconds"] == 300
    assert jobs.set_index("job-id").loc["2000", "failed"]
    assert report.unfinished == 2 and report.until == at("2026-03-06T00:00:00")


def test_running_it_again_stores_nothing_new_and_pulls_only_the_overlap_and_the_unfinished_jobs(
        slurm: FakeSlurm, store: LocalStore, settings: Settings) -> None:
    three_months(slurm)
    collect.collect(store, settings, options(since=at("2026-02-20T00:00:00")), now=at("2026-03-06T00:00:00"))
    before = {o.name: o.hash for o in store.iter_objects(forwarder_bucket(settings), prefix=history.HISTORY_PREFIX)}
    slurm.reset_calls()
    again = collect.collect(store, settings, options(), now=at("2026-03-06T00:30:00"))
    after = {o.name: o.hash for o in store.iter_objects(forwarder_bucket(settings), prefix=history.HISTORY_PREFIX)}
    assert after == before and again.merged.months_written == 0 and again.merged.new_jobs == 0
    calls = slurm.calls()
    by_ids = [c for c in calls if "--jobs" in c]
    assert len(by_ids) == 1 and set(by_ids[0][by_ids[0].index("--jobs") + 1].split(",")) == {"3000", "3001"}
    windowed = [c for c in calls if "--starttime" in c]
    assert len(windowed) == 1
    assert windowed[0][windowed[0].index("--starttime") + 1] == "2026-03-05T23:00:00"  # an hour of overlap


def test_a_job_that_finished_since_replaces_its_running_state_and_leaves_the_unfinished_list(
        slurm: FakeSlurm, store: LocalStore, settings: Settings) -> None:
    three_months(slurm)
    collect.collect(store, settings, options(since=at("2026-03-01T00:00:00")), now=at("2026-03-06T00:00:00"))
    # Job 3000 ends days later, far outside the overlap: only the pull by id sees it.
    slurm.record(Job("3000", at("2026-03-05T10:00:00"), at("2026-03-05T10:01:00"), at("2026-03-05T12:01:00"),
                     "TIMEOUT", cpu_seconds=7200))
    report = collect.collect(store, settings, options(since=at("2026-03-09T00:00:00")),
                             now=at("2026-03-10T00:00:00"))
    assert report.merged.updated_jobs == 1 and report.unfinished == 1
    jobs = stored_jobs(store, settings).set_index("job-id")
    assert jobs.loc["3000", "state"] == "TIMEOUT" and jobs.loc["3000", "cpu-efficiency"] == pytest.approx(0.5)
    rows = stored_rows(store, settings)
    assert (rows["job-id"] == "3000").sum() == 2 and len(rows[rows["job-id"] == "3000"].drop_duplicates("step")) == 2
    state = collect.read_state(store, settings, options())
    assert state.unfinished == ["3001"]


def test_an_older_running_state_never_replaces_a_finished_job(store: LocalStore, settings: Settings) -> None:
    slurm_frame = pd.DataFrame({"cluster": ["c1"], "job-id": ["5"], "step": [""], "state": ["COMPLETED"],
                                "submit-time": [at("2026-02-01T00:00:00")]})
    running = slurm_frame.assign(state="RUNNING")
    done, _ = history.prepare_rows(slurm_frame, cluster=None, source="collect", collected_at=100.0)
    late, _ = history.prepare_rows(running, cluster=None, source="upload:old", collected_at=200.0)
    merged = history.merge_month(done, late)
    assert not merged.changed and merged.rows["state"].tolist() == ["COMPLETED"]
    newer = history.merge_month(late, done)
    assert newer.updated_jobs == 1 and newer.rows["state"].tolist() == ["COMPLETED"]


def test_windows_are_bounded_by_the_window_size(slurm: FakeSlurm, store: LocalStore, settings: Settings) -> None:
    three_months(slurm)
    report = collect.collect(store, settings, options(since=at("2025-03-06T00:00:00"), window_seconds=30 * 86_400),
                             now=at("2026-03-06T00:00:00"))
    assert report.sacct_calls == 13  # a year in windows of 30 days: ceil(365 / 30)
    lengths = Counter(round((datetime.fromisoformat(c[c.index("--endtime") + 1])
                             - datetime.fromisoformat(c[c.index("--starttime") + 1])).total_seconds() / 86_400)
                      for c in slurm.calls())
    assert max(lengths) == 30 and len(stored_jobs(store, settings)) == 22


def test_filters_reach_sacct_and_keep_their_own_watermark(slurm: FakeSlurm, store: LocalStore,
                                                           settings: Settings) -> None:
    three_months(slurm)
    collect.collect(store, settings, options(accounts=("project_2001",), users=("alice", "bob"),
                                             since=at("2026-03-05T00:00:00")), now=at("2026-03-06T00:00:00"))
    call = slurm.calls()[0]
    assert call[call.index("--accounts") + 1] == "project_2001" and call[call.index("--user") + 1] == "alice,bob"
    assert "--allusers" not in call
    names = {o.name for o in store.iter_objects(forwarder_bucket(settings), prefix=collect.STATE_PREFIX)}
    assert names == {"ARTIFACTS/SACCT/collect/testcluster@account=project_2001,user=alice+bob.json"}


def test_sacct_missing_and_slurmdbd_down_are_one_sentence_and_store_nothing(
        slurm: FakeSlurm, store: LocalStore, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    three_months(slurm)
    slurm.dbd_down()
    with pytest.raises(collect.SacctFailed, match=r"^slurmdbd is not reachable \(sacct said: sacct: error: "):
        collect.collect(store, settings, options(), now=at("2026-03-06T00:00:00"))
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(collect.SacctFailed, match=r"^sacct was not found on PATH"):
        collect.collect(store, settings, options(), now=at("2026-03-06T00:00:00"))
    assert store.list_buckets() == []


def test_storage_refusing_fails_before_sacct_is_called(slurm: FakeSlurm, store: LocalStore, settings: Settings,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    three_months(slurm)

    def refuse(*_a: object, **_k: object) -> None:
        raise Forbidden(bucket=forwarder_bucket(settings))

    monkeypatch.setattr(store, "get_object", refuse)
    with pytest.raises(Forbidden):
        collect.collect(store, settings, options(), now=at("2026-03-06T00:00:00"))
    assert slurm.calls() == []


def test_an_upload_goes_into_the_same_history_and_collecting_the_same_jobs_adds_nothing(
        slurm: FakeSlurm, store: LocalStore, settings: Settings) -> None:
    three_months(slurm)
    text = subprocess.run([str(slurm.bin / "sacct"), "--parsable2", "--starttime", "2026-01-01T00:00:00",
                           "--endtime", "2026-04-01T00:00:00"], capture_output=True, check=True).stdout
    saved = upload.store_run(store, settings, "winter", upload.parse_upload(text, settings))
    assert saved.merged is not None and saved.merged.new_jobs == 22 and saved.merged.months_written == 3
    assert saved.history_text() == "History: 22 new jobs, 0 updated, 3 months written."
    rows = stored_rows(store, settings)
    assert set(rows["source"]) == {"upload:winter"}
    report = collect.collect(store, settings, options(since=at("2026-01-20T00:00:00"), window_seconds=30 * 86_400),
                             now=at("2026-03-06T00:00:00"))
    assert report.merged.new_jobs == 0 and report.merged.updated_jobs == 0 and report.merged.months_written == 0
    # Rows without any time (sacct -o JobID,State) cannot be placed in a month: counted, not kept.
    bare = upload.store_run(store, settings, "bare", upload.parse_upload(b"JobID|State\n7|COMPLETED\n", settings),
                            platform="mahti")
    assert bare.merged is not None and bare.merged.unplaced_rows == 1 and bare.merged.new_jobs == 0


def test_stored_jobs_of_a_cluster_from_a_date_read_only_the_months_that_can_hold_them(
        slurm: FakeSlurm, store: LocalStore, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    three_months(slurm)
    collect.collect(store, settings, options(since=at("2026-01-20T00:00:00"), window_seconds=30 * 86_400),
                    now=at("2026-03-06T00:00:00"))
    read: list[str] = []
    get = store.get_object

    def counted(bucket: str, name: str) -> object:
        read.append(name)
        return get(bucket, name)

    monkeypatch.setattr(store, "get_object", counted)
    jobs = history.stored_jobs(store, settings, cluster="testcluster", since=at("2026-03-01T00:00:00"))
    assert jobs["job-id"].tolist() == ["1009", "2009", "3000", "3001"]  # by Submit: 2 March, then 5 March
    assert {n.split("/")[4] for n in read} == {"month=2026-02", "month=2026-03"}
    assert history.stored_jobs(store, settings, cluster="elsewhere").empty
    assert len(history.stored_jobs(store, settings)) == 22
