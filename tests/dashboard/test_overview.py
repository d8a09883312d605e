"""The Overview page (first in the navigation) and the per-session pipeline user, through AppTest."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.serialize import dump_management, load_management
from core.settings import load_settings
from core.store.local import LocalStore
from tests import samples
from tests.dashboard.conftest import shown, texts
from tests.dashboard.conftest import shown as shown_text

OpenPage = Callable[..., AppTest]


def _subheaders(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


def _links(at: AppTest) -> list[tuple[str, str]]:
    """Every page link as (label, page): AppTest has no page_link accessor, so read the protos."""
    found = []
    for element in at.get("page_link"):
        proto = element.proto
        found.append((proto.label, proto.page))
    return found


def test_overview_opens_first_and_lists_failed_jobs_with_links(open_page: OpenPage) -> None:
    at = open_page()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Overview"
    heads = _subheaders(at)
    # The demo's four runs (one per cluster) hold the pipeline's own failures: the sweep's task 5 (FAILED) and
    # Roihu's out-of-memory job, out of memory first. The cancelled Ray cluster is not a failure.
    assert "Failed jobs: 2" in heads
    shown = texts(at)
    rule = "of the 4 most recently stored SACCT runs (at most 6, newest first): the runs the SACCT page opens on"
    assert rule in shown
    links = _links(at)
    job_links = [label for label, _ in links if " · job " in label]
    assert len(job_links) == 2
    assert shown_text(job_links[0]) == "OUT_OF_MEMORY · job 812360 · user-example-com-roihu-2024-05 (roihu)"
    assert shown_text(job_links[1]) == "FAILED · job 3462001_5 · user-example-com-mahti-2024-05 (mahti)"
    assert "more: see the SACCT page" not in shown
    # Nothing is stuck (the demo objects were just written) and every quota has room at 90 %.
    assert "Stuck pipelines: 0" in heads and "Quotas over 90 %: 0" in heads
    # The newest runs, newest first, each linked to the SACCT page.
    runs = [label for label, page in links if "sacct" in page and "2024" in label]
    assert [shown_text(r) for r in runs] == [
        f"user-example-com-{p}-2024-05 ({p})" for p in ("lumi", "roihu", "mahti", "puhti")]


def test_overview_bounds_the_failed_job_links_and_counts_the_rest(open_page: OpenPage, store_dir: Path) -> None:
    # Other sites' public runs stored after the demo: the six newest runs, with Hyak's 59 failed jobs among them.
    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(store_dir)})
    samples.seed_public_runs(LocalStore(store_dir), settings)
    at = open_page()
    assert not at.exception and not at.error
    shown = texts(at)
    assert "of the 6 most recently stored SACCT runs (at most 6, newest first)" in shown
    job_links = [label for label, _ in _links(at) if " · job " in label]
    assert len(job_links) == 8 and all("(other)" in label for label in job_links)  # bounded; the rest are counted
    assert "more: see the SACCT page" in shown


def test_overview_names_stuck_pipelines_and_full_quotas(open_page: OpenPage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUCK_AFTER_MINUTES", "0.001")  # 60 ms: the seeded object is older than that
    monkeypatch.setenv("QUOTA_ALERT_PERCENT", "15")
    at = open_page()
    assert not at.exception and not at.error
    heads = _subheaders(at)
    assert "Stuck pipelines: 1" in heads
    shown = texts(at)
    # Runs 1 and 2 ended; run 3 is under way and has not changed for longer than the limit.
    # How long: since the demo was seeded for this test session (minutes on a loaded machine).
    assert re.search(r"multi-cloud-hpc-integration \(MANAGEMENT/3\.json\): no change for \d+ h \d\d min", shown)
    assert "Quotas over 15 %: 2" in heads
    quotas = next(d.value for d in at.dataframe if "over" in d.value.columns)
    # Puhti's Ray experiments projappl uses 19K of 100K files; Mahti's home 3.045G of 10G.
    assert sorted(zip(quotas["platform"], quotas["project"], quotas["over"], strict=True)) == [
        ("mahti", "Personal home folder", "capacity"), ("puhti", "Ray experiments", "files")]
    labels = [label for label, _ in _links(at)]
    assert "Open MANAGEMENT/3\\.json" in labels


def test_a_broken_management_object_is_named_and_the_rest_still_shows(open_page: OpenPage, store_dir: Path) -> None:
    LocalStore(store_dir).put_object("mlch-sub-air-user-example-com", "MANAGEMENT/2.json", b"{not json")
    at = open_page()
    assert not at.exception
    assert any("MANAGEMENT/2\\.json" in w.value for w in at.warning)  # escaped for Markdown
    assert any(h.startswith("Failed jobs: ") for h in _subheaders(at))


def test_pipeline_user_is_per_browser_session(open_page: OpenPage, store_dir: Path) -> None:
    # A second pipeline's Management object in the same deployment.
    store = LocalStore(store_dir)
    content = load_management(store.get_object("mlch-sub-air-user-example-com", "MANAGEMENT/1.json")[1])
    content["name"] = "bobs-pipeline"
    store.put_object("mlch-sub-air-bob-example-org", "MANAGEMENT/1.json", dump_management(content))

    first = open_page("views/management.py")
    second = open_page("views/management.py")
    first.sidebar.text_input(key="pipeline").set_value("bob@example.org").run()
    # The caption names the object's pipeline (escaped for Markdown).
    assert "bobs\\-pipeline" in texts(first) and "pipeline user bob@example.org" in texts(first)
    second.run()
    assert "bobs" not in texts(second)
    assert "multi\\-cloud\\-hpc\\-integration" in texts(second)
    assert "pipeline user user@example.com" in texts(second)


def test_an_unusable_pipeline_user_is_named_and_the_configured_one_shown(open_page: OpenPage) -> None:
    at = open_page("views/management.py")
    at.sidebar.text_input(key="pipeline").set_value("@@@").run()
    assert not at.exception
    assert any("has no letters or digits" in w.value for w in at.sidebar.warning)
    assert "pipeline user user@example.com" in texts(at)
    assert [t.label for t in at.tabs] == ["puhti", "mahti", "roihu", "lumi"]


def test_overview_shows_spend_per_pool_and_the_budget_with_its_projected_date(
    open_page: OpenPage, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    from core.sacct import parse_sacct
    from core.serialize import frame_to_parquet

    # Only this run's spend: the demo's own runs (GPU jobs among them) are removed, so the figures are hand-computed.
    store = LocalStore(store_dir)
    for run in ("puhti", "mahti", "roihu", "lumi"):
        store.delete_object("mlch-for-air", f"ARTIFACTS/SACCT/user-example-com-{run}-2024-05.parquet")
    ended = datetime.now(UTC) - timedelta(days=3)
    stamp = ended.strftime("%Y-%m-%dT%H:%M:%S")
    text = ("JobID|Partition|State|Elapsed|AllocCPUS|NNodes|ReqMem|Start|End|AllocTRES\n"
            f"8800001|gpu|COMPLETED|10:00:00|10|1|64G|{stamp}|{stamp}|cpu=10,gres/gpu:v100=4,gres/gpu=4,mem=64G\n")
    LocalStore(store_dir).put_object("mlch-for-air", "ARTIFACTS/SACCT/user-example-com-puhti-gpu.parquet",
                                     frame_to_parquet(parse_sacct(text).frame),
                                     metadata={"version": 1, "platform": "puhti"})
    # (60 × 4 + 10 + 6.4) × 10 h = 2,564 CSC GPU BU, all in the last 30 days: 85.5 per day.
    monkeypatch.setenv("BUDGET_CSC_GPU_BU", "5000")
    at = open_page()
    assert not at.exception and not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["CSC GPU BU spent"] == "2,564.0"
    # 2,436 left at 85.47 per day: 28.5 days, inside the 30-day horizon, so it needs attention.
    warning = next(shown(w.value) for w in at.warning if "CSC GPU BU" in w.value)
    runs_out = datetime.now(UTC).date() + timedelta(days=2436 / (2564 / 30))  # whole days: 28
    assert f"runs out about {runs_out:%Y-%m-%d}" in warning
    assert "2,564.0 of 5,000.0 used (51%) over 1 stored job;" in warning
    assert any(h.startswith("Spend and budget: 1 need attention") for h in _subheaders(at))


def test_the_demo_shows_its_projects_budget_on_first_run(open_page: OpenPage, store_dir: Path) -> None:
    at = open_page()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = texts(at)
    # The demo's allocation (ARTIFACTS/BUDGET.json) against the demo's own jobs, which ran in May 2024.
    assert ("CSC GPU BU: 3,598.4 of 5,000.0 used (72%) over 16 stored jobs; last 30 days 0.0 per day; no use in the "
            "last 30 days, so no projected date.") in shown
    assert "LUMI GPU-hours: 17.5 of 100.0 used (17%)" in shown
    # A damaged allocation object costs the section its stored allocations, said by name, never the page.
    LocalStore(store_dir).put_object("mlch-for-air", "ARTIFACTS/BUDGET.json", b'{"CSC GPU BU": "a lot"}')
    at = open_page()
    assert not at.exception and not at.error
    warnings = [shown_text(w.value) for w in at.warning]
    assert any(w.startswith("Could not read the allocations mlch-for-air/ARTIFACTS/BUDGET.json") for w in warnings), \
        warnings
    assert "No allocation set" in " ".join(c.value for c in at.caption)
