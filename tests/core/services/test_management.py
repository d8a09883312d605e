"""core.services.management: the orchestration objects as tables per platform."""

from __future__ import annotations

from core.demo import seed_demo
from core.services import management
from core.settings import Settings
from core.store.local import LocalStore


def test_management_tables_per_platform(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    bucket = management.submitter_bucket(settings)
    names = management.list_management(store, settings)
    assert names == ["MANAGEMENT/1.json", "MANAGEMENT/2.json", "MANAGEMENT/3.json"]  # one per pipeline run
    orchestration = management.load_orchestration(store, bucket, names[-1])
    assert management.platform_order(orchestration) == ["puhti", "mahti", "roihu", "lumi"]
    mahti = orchestration.platforms["mahti"]
    jobs = management.job_table(mahti)
    assert jobs["status"].tolist() == ["running", "started"]  # run 3 is under way
    first = management.load_orchestration(store, bucket, names[0]).platforms["mahti"]
    assert management.job_table(first)["status"].tolist() == ["stored", "failed"]
    transfers = management.transfer_table(mahti)
    assert set(transfers["direction"]) == {"send", "get"}
    spaces = management.workspace_table(mahti)
    assert spaces["capacity used"].between(0, 1).all()


def test_attention_lists_failed_jobs_and_active_ones_only_when_stale() -> None:
    from datetime import UTC, datetime, timedelta

    from core.demo import demo_orchestration
    from core.settings import load_settings

    settings = load_settings(None, {"STUCK_AFTER_MINUTES": "30", "QUOTA_ALERT_PERCENT": "15"})
    mahti = demo_orchestration(1).platforms["mahti"]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert not management.is_stale(now - timedelta(minutes=29), now, settings)
    assert management.is_stale(now - timedelta(minutes=31), now, settings)
    fresh = management.platform_attention("mahti", mahti, stale=False)
    assert fresh.failed["job id"].tolist() == ["3462001"] and fresh.stuck.empty
    assert management.platform_attention("mahti", mahti, stale=True).stuck.empty  # run 1 has nothing active
    under_way = demo_orchestration(3).platforms["mahti"]
    stale = management.platform_attention("mahti", under_way, stale=True)
    assert stale.stuck["status"].tolist() == ["running", "started"]  # the Ray cluster, and sweep.sh never submitted
    alerts = management.quota_alerts(demo_orchestration(), settings)
    assert alerts[["platform", "path", "over"]].values.tolist() == [
        ["puhti", "/projappl/project_2001234", "files"], ["mahti", "/users/mvirtane", "capacity"]]
