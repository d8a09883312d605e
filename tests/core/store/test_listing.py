"""core.store.listing: the objects of a folder, on both backends; a bucket not created yet has none."""

from __future__ import annotations

from core.store.base import ObjectStore
from core.store.listing import objects_under


def test_objects_under_a_prefix_and_none_in_a_missing_bucket(store: ObjectStore, bucket: str) -> None:
    assert objects_under(store, bucket, "LOGS/") == []  # the bucket does not exist yet
    for name in ("LOGS/slurm-2.out", "LOGS/slurm-1.out", "LOGSX/other.out", "TIMES/run.parquet"):
        store.put_object(bucket, name, b"x")
    assert [o.name for o in objects_under(store, bucket, "LOGS/")] == ["LOGS/slurm-1.out", "LOGS/slurm-2.out"]
    assert objects_under(store, bucket, "MANAGEMENT/") == []
