"""The History page (AppTest): the history dataset per month or week and group, from the URL, and into SACCT."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.services import collect, history
from core.services import sacct as sacct_service
from core.services import session as session_service
from core.services.objects import read_frame
from core.settings import load_settings
from core.store.local import LocalStore
from stack.counting import Calls, CountingStore
from tests.dashboard.conftest import shown as unescaped
from tests.dashboard.conftest import texts
from tests.fake_slurm import FakeSlurm, Job

OpenPage = Callable[..., AppTest]


def _values(array: Any) -> list[Any]:
    """A Plotly array as a list (Plotly sends numeric arrays as base64 ``bdata``)."""
    if isinstance(array, dict) and "bdata" in array:
        return list(np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).tolist())
    return list(array)


def _this_month() -> date:
    return datetime.now(UTC).date().replace(day=1)


def _last_month() -> date:
    return (_this_month() - timedelta(days=1)).replace(day=1)


def _at(day: date, hour: int) -> float:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp()


@pytest.fixture()
def with_history(store_dir: Path, tmp_path: Path) -> Path:
    """Puhti jobs: last month 3 (one failed, one on hugemem), this month 2 (one still running)."""
    fake = FakeSlurm(tmp_path / "puhti", cluster="puhti")
    last, this = _last_month() + timedelta(days=9), _this_month()
    fake.record(
        Job("100", _at(last, 8), _at(last, 9), _at(last, 11), "COMPLETED", cpus=4, cpu_seconds=4 * 7200 * 0.5,
            mem_mib=8192),
        Job("101", _at(last, 8), _at(last, 8) + 60, _at(last, 9), "FAILED", cpus=2, cpu_seconds=1000,
            exit_code="1:0", name="prep"),
        Job("102", _at(last, 10), _at(last, 10) + 600, _at(last, 12), "COMPLETED", partition="hugemem",
            cpu_seconds=7000),
        Job("200", _at(this, 0), _at(this, 0) + 120, _at(this, 1), "COMPLETED", cpus=2, cpu_seconds=2 * 3480 * 0.9),
        Job("201", _at(this, 0), _at(this, 0) + 240, None, "RUNNING"),
    )
    settings = load_settings()
    collect.merge_text(LocalStore(store_dir), settings, (fake.directory / "accounting.psv").read_bytes(),
                       cluster=None)
    return store_dir


def test_without_history_the_page_says_how_to_get_one(open_page: OpenPage) -> None:
    at = open_page("views/history.py")
    assert not at.exception
    assert "No history in mlch-for-air/ARTIFACTS/SACCT/history/ yet: run `hpc-monitor collect`" in unescaped(texts(at))


def test_a_new_store_has_the_demo_runs_jobs_in_its_history(store_dir: Path, open_page: OpenPage,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # A store with no bucket yet gets the demo, whose SACCT runs stand for uploads: their jobs are in the History,
    # each run's under its cluster, and this month against the last says there is nothing stored to compare.
    fresh = store_dir.parent / "new-store"
    monkeypatch.setenv("LOCAL_STORE_PATH", str(fresh))
    at = open_page("views/history.py")
    assert not at.exception, [e.value for e in at.exception]
    settings, store = load_settings(), LocalStore(fresh)
    runs = sacct_service.list_runs(store, settings)
    jobs = sum(read_frame(store, sacct_service.forwarder_bucket(settings), run.object)["job-id"].nunique()
               for run in runs)
    assert len(runs) == 4 and jobs > 0
    shown = texts(at)
    assert f"{jobs} jobs in {len(runs)} stored cluster-months" in shown
    assert sorted(at.dataframe[0].value["group"]) == ["lumi", "mahti", "puhti", "roihu"]  # grouped by platform
    last = _last_month()
    assert (f"No jobs are stored for {last:%Y-%m} or {_this_month():%Y-%m}, so there is nothing to compare" in shown
            and "the newest stored month is 2024-05" in shown)
    assert len(at.dataframe) == 1  # no table of "not recorded" in every cell


def test_months_per_platform_with_the_figures_users_know(with_history: Path, open_page: OpenPage) -> None:
    at = open_page("views/history.py")
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value.set_index("period")
    last = table.loc[table.index.map(lambda d: d == _last_month())].iloc[0]
    assert last["group"] == "puhti" and last["jobs"] == 3 and last["finished jobs"] == 3
    assert last["failure rate"] == pytest.approx(33.3, abs=0.05)
    # Core-hours: 4 × 2 h + 2 × (1 h − 1 min) + 2 × (2 h − 10 min); CSC CPU BU: (cores + 0.1 × GiB) × hours on Puhti.
    assert last["core-hours"] == pytest.approx(round(8 + 2 * 59 / 60 + 2 * 110 / 60, 1))
    bu = (4 + 0.1 * 8) * 2 + (2 + 0.1 * 4000 / 1024) * 59 / 60 + (2 + 0.1 * 4000 / 1024) * 110 / 60
    assert last["CSC CPU BU"] == pytest.approx(bu, abs=0.06)
    assert last["median CPU eff."] == pytest.approx(50.0, abs=0.05)  # 50 %, 14 % and 53 %: the middle one
    assert last["queue wait median"].strip() == "00:10:00" and last["queue wait p90"].strip() == "00:50:00"
    assert last["GPU-hours"] == 0
    shown = unescaped(texts(at))
    assert f"{_this_month():%Y-%m}: partial, the month is not over" in shown
    assert "efficiencies and the failure rate count the 4 finished jobs" in shown
    compared = at.dataframe[1].value
    assert compared.loc["jobs"].tolist() == ["3", "2"]
    assert compared.loc["median CPU eff. %"].tolist() == ["50.0", "90.0"]


def test_the_url_chooses_weeks_partitions_and_days_and_keeps_them(with_history: Path, open_page: OpenPage) -> None:
    first = _last_month()
    days = f"{first:%Y-%m-%d}..{first + timedelta(days=20):%Y-%m-%d}"
    at = open_page("views/history.py", params={"period": "week", "group": "partition", "days": days})
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert sorted(table["group"]) == ["hugemem", "small"] and table["jobs"].sum() == 3
    assert at.selectbox(key="history-group").value == "partition"
    assert at.query_params["days"] == days
    assert f"{first:%Y-%m}: partial, only 01–21" in unescaped(texts(at))


def _months_before(month: date, count: int) -> date:
    year, index = divmod(month.year * 12 + month.month - 1 - count, 12)
    return date(year, index + 1, 1)


def test_a_gap_of_months_is_one_note_and_a_lone_empty_month_its_own(with_history: Path, open_page: OpenPage) -> None:
    last = _last_month()
    fake = FakeSlurm(with_history.parent / "earlier", cluster="puhti")
    earlier = {n: _months_before(last, n) for n in (5, 7)}
    fake.record(*(Job(str(90 + n), _at(month, 8), _at(month, 9), _at(month, 10), "COMPLETED", cpu_seconds=3600)
                  for n, month in earlier.items()))
    collect.merge_text(LocalStore(with_history), load_settings(), (fake.directory / "accounting.psv").read_bytes(),
                       cluster=None)
    at = open_page("views/history.py")
    assert not at.exception, [e.value for e in at.exception]
    notes = [line for line in unescaped(texts(at)).splitlines() if "no jobs stored" in line]
    # Stored: 7 and 5 months before the last, the last and this one. Between them, one month alone, then four.
    lone, gap_from, gap_to = _months_before(last, 6), _months_before(last, 4), _months_before(last, 1)
    assert notes == [f":material/info: {lone:%Y-%m}: no jobs stored (nothing collected or uploaded for it)",
                     f":material/info: {gap_from:%Y-%m} to {gap_to:%Y-%m} (4 months): no jobs stored (nothing "
                     "collected or uploaded for them)"]


def test_each_month_is_read_once_and_a_rerun_reads_nothing(with_history: Path, open_page: OpenPage,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    earlier = (_last_month() - timedelta(days=40)).replace(day=1)
    fake = FakeSlurm(with_history.parent / "earlier", cluster="puhti")
    fake.record(Job("90", _at(earlier, 8), _at(earlier, 9), _at(earlier, 10), "COMPLETED", cpu_seconds=3600))
    collect.merge_text(LocalStore(with_history), load_settings(), (fake.directory / "accounting.psv").read_bytes(),
                       cluster=None)
    calls = Calls()
    monkeypatch.setattr(session_service, "build_store",
                        lambda settings, state: CountingStore(LocalStore(with_history), calls))
    at = open_page("views/history.py")
    assert not at.exception, [e.value for e in at.exception]
    # The chart's months hold this month and the last: the comparison below it reads nothing more.
    reads = calls.reads(history.HISTORY_PREFIX)
    assert sorted(reads) == [history.partition_folder("puhti", f"{m:%Y-%m}") + history.JOBS_OBJECT
                             for m in (earlier, _last_month(), _this_month())]
    assert set(reads.values()) == {1}
    at.selectbox(key="history-group").set_value("partition").run()
    at.run()
    assert not at.exception and calls.reads(history.HISTORY_PREFIX) == reads


def test_a_bar_opens_sacct_on_its_jobs(with_history: Path, open_page: OpenPage) -> None:
    settings = load_settings()
    months = history.list_months(LocalStore(with_history), settings)
    jobs = history.history_jobs(LocalStore(with_history), settings, months)
    params = history.sacct_link(months, _last_month(), "month", "job name", "prep", jobs)
    assert params == {"runs": [f"history:puhti/{_last_month():%Y-%m}"], "name": ["prep"],
                      "days": [f"{_last_month():%Y-%m-%d}..{_this_month() - timedelta(days=1):%Y-%m-%d}"]}
    # The page's own table (categories, "(none)" for no value) gives the same link.
    prepared = history.page_jobs(LocalStore(with_history), settings, months)
    assert history.sacct_link(months, _last_month(), "month", "job name", "prep", prepared) == params
    at = open_page("views/sacct.py", params=params)
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="sacct-runs").value[0].startswith("history:puhti/")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Jobs"] == "1", metrics



def test_sacct_opens_on_the_uploads_not_on_history_months_that_hold_their_jobs_again(
        store_dir: Path, open_page: OpenPage, monkeypatch: pytest.MonkeyPatch) -> None:
    # An upload is merged into the history: opening SACCT on the uploads and the history's months would count each
    # job twice. The demo's runs stand for uploads, so a new store has both.
    fresh = store_dir.parent / "new-store"
    monkeypatch.setenv("LOCAL_STORE_PATH", str(fresh))
    history_page = open_page("views/history.py")
    [jobs] = [line.split()[0] for line in texts(history_page).splitlines() if " stored cluster-months" in line]
    at = open_page("views/sacct.py")
    assert not at.exception, [e.value for e in at.exception]
    uploads = [r.name for r in sacct_service.list_runs(LocalStore(fresh), load_settings())]
    assert at.multiselect(key="sacct-runs").value == uploads
    assert {m.label: m.value for m in at.metric}["Jobs"] == jobs
    assert "the runs the Overview counts" in texts(at)


def test_without_uploads_sacct_opens_on_the_newest_months_of_the_history(with_history: Path,
                                                                         open_page: OpenPage) -> None:
    store, settings = LocalStore(with_history), load_settings()
    for run in sacct_service.list_runs(store, settings):  # collected only: no upload
        store.delete_object(sacct_service.forwarder_bucket(settings), run.object)
    at = open_page("views/sacct.py")
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="sacct-runs").value == [f"history:puhti/{_this_month():%Y-%m}",
                                                      f"history:puhti/{_last_month():%Y-%m}"]
    assert "Showing the history's 2 newest cluster-months: no run was uploaded." in texts(at)
    assert {m.label: m.value for m in at.metric}["Jobs"] == "5"


def test_queue_wait_chart_reads_in_minutes_with_clock_hover(with_history: Path, open_page: OpenPage) -> None:
    at = open_page("views/history.py", params={"figure": "queue wait median"})
    assert not at.exception, [e.value for e in at.exception]
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    # Last month's median wait is 10 minutes: a minute axis, not 0.17 h.
    assert figure["layout"]["yaxis"]["title"]["text"] == "queue wait median (min)"
    bars = {row[1]: y for trace in figure["data"]
            for row, y in zip(trace["customdata"], _values(trace["y"]), strict=True)}
    assert bars["00:10:00"] == pytest.approx(10)


#: Three jobs whose bill depends on their GPU type, typed GPUs or NVMe (CSC's rates: docs.csc.fi hpc-billing).
BILLED_BY_TRES = "\n".join([
    "Cluster|JobID|JobName|Partition|Account|User|State|ExitCode|"
    "Submit|Start|End|Elapsed|AllocCPUS|NNodes|ReqMem|AllocTRES",
    "mahti|501|slice|gpusmall|project_2001|alice|COMPLETED|0:0|"
    "2026-03-02T08:00:00|2026-03-02T08:00:00|2026-03-02T10:00:00|02:00:00|32|1|120G|billing=32,cpu=32,gres/gpu:a100_1g.5gb=1,gres/gpu=1,mem=120G,node=1",
    "puhti|502|nvme|small|project_2001|alice|COMPLETED|0:0|"
    "2026-03-02T08:00:00|2026-03-02T08:00:00|2026-03-02T09:00:00|01:00:00|4|1|8G|billing=4,cpu=4,gres/nvme=100,mem=8G,node=1",
    "puhti|503|typed|gpu|project_2001|alice|COMPLETED|0:0|"
    "2026-03-02T08:00:00|2026-03-02T08:00:00|2026-03-02T09:00:00|01:00:00|10|1|64G|billing=10,cpu=10,gres/gpu:v100=2,mem=64G,node=1",
]) + "\n"


def test_history_bills_gpu_types_typed_gpus_and_nvme_as_the_sacct_page_does(store_dir: Path,
                                                                             open_page: OpenPage) -> None:
    collect.merge_text(LocalStore(store_dir), load_settings(), BILLED_BY_TRES.encode(), cluster=None)
    at = open_page("views/history.py", params={"group": "job name", "figure": "CSC GPU BU"})
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value.set_index("group")
    # A Mahti a100_1g.5gb slice: 15 GPU BU per slice-hour × 2 h (not 100 per A100-hour).
    assert table.loc["slice", "CSC GPU BU"] == pytest.approx(30.0)
    # Puhti CPU with 100 GiB NVMe: (4 cores × 1 + 8 GiB × 0.1 + 100 GiB × 0.006) × 1 h.
    assert table.loc["nvme", "CSC CPU BU"] == pytest.approx(5.4)
    # Puhti GPU, GPUs printed only typed: (2 × 60 + 10 × 1 + 64 GiB × 0.1) × 1 h, and 2 GPU-hours.
    assert table.loc["typed", "CSC GPU BU"] == pytest.approx(136.4)
    assert table.loc["typed", "GPU-hours"] == pytest.approx(2.0)
