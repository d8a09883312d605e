"""Spend per billing pool and the budget: used / allocated, the 30-day burn and the projected date, by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from core.services import cost
from core.settings import load_settings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = 86400.0


def _jobs() -> pd.DataFrame:
    end = NOW.timestamp()
    return pd.DataFrame({
        "billed": [600.0, 300.0, 100.0, 50.0, None],
        "billing-unit": ["CSC GPU BU", "CSC GPU BU", "CSC GPU BU", "CSC CPU BU", None],
        # 10 and 20 days ago (in the 30-day window), 40 days ago (before it), 5 days ago, unknown.
        "end-time": [end - 10 * DAY, end - 20 * DAY, end - 40 * DAY, end - 5 * DAY, None],
    })


def test_pool_totals_never_add_pools_together() -> None:
    totals = cost.pool_totals(_jobs())
    assert [(t.pool, t.amount, t.jobs) for t in totals] == [("CSC CPU BU", 50.0, 1), ("CSC GPU BU", 1000.0, 3)]
    assert cost.unbilled(_jobs()) == 1
    assert cost.totals_caption(totals, 1).startswith("CSC CPU BU: 50.0 over 1 job; CSC GPU BU: 1,000.0 over 3 jobs; "
                                                     "1 job not billed")


def test_budget_used_burn_and_projected_date() -> None:
    settings = load_settings(None, {"BUDGET_CSC_GPU_BU": "10000", "BUDGET_CSC_CPU_BU": "60"})
    budgets = {b.pool: b for b in cost.budget(_jobs(), settings, NOW)}
    gpu = budgets["CSC GPU BU"]
    # Used 1,000 of 10,000; the last 30 days billed 900 → 30 per day; 9,000 left / 30 = 300 days.
    assert (gpu.used, gpu.burn_per_day) == (1000.0, pytest.approx(30.0))
    assert gpu.runs_out == date(2027, 9, 27) and not gpu.needs_attention
    assert gpu.sentence() == ("CSC GPU BU: 1,000.0 of 10,000.0 used (10%) over 3 stored jobs; last 30 days 30.0 per "
                              "day; runs out about 2027-09-27 at that pace.")
    cpu = budgets["CSC CPU BU"]
    # 50 of 60 used: 83 % is under QUOTA_ALERT_PERCENT (90), but 10 left at 50/30 per day runs out in 6 days.
    assert cpu.runs_out == date(2026, 12, 7) and cpu.needs_attention
    assert "LUMI GPU-hours" not in budgets  # no allocation set: not shown


def test_budget_alerts_past_the_quota_percentage_and_without_recent_use_has_no_date() -> None:
    settings = load_settings(None, {"BUDGET_CSC_GPU_BU": "1050", "QUOTA_ALERT_PERCENT": "90"})
    old = _jobs().assign(**{"end-time": NOW.timestamp() - 100 * DAY})
    gpu = cost.budget(old, settings, NOW)[0]
    assert gpu.runs_out is None and gpu.needs_attention  # 95 % used
    assert "no use in the last 30 days, so no projected date" in gpu.sentence()
    assert cost.budget(_jobs(), load_settings(None, {}), NOW) == []


def test_pipeline_cost_per_platform_from_the_runs_that_hold_its_jobs() -> None:
    jobs = pd.DataFrame({
        "job-id": ["100", "101_1", "101_2", "200", "300"],
        "parent-job-id": ["100", "101", "101", "200", "300"],
        "platform": ["puhti", "puhti", "puhti", "lumi", "mahti"],
        "billed": [152.8, 10.0, 5.0, 24.0, 99.0],
        "billing-unit": ["CSC GPU BU", "CSC CPU BU", "CSC CPU BU", "LUMI GPU-hours", "CSC CPU BU"],
    })
    # Job 300 ran on mahti, but this pipeline lists it on lumi: not counted there; 999 has no record.
    table = cost.pipeline_cost({"puhti": ["100", "101"], "lumi": ["200", "300", "999"]}, jobs).set_index("platform")
    assert table.loc["puhti", "jobs"] == 2 and table.loc["puhti", "with a sacct record"] == 2
    assert table.loc["puhti", "CSC GPU BU"] == 152.8 and table.loc["puhti", "CSC CPU BU"] == 15.0  # array: 10 + 5
    assert table.loc["lumi", "with a sacct record"] == 1 and table.loc["lumi", "LUMI GPU-hours"] == 24.0
    assert pd.isna(table.loc["lumi", "CSC CPU BU"])


def test_a_job_held_by_two_stored_runs_is_billed_once_from_its_newest_record() -> None:
    # Job 7 was uploaded twice (runs newest stored first): running at 10 BU, then finished at 40 BU; job 8 is on
    # another platform with the same id as a Puhti job, so it is a job of its own.
    jobs = pd.DataFrame({
        "run": ["week-2", "week-2", "week-1", "week-1"],
        "platform": ["puhti", "lumi", "puhti", "puhti"],
        "job-id": ["7", "7", "7", "9"],
        "billed": [40.0, 2.0, 10.0, 5.0],
        "billing-unit": ["CSC CPU BU", "LUMI core-hours", "CSC CPU BU", "CSC CPU BU"],
        "end-time": [NOW.timestamp() - DAY] * 4,
    })
    totals = {t.pool: (t.amount, t.jobs) for t in cost.pool_totals(jobs)}
    assert totals == {"CSC CPU BU": (45.0, 2), "LUMI core-hours": (2.0, 1)}
    settings = load_settings(None, {"BUDGET_CSC_CPU_BU": "100"})
    (budget,) = cost.budget(jobs, settings, NOW)
    assert (budget.used, budget.jobs) == (45.0, 2)
    spent = cost.pipeline_cost({"puhti": ["7", "9"]}, jobs).set_index("platform")
    assert spent.loc["puhti", "CSC CPU BU"] == 45.0


def test_stored_allocations_are_read_checked_and_each_pool_replaced_by_its_setting(tmp_path: Path) -> None:
    from core.errors import DamagedObject
    from core.naming import budget_object
    from core.store.local import LocalStore

    store = LocalStore(tmp_path / "store")
    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(tmp_path / "store"),
                                    "BUDGET_CSC_GPU_BU": "7000"})
    assert cost.stored_allocations(store, settings) == {}  # nothing stored: no budget from storage
    store.put_object("mlch-for-air", budget_object(), b'{"LUMI GPU-hours": 100, "CSC GPU BU": 5000}')
    stored = cost.stored_allocations(store, settings)
    assert stored == {"CSC GPU BU": 5000.0, "LUMI GPU-hours": 100.0}
    assert cost.allocations(stored, settings) == {"CSC GPU BU": 7000.0, "LUMI GPU-hours": 100.0}
    for bad, said in ((b'{"CSC BU": 5}', "CSC BU"), (b'{"CSC GPU BU": -5}', "greater than 0"),
                      (b"[1, 2]", "dictionary"), (b"not json", "Expecting value")):
        store.put_object("mlch-for-air", budget_object(), bad)
        with pytest.raises(DamagedObject) as caught:
            cost.stored_allocations(store, settings)
        assert "mlch-for-air/ARTIFACTS/BUDGET.json" in str(caught.value) and said in str(caught.value), caught.value
    store.put_object("mlch-for-air", budget_object(), b" " * (cost.MAX_BUDGET_BYTES + 1))
    with pytest.raises(DamagedObject, match="more than an allocation needs"):
        cost.stored_allocations(store, settings, load=lambda bucket, entry: pytest.fail("read an oversized object"))
