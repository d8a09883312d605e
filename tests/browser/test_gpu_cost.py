"""GPUs and cost in Chromium: the SACCT headline per pool, the idle-GPU finding first, the job page's formula and
the Overview's budget with its projected date."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from core.demo import seed_demo
from core.sacct import parse_sacct
from core.serialize import frame_to_parquet
from core.services.overview import build_overview
from core.settings import load_settings
from core.store.local import LocalStore
from tests.browser.conftest import start_app, wait_idle
from tests.browser.test_sacct_tables import VIEWPORT, _first_rows, _headers

pytestmark = pytest.mark.browser
Page = Any
RUN = "user-example-com-puhti-gpu"


def _sacct(ended: datetime) -> str:
    stamp = ended.strftime("%Y-%m-%dT%H:%M:%S")
    return ("JobID|JobName|Partition|State|Elapsed|AllocCPUS|NNodes|ReqMem|TotalCPU|Start|End|AllocTRES|"
            "TRESUsageInAve\n"
            f"1|prep|small|COMPLETED|02:00:00|4|1|8G|07:00:00|{stamp}|{stamp}|cpu=4,mem=8G,node=1|\n"
            f"2|idle|gpu|COMPLETED|02:00:00|10|1|64G|10:00:00|{stamp}|{stamp}|"
            "cpu=10,gres/gpu:v100=1,gres/gpu=1,mem=64G,node=1|\n"
            f"2.batch|batch||COMPLETED|02:00:00|10|1||10:00:00|{stamp}|{stamp}||gres/gpuutil=0,gres/gpumem=0\n"
            f"3|busy|gpu|COMPLETED|01:00:00|10|1|64G|10:00:00|{stamp}|{stamp}|"
            "cpu=10,gres/gpu:v100=2,gres/gpu=2,mem=64G,node=1|\n"
            f"3.batch|batch||COMPLETED|01:00:00|10|1||10:00:00|{stamp}|{stamp}||gres/gpuutil=180\n")  # 90 % per GPU


#: What the demo's own GPU jobs were billed (CSC GPU BU): they ran in May 2024, so they add to the budget's use but
#: not to its last 30 days. Set by ``gpu_app``.
DEMO_GPU_BU: list[float] = []


@pytest.fixture(scope="module")
def gpu_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo plus a Puhti run with a CPU job, an idle and a busy GPU job that ended 3 days ago; a GPU budget."""
    workdir: Path = tmp_path_factory.mktemp("gpu-app")
    store = LocalStore(workdir / "store")
    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(workdir / "store")})
    seed_demo(store, settings)
    demo = build_overview(store, settings, datetime.now(UTC))
    DEMO_GPU_BU[:] = [sum(t.amount for t in demo.spend if t.pool == "CSC GPU BU")]
    store.put_object("mlch-for-air", f"ARTIFACTS/SACCT/{RUN}.parquet",
                     frame_to_parquet(parse_sacct(_sacct(datetime.now(UTC) - timedelta(days=3))).frame),
                     metadata={"version": 1, "platform": "puhti"})
    yield from start_app(workdir, {"BUDGET_CSC_GPU_BU": "5000"})


def _metric(page: Page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True))
    value: str = metric.locator('[data-testid="stMetricValue"]').inner_text()
    return value


def test_sacct_headline_bills_gpu_bu_apart_and_the_idle_gpu_is_the_first_finding(gpu_app: str, page: Page) -> None:
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{gpu_app}/sacct?runs={RUN}")
    wait_idle(page, "SACCT")
    # CPU: (4 × 1 + 8 × 0.1) × 2 h = 9.6 CPU BU; GPU: (60 + 10 + 6.4) × 2 + (120 + 10 + 6.4) × 1 = 289.2 GPU BU.
    assert _metric(page, "CSC CPU BU") == "9.6" and _metric(page, "CSC GPU BU") == "289.2"
    expect(page.get_by_text(re.compile(r"never added to another"))).to_be_visible()

    page.goto(f"{gpu_app}/sacct?runs={RUN}&view=Findings")
    wait_idle(page, "SACCT")
    table = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').nth(1)  # after the runs
    headers = _headers(table)
    first = dict(zip(headers, _first_rows(page, table, 1)[0], strict=True))
    assert (first["JobID"], first["Finding"]) == ("2", "idle GPUs")
    assert first["Figure"] == "1 v100 GPU allocated, 0 % use recorded (gres/gpuutil); 152.8 CSC GPU BU at stake"
    assert "--partition=small" in first["Ask next time"] and first["Billing unit"] == "CSC GPU BU"


def test_job_page_shows_the_formula_of_its_bill(gpu_app: str, page: Page) -> None:
    page.goto(f"{gpu_app}/job?job=2&run={RUN}")
    wait_idle(page, "Job 2")
    box = page.locator('[data-testid="stCode"]').filter(has_text="GPUs: 1 (v100)")
    expect(box).to_contain_text("GPU use: 0 % (gres/gpuutil")
    expect(box).to_contain_text("(60 × 1 GPUs + 1 × 10 cores + 0.1 × 64 GiB) × 2 h = 152.80 CSC GPU BU")


def test_overview_shows_the_budget_and_when_it_runs_out(gpu_app: str, page: Page) -> None:
    page.goto(gpu_app)
    wait_idle(page, "Overview")
    used = 289.2 + DEMO_GPU_BU[0]
    assert _metric(page, "CSC GPU BU spent") == f"{used:,.1f}"
    # The run's 289.2 is all of the last 30 days: 9.64 per day; 5,000 − used left.
    runs_out = datetime.now(UTC).date() + timedelta(days=(5000 - used) / (289.2 / 30))
    line = page.get_by_text(re.compile(rf"^CSC GPU BU: {re.escape(f'{used:,.1f}')} of 5,000\.0 used"))
    expect(line).to_contain_text(f"runs out about {runs_out:%Y-%m-%d} at that pace")
    expect(page.get_by_text(f"CSC GPU BU: {used / 5000:.0%} used")).to_be_visible()
