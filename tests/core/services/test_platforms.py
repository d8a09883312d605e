"""Platforms side by side: a run's platform is stored with it, runs list newest first, per-platform figures."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from core.demo import seed_demo
from core.services import platforms, runs, sacct, upload
from core.settings import Settings, load_settings
from core.store.local import LocalStore

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(tmp_path / "store")})


@pytest.fixture()
def store(settings: Settings) -> LocalStore:
    return LocalStore(settings.local_store_path)


def test_cluster_field_decides_the_platform_and_is_stored(store: LocalStore, settings: Settings) -> None:
    parsed = upload.parse_upload((DATA / "sacct" / "07_slurmdog_parsable2_noheader_alpine.txt").read_bytes(),
                                 settings, fields="JobID,User,Group,State,Cluster,AllocCPUS,REQMEM,TotalCPU,Elapsed,"
                                 "MaxRSS,ExitCode,NNodes,NTasks".split(","))
    assert upload.run_platform(parsed, "mahti-like-name", settings) == upload.RunPlatform("other", "alpine")
    # A choice on the page does not override what sacct printed.
    stored = upload.store_run(store, settings, "alpine", parsed, platform="lumi")
    meta = store.head_object(stored.bucket, stored.object).custom
    assert meta["platform"] == "other" and meta["cluster"] == "alpine" and meta["rows"] == 102


def test_without_cluster_the_chosen_platform_is_stored(store: LocalStore, settings: Settings) -> None:
    parsed = upload.parse_upload((DATA / "sacct" / "05_torchx_hetjob_parsable.txt").read_bytes(), settings)
    assert upload.run_platform(parsed, "lumi-hetjob", settings) == upload.RunPlatform("lumi", None)
    assert upload.run_platform(parsed, "hetjob", settings) == upload.RunPlatform("other", None)
    stored = upload.store_run(store, settings, "hetjob", parsed, platform="puhti")
    meta = store.head_object(stored.bucket, stored.object).custom
    assert meta["platform"] == "puhti" and "cluster" not in meta
    with pytest.raises(ValueError, match="platform 'nowhere'"):
        upload.store_run(store, settings, "hetjob2", parsed, platform="nowhere")


def test_runs_list_newest_stored_first_with_platform_rows_and_time(store: LocalStore, settings: Settings) -> None:
    parsed = upload.parse_upload((DATA / "sacct" / "05_torchx_hetjob_parsable.txt").read_bytes(), settings)
    for name in ("zeta", "alpha", "mid"):  # stored in this order: the newest first is not name order
        upload.store_run(store, settings, name, parsed, platform="mahti")
        time.sleep(0.05)
    bucket = sacct.forwarder_bucket(settings)
    listed = sacct.list_runs(store, settings)
    assert [r.name.removeprefix("user-example-com-") for r in listed] == ["mid", "alpha", "zeta"]
    assert sacct.default_runs(listed, limit=2) == [r.name for r in listed[:2]]
    infos = runs.describe_runs(store, bucket, listed)
    assert {i.platform for i in infos} == {"mahti"} and {i.rows for i in infos} == {7}
    table = runs.run_table(infos, "Europe/Helsinki")
    assert list(table.columns[:3]) == ["run", "platform", "cluster"]
    assert str(table["stored"].dt.tz) == "Europe/Helsinki" and table["rows"].tolist() == [7, 7, 7]


def test_metadata_platform_is_never_taken_as_free_text(store: LocalStore, settings: Settings) -> None:
    bucket = sacct.forwarder_bucket(settings)
    store.put_object(bucket, "ARTIFACTS/SACCT/x.parquet", b"x", metadata={"platform": "<b>lumi</b>"})
    info = runs.describe_runs(store, bucket, sacct.list_runs(store, settings))[0]
    assert info.platform == "other" and info.rows is None


def test_comparison_counts_each_figure_over_what_it_says() -> None:
    jobs = pd.DataFrame({
        "run": ["a", "a", "a", "b", "b"], "job-id": ["1", "2", "3", "1", "2"],
        "state": ["COMPLETED", "FAILED", "RUNNING", "COMPLETED", "TIMEOUT"],
        "alloc-cpus": [4, 2, 8, 256, None], "elapsed-seconds": [3600.0, 1800.0, 900.0, 360.0, 7200.0],
        "queue-wait-seconds": [60.0, None, 120.0, 600.0, 30.0],
        "cpu-efficiency": [0.5, 0.25, None, 0.9, 0.1], "memory-efficiency": [None, 0.4, None, 0.8, None],
    })
    framed = platforms.with_platform(jobs, {"a": "mahti", "b": "puhti"})
    table = platforms.comparison(framed).set_index("platform")
    assert table.index.tolist() == ["puhti", "mahti"]
    mahti, puhti = table.loc["mahti"], table.loc["puhti"]
    assert (mahti["jobs"], mahti["finished"], mahti["failed"]) == (3, 2, 1)
    assert mahti["failure rate"] == 0.5 and puhti["failure rate"] == 0.5
    assert mahti["jobs with queue wait"] == 2 and mahti["queue wait median min"] == 1.5
    assert mahti["jobs with CPU efficiency"] == 2 and mahti["CPU efficiency median"] == pytest.approx(0.375)
    assert mahti["core-hours"] == pytest.approx(4 + 1 + 2)  # 4 × 1 h + 2 × 0.5 h + 8 × 0.25 h
    assert puhti["jobs with core-hours"] == 1 and puhti["core-hours"] == pytest.approx(25.6)
    figure = platforms.failure_figure(table.reset_index())
    assert list(figure.layout.yaxis.range) == [0, 1]
    assert "FAILED, OUT_OF_MEMORY, TIMEOUT, NODE_FAIL" in figure.layout.title.text
    wait = platforms.queue_wait_figure(framed, table.reset_index())
    assert list(wait.layout.xaxis.categoryarray) == ["puhti", "mahti"]
    assert "mahti: 2 jobs with Submit and Start" in wait.layout.title.text


def test_demo_compares_mahti_with_the_other_clusters(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    listed = sacct.list_runs(store, settings)
    infos = runs.describe_runs(store, sacct.forwarder_bucket(settings), listed)
    assert infos[0].name.endswith("mahti-ray") and infos[0].platform == "mahti"
    frame = sacct.combine([sacct.load_run(store, sacct.forwarder_bucket(settings), r.object) for r in listed])
    table = platforms.comparison(platforms.with_platform(sacct.metrics(frame), runs.platforms_of(infos)))
    assert table["platform"].tolist() == ["mahti", "other"]
    assert table.set_index("platform").loc["mahti", "jobs"] == 2
