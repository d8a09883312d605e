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
