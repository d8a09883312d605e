"""The history: which state of a job wins, what counts as a change, the job table a merge writes, the page's read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench import generate
from core.errors import DamagedObject
from core.sacct import parse_sacct
from core.serialize import frame_to_parquet, parquet_to_frame
from core.services import history
from core.services.sacct import forwarder_bucket
from core.settings import Settings
from core.store.local import LocalStore

MARCH = pd.Timestamp("2026-03-01", tz="UTC").timestamp()


def month_of_jobs(rows: int, cluster: str = "c1", collected_at: float = 1.0) -> pd.DataFrame:
    """``rows`` generated sacct rows (jobs with their steps, arrays, pending and running jobs) in March 2026."""
    frame = parse_sacct(generate.parsable2(generate.rows(rows)).encode(), timezone="UTC").frame
    shift = MARCH - float(frame["submit-time"].min())
    for column in ("submit-time", "start-time", "end-time"):
        frame[column] = frame[column] + shift
    frame["submit-time"] = MARCH + (frame["submit-time"] - MARCH) % (20 * 86_400)
    prepared, unplaced = history.prepare_rows(frame, cluster=cluster, source="test", collected_at=collected_at)
    assert unplaced == 0 and set(prepared["month"]) == {"2026-03"}
    return prepared


def stored(store: LocalStore, settings: Settings, name: str) -> bytes:
    return store.get_object(forwarder_bucket(settings), history.partition_folder("c1", "2026-03") + name)[1]


def test_the_job_table_after_an_update_equals_the_one_computed_from_the_whole_month(
        store: LocalStore, settings: Settings) -> None:
    rows = month_of_jobs(3000)
    history.merge_into_history(store, settings, rows)
    ids = rows["job-id"].unique()
    later = rows[rows["job-id"].isin(set(ids[::7]))].copy()
    later["elapsed-seconds"] = later["elapsed-seconds"] + 60
    later["state"] = later["state"].where(later["state"] != "RUNNING", "COMPLETED")
    later[history.COLLECTED_AT] = 2.0
    arrived = month_of_jobs(3300).iloc[-200:]  # jobs the month did not hold yet
    arrived = arrived[~arrived["job-id"].isin(set(ids))].assign(**{history.COLLECTED_AT: 2.0})
    done = history.merge_into_history(store, settings, pd.concat([later, arrived], ignore_index=True))
    assert done.updated_jobs == len(ids[::7]) and done.new_jobs == arrived["job-id"].nunique() > 0
    month = parquet_to_frame(stored(store, settings, history.ROWS_OBJECT))
    whole = history.jobs_of_rows(month.assign(month="2026-03"))
    assert stored(store, settings, history.JOBS_OBJECT) == history.month_parquet(whole)
    jobs = parquet_to_frame(stored(store, settings, history.JOBS_OBJECT)).set_index("job-id")
    assert jobs.index.is_unique and len(jobs) == len(ids) + arrived["job-id"].nunique()
    first = ids[0]
    assert jobs.loc[first, "elapsed-seconds"] == pytest.approx(
        float(rows[(rows["job-id"] == first) & (rows["step"] == "")]["elapsed-seconds"].iloc[0]) + 60)


def test_merging_the_same_rows_again_leaves_both_objects_byte_equal(store: LocalStore, settings: Settings) -> None:
    rows = month_of_jobs(2000)
    history.merge_into_history(store, settings, rows)
    update = rows[rows["job-id"].isin(set(rows["job-id"].unique()[::5]))].assign(**{history.COLLECTED_AT: 3.0})
    update["total-cpu-seconds"] = update["total-cpu-seconds"] + 1
    history.merge_into_history(store, settings, update)
    before = {name: stored(store, settings, name) for name in (history.ROWS_OBJECT, history.JOBS_OBJECT)}
    again = history.merge_into_history(store, settings, update.assign(**{history.COLLECTED_AT: 4.0}))
    assert again.months_written == 0 and again.updated_jobs == 0 and again.new_jobs == 0
    assert {name: stored(store, settings, name) for name in before} == before


def test_the_same_values_in_another_representation_are_not_a_change() -> None:
    """A NaN computed by a parse (negative, another payload) and text held as Python objects equal what parquet
    gives back: collecting an unchanged job rewrites nothing."""
    rows = month_of_jobs(500)
    kept = parquet_to_frame(frame_to_parquet(rows))
    again = rows.assign(**{history.COLLECTED_AT: 5.0})
    with np.errstate(invalid="ignore"):
        computed_nan = np.array([0.0]) / np.array([0.0])  # -nan on x86: not np.nan's bit pattern
    assert computed_nan.view("u8")[0] != np.array([np.nan]).view("u8")[0]
    missing = again["max-rss"].isna().to_numpy()
    assert missing.any()
    values = again["max-rss"].to_numpy(copy=True)
    values[missing] = computed_nan[0]
    again["max-rss"] = values
    again["job-name"] = again["job-name"].astype("object")
    partition = again["partition"].astype("object")
    assert partition.isna().any()  # steps print no partition
    again["partition"] = partition.where(partition.notna(), None)
    merged = history.merge_month(kept, again)
    assert not merged.changed and len(merged.rows) == len(kept)
    changed = again.copy()
    changed.loc[changed.index[0], "job-name"] = "renamed"
    assert history.merge_month(kept, changed).updated_jobs == 1


def test_a_finished_state_replaces_a_running_one_and_never_the_other_way() -> None:
    base = pd.DataFrame({"cluster": ["c1", "c1", "c1"], "job-id": ["7", "7", "8"], "step": ["", "batch", ""],
                         "state": ["RUNNING", "RUNNING", "COMPLETED"], "submit-time": [MARCH + 10] * 3,
                         "elapsed-seconds": [60.0, 60.0, 10.0]})
    running, _ = history.prepare_rows(base, cluster=None, source="collect", collected_at=10.0)
    finished, _ = history.prepare_rows(base.assign(state="COMPLETED", **{"elapsed-seconds": 90.0}), cluster=None,
                                       source="collect", collected_at=5.0)
    ahead = history.merge_month(running, finished)
    # Job 7 finished: its finished rows win although collected earlier. Job 8 was finished on both sides: the
    # later collection (10.0, the stored one) stays.
    assert ahead.updated_jobs == 1 and not ahead.new_jobs
    by_job = ahead.rows.set_index(["job-id", "step"])
    assert by_job.loc[("7", ""), "state"] == "COMPLETED" and by_job.loc[("7", ""), "elapsed-seconds"] == 90
    assert by_job.loc[("8", ""), "elapsed-seconds"] == 10
    assert ahead.taken.tolist() == (ahead.rows["job-id"] == "7").tolist()
    behind = history.merge_month(finished, running)
    assert behind.updated_jobs == 1  # job 8 collected later; job 7 never goes back to running
    by_job = behind.rows.set_index(["job-id", "step"])
    assert by_job.loc[("7", "batch"), "state"] == "COMPLETED" and by_job.loc[("8", ""), "elapsed-seconds"] == 10


def test_several_pulls_keep_each_jobs_rows_from_the_last_pull_that_had_it() -> None:
    rows = month_of_jobs(300)
    ids = rows["job-id"].unique()
    first = rows[rows["job-id"].isin(set(ids[:20]))]
    second = rows[rows["job-id"].isin(set(ids[10:30]))].assign(state="COMPLETED")
    deduped = history.dedupe_pulls([first, second])
    assert set(deduped["job-id"]) == set(ids[:30])
    assert (deduped[deduped["job-id"].isin(set(ids[10:30]))]["state"] == "COMPLETED").all()
    assert len(deduped) == len(rows[rows["job-id"].isin(set(ids[:30]))])


def _store_jobs(store: LocalStore, settings: Settings, month: str, jobs: pd.DataFrame) -> None:
    store.put_object(forwarder_bucket(settings), history.partition_folder("c1", month) + history.JOBS_OBJECT,
                     frame_to_parquet(jobs.reset_index(drop=True)))


def test_the_page_reads_a_month_stored_before_a_column_existed_and_names_one_that_does_not_fit(
        store: LocalStore, settings: Settings) -> None:
    rows = month_of_jobs(400)
    jobs = history.jobs_of_rows(rows)
    new, old = jobs.iloc[: len(jobs) // 2], jobs.iloc[len(jobs) // 2:]
    _store_jobs(store, settings, "2026-03", new)
    _store_jobs(store, settings, "2026-02", old.drop(columns=["gpu-type", "nvme-gib", "failed"]))
    prepared = history.page_jobs(store, settings, history.list_months(store, settings))
    assert len(prepared) == len(jobs)
    # The old month's jobs have no "failed": not recorded counts as not failed, never as failed.
    assert prepared["_failed"].sum() == new["failed"].astype(bool).sum()
    table = history.summarize(prepared, "month", "platform")
    assert table["jobs"].sum() == len(jobs)
    damaged = old.assign(**{"elapsed-seconds": ["a long time"] * len(old)})
    _store_jobs(store, settings, "2026-02", damaged)
    with pytest.raises(DamagedObject) as info:
        history.page_jobs(store, settings, history.list_months(store, settings))
    assert "month=2026-0" in str(info.value) and "jobs.parquet" in str(info.value)


@pytest.mark.parametrize("spread", [400 * 86_400, 7e9], ids=["months", "centuries"])
def test_a_jobs_week_and_month_are_those_of_its_own_time_in_the_time_zone(spread: float) -> None:
    rng = np.random.default_rng(11)
    change = pd.Timestamp("2026-03-29 01:00", tz="UTC").timestamp()  # Helsinki moves from +2 to +3 then
    start = change - spread / 2 + rng.uniform(0, spread, 3_000)
    start[:4] = [change - 1, change, change + 899, pd.Timestamp("2026-03-31 21:00", tz="UTC").timestamp()]
    start[4:6] = np.nan
    submit = start - 60
    submit[5] = np.nan
    jobs = pd.DataFrame({"start-time": start, "submit-time": submit})
    when = np.where(np.isnan(start), submit, start)
    local = pd.to_datetime(pd.Series(when), unit="s", utc=True).dt.tz_convert("Europe/Helsinki")
    day = local.dt.tz_localize(None).dt.normalize()
    week = (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.date
    month = day.dt.to_period("M").dt.start_time.dt.date
    assert history.periods(jobs, "week", "Europe/Helsinki").tolist() == week.tolist()
    assert history.periods(jobs, "month", "Europe/Helsinki").tolist() == month.tolist()
    assert history.periods(jobs, "month", "Europe/Helsinki")[3] == pd.Timestamp("2026-04-01").date()


def test_the_page_table_is_the_same_whether_months_are_prepared_one_at_a_time_or_all_together(
        store: LocalStore, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = history.jobs_of_rows(month_of_jobs(600)).assign(account="project_2001234")
    for at, month in enumerate(("2026-01", "2026-02", "2026-03")):
        part = jobs.iloc[at::3]
        _store_jobs(store, settings, month, part if at else part.drop(columns=["gpu-type", "account"]))
    months = history.list_months(store, settings)
    monkeypatch.setattr(history, "PART_BYTES", 1)  # each month its own part
    apart = history.page_jobs(store, settings, months)
    monkeypatch.setattr(history, "PART_BYTES", 2**40)  # all months one part
    together = history.page_jobs(store, settings, months)
    pd.testing.assert_frame_equal(apart, together)
    assert len(apart) == len(jobs) and (apart["account"] == history.NONE).sum() == len(jobs.iloc[0::3])
