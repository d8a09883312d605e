"""core.demo: seeding the demo data into an empty store."""

from __future__ import annotations

from pathlib import Path

from core.demo import seed_demo
from core.settings import load_settings
from core.store.local import LocalStore


def test_demo_seeding_is_idempotent_and_never_overwrites(tmp_path: Path) -> None:
    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(tmp_path / "store")})
    store = LocalStore(settings.local_store_path)
    first = seed_demo(store, settings)
    assert len(first.written) == 14 and first.skipped == 0
    name = "ARTIFACTS/SACCT/user-example-com-hyak-default.parquet"
    store.put_object("mlch-for-air", name, b"the user's own version")
    again = seed_demo(store, settings)
    assert again.written == [] and again.skipped == 14
    assert store.get_object("mlch-for-air", name)[1] == b"the user's own version"
    assert {b.name for b in store.list_buckets()} == {
        "mlch-for-air", "mlch-sub-air-user-example-com", "mlch-pipe-user-example-com", "mlch-exp-user-example-com"}
