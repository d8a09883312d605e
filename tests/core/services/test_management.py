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
    orchestration = management.load_orchestration(store, bucket, names[-1])
    assert management.platform_order(orchestration) == ["puhti", "mahti", "lumi"]
    mahti = orchestration.platforms["mahti"]
    jobs = management.job_table(mahti)
    assert jobs["status"].tolist() == ["complete", "cancelled", "failed", "started"]
    transfers = management.transfer_table(mahti)
    assert set(transfers["direction"]) == {"send", "get"}
    spaces = management.workspace_table(mahti)
    assert spaces["capacity used"].between(0, 1).all()


def test_attention_lists_failed_jobs_and_active_ones_only_when_stale() -> None:
    from datetime import UTC, datetime, timedelta

    from core.demo import demo_orchestration
    from core.settings import load_settings

    settings = load_settings(None, {"STUCK_AFTER_MINUTES": "30", "QUOTA_ALERT_PERCENT": "15"})
    mahti = demo_orchestration().platforms["mahti"]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert not management.is_stale(now - timedelta(minutes=29), now, settings)
    assert management.is_stale(now - timedelta(minutes=31), now, settings)
    fresh = management.platform_attention("mahti", mahti, stale=False)
    assert fresh.failed["job id"].tolist() == ["3462001"] and fresh.stuck.empty
    stale = management.platform_attention("mahti", mahti, stale=True)
    assert stale.stuck["status"].tolist() == ["started"]  # sweep.sh: started, never submitted
    alerts = management.quota_alerts(demo_orchestration(), settings)
    assert alerts[["platform", "path", "over"]].values.tolist() == [
        ["puhti", "/projappl/project_csc", "files"], ["mahti", "/users/csc", "capacity"]]
