"""Versioned writes (core.store.versioning) on every backend: numbered, kept, and safe under concurrent writers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from core.store.base import ObjectStore
from core.store.versioning import get_version, list_versions, put_versioned


def test_versioned_writes_are_numbered_and_kept(store: ObjectStore, bucket: str) -> None:
    name = "ARTIFACTS/SACCT/user-run.parquet"
    versions = [put_versioned(store, bucket, name, f"v{i}".encode(), metadata={"owner": "u"}) for i in range(3)]
    assert versions == [1, 2, 3]
    assert list_versions(store, bucket, name) == [1, 2, 3]
    meta, data = store.get_object(bucket, name)
    assert data == b"v2" and meta.custom == {"owner": "u", "version": 3}
    assert get_version(store, bucket, name, 1)[1] == b"v0"


def test_versioning_continues_from_a_seed_written_object(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "TIMES/run-1.parquet", b"seed", metadata={"version": 4})
    assert put_versioned(store, bucket, "TIMES/run-1.parquet", b"ours") == 5


def test_concurrent_versioned_writers(store: ObjectStore, bucket: str) -> None:
    name = "MANAGEMENT/orchestration.json"
    store.create_bucket(bucket)
    payloads = [f"writer-{i}".encode() * 100 for i in range(8)]
    kind = store.kind
    factory = (lambda: store) if kind == "local" else None

    def write(data: bytes) -> int:
        own = factory() if factory else type(store).from_token(*store.current_token())  # type: ignore[attr-defined]
        return put_versioned(own, bucket, name, data)

    with ThreadPoolExecutor(8) as pool:
        versions = list(pool.map(write, payloads))
    assert sorted(versions) == list(range(1, 9))
    assert list_versions(store, bucket, name) == list(range(1, 9))
    by_version = dict(zip(versions, payloads, strict=True))
    for version, data in by_version.items():
        assert get_version(store, bucket, name, version)[1] == data
    meta, current = store.get_object(bucket, name)
    assert meta.custom["version"] == 8 and current == by_version[8]
