"""core.services.platforms: per-platform figures of the chosen runs, each saying what it counts."""

from __future__ import annotations

import pandas as pd
import pytest

from core.demo import seed_demo
from core.services import platforms, runs, sacct, sacct_selection
from core.settings import Settings
from core.store.local import LocalStore
from tests import samples


def test_comparison_counts_each_figure_over_what_it_says() -> None:
    jobs = pd.DataFrame({
        "run": ["a", "a", "a", "b", "b"], "job-id": ["1", "2", "3", "1", "2"],
        "state": ["COMPLETED", "FAILED", "RUNNING", "COMPLETED", "TIMEOUT"],
        "alloc-cpus": [4, 2, 8, 256, None], "elapsed-seconds": [3600.0, 1800.0, 900.0, 360.0, 7200.0],
        "core-seconds": [4 * 3600.0, 2 * 1800.0, 8 * 900.0, 256 * 360.0, None],
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
    assert figure.layout.title.text == "Failure rate per platform"
    assert "FAILED, OUT_OF_MEMORY, TIMEOUT, NODE_FAIL" in figure.layout.title.subtitle.text
    assert figure.layout.title.subtitle.text.endswith("puhti 1 of 2, mahti 1 of 2")
    wait = platforms.queue_wait_figure(framed, table.reset_index())
    assert list(wait.layout.xaxis.categoryarray) == ["puhti", "mahti"]
    assert wait.layout.title.subtitle.text == "jobs with Submit and Start: puhti 2, mahti 2"


def test_demo_compares_the_four_platforms_and_another_cluster(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    samples.seed_public_runs(store, settings, ["torchx-hetjob"])  # a run of another site, stored last
    listed = sacct.list_runs(store, settings)
    infos = [runs.load_described_run(store, sacct.forwarder_bucket(settings), r.object)[1] for r in listed]
    assert infos[0].name.endswith("torchx-hetjob") and infos[0].platform == "other"
    assert infos[1].name.endswith("lumi-2024-05") and infos[1].platform == "lumi"
    bucket = sacct.forwarder_bucket(settings)
    frame = sacct.combine([runs.load_described_run(store, bucket, r.object)[0] for r in listed])
    table = platforms.comparison(platforms.with_platform(sacct_selection.metrics(frame), runs.platforms_of(infos)))
    assert table["platform"].tolist() == ["puhti", "mahti", "roihu", "lumi", "other"]
    # The demo's jobs per cluster (core/demo_data/pipeline.py): Mahti's sweep counts its 8 tasks.
    jobs = table.set_index("platform")["jobs"].to_dict()
    assert jobs == {"puhti": 8, "mahti": 11, "roihu": 4, "lumi": 5, "other": 3}
