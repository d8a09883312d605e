"""Versioned writes (core.store.versioning) on every backend: numbered, kept, and safe under concurrent writers."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from core.errors import StoreUnavailable
from core.store.base import ObjectStore
from core.store.swift import SwiftStore
from core.store.versioning import VERSIONS_PREFIX, get_version, list_versions, put_versioned
from stack.faultproxy import FaultProxy
from tests.conftest import OpenStack


def test_versioned_writes_are_numbered_and_kept(store: ObjectStore, bucket: str) -> None:
    name = "ARTIFACTS/SACCT/user-run.parquet"
    versions = [put_versioned(store, bucket, name, f"v{i}".encode(), metadata={"owner": "u"}) for i in range(3)]
    assert versions == [1, 2, 3]
    assert list_versions(store, bucket, name) == [1, 2, 3]
    meta, data = store.get_object(bucket, name)
    assert data == b"v2" and meta.custom == {"owner": "u", "version": 3, "version-base": 0}
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


class _SilentDuringData:
    """Wraps a store: the PUT of a version's data fails as when Swift goes silent part-way (StoreUnavailable)."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner

    def put_object(self, bucket: str, name: str, data: bytes, **kwargs: Any) -> None:
        if name.startswith(VERSIONS_PREFIX):
            raise StoreUnavailable("Swift did not answer (ReadTimeout)", bucket=bucket, obj=name)
        self.inner.put_object(bucket, name, data, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)


def test_a_failed_store_leaves_no_hole_in_the_numbering(store: ObjectStore, bucket: str) -> None:
    name = "ARTIFACTS/SACCT/user-run.parquet"
    assert put_versioned(store, bucket, name, b"one") == 1
    with pytest.raises(StoreUnavailable):
        put_versioned(_SilentDuringData(store), bucket, name, b"lost")  # type: ignore[arg-type]
    assert list_versions(store, bucket, name) == [1]
    assert store.get_object(bucket, name)[1] == b"one"
    assert put_versioned(store, bucket, name, b"two") == 2  # not 3: nothing was claimed
    assert list_versions(store, bucket, name) == [1, 2]
    meta, data = store.get_object(bucket, name)
    assert data == b"two" and meta.custom["version"] == 2


@pytest.mark.swift
def test_swift_going_silent_mid_store_leaves_no_hole(openstack: OpenStack, bucket: str) -> None:
    store = openstack.store_for(openstack.users[0])
    name = "ARTIFACTS/SACCT/user-big.parquet"
    assert put_versioned(store, bucket, name, b"version one") == 1
    with FaultProxy(openstack.swift_port, mode="drop_after", limit=200_000) as proxy:
        broken = SwiftStore.from_token(*openstack.storage_via(store, proxy.port))
        with pytest.raises(StoreUnavailable):
            put_versioned(broken, bucket, name, b"x" * 3_000_000)
    assert list_versions(store, bucket, name) == [1]
    assert store.get_object(bucket, name)[1] == b"version one"
    assert put_versioned(store, bucket, name, b"version two") == 2


def test_a_seed_written_object_keeps_its_number_and_versions_of_the_earlier_scheme_stay_readable(
    store: ObjectStore, bucket: str
) -> None:
    name = "TIMES/run-2.parquet"
    store.put_object(bucket, f"{VERSIONS_PREFIX}{name}/0000000001", b"old one", metadata={"version": 1})
    store.put_object(bucket, f"{VERSIONS_PREFIX}{name}/0000000002", b"old two", metadata={"version": 2})
    store.put_object(bucket, name, b"old two", metadata={"version": 2})
    assert put_versioned(store, bucket, name, b"new") == 3
    assert list_versions(store, bucket, name) == [1, 2, 3]
    assert get_version(store, bucket, name, 1)[1] == b"old one"
    assert get_version(store, bucket, name, 3)[1] == b"new"


def test_a_versioned_store_sends_its_data_to_swift_once(openstack: OpenStack, bucket: str) -> None:
    from stack.faultproxy import interposed

    bodies: list[tuple[str, int]] = []

    def observe(head: bytes) -> None:
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        length = re.search(rb"^content-length:\s*(\d+)", head, re.IGNORECASE | re.MULTILINE)
        bodies.append((line.split(" ", 1)[0], int(length.group(1)) if length else 0))

    data = b"m" * 2**20
    store = openstack.store_for(openstack.users[0])
    store.create_bucket(bucket)
    with interposed(openstack.directory, observer=observe):
        assert put_versioned(store, bucket, "ARTIFACTS/SACCT/user-run.parquet", data) == 1
    sent = sum(size for _, size in bodies)
    assert len(data) <= sent < len(data) + 4096, bodies  # the data once (the rest: small requests)
    assert [method for method, _ in bodies].count("COPY") == 1  # <path> published by storage's own copy
    meta, current = store.get_object(bucket, "ARTIFACTS/SACCT/user-run.parquet")
    assert current == data and meta.custom["version"] == 1


class _CutCopy:
    """A store whose COPY breaks off: after landing (``lands``) or before; deletes fail too with ``stuck``."""

    def __init__(self, inner: ObjectStore, *, lands: bool, stuck: bool = False) -> None:
        self.inner, self.lands, self.stuck = inner, lands, stuck

    def copy_object(self, bucket: str, source: str, name: str, **kwargs: Any) -> None:
        if self.lands:
            self.inner.copy_object(bucket, source, name, **kwargs)
        raise StoreUnavailable("Swift did not answer (ReadTimeout)", bucket=bucket, obj=name)

    def delete_object(self, bucket: str, name: str) -> None:
        if self.stuck:
            raise StoreUnavailable("Swift did not answer (ReadTimeout)", bucket=bucket, obj=name)
        self.inner.delete_object(bucket, name)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)


def test_a_cut_copy_is_finished_or_rolled_back_and_the_message_says_which(store: ObjectStore, bucket: str) -> None:
    name = "ARTIFACTS/SACCT/user-cut.parquet"
    assert put_versioned(store, bucket, name, b"one") == 1
    # The copy landed but its answer was lost: the store is finished, and says so.
    assert put_versioned(_CutCopy(store, lands=True), bucket, name, b"two") == 2  # type: ignore[arg-type]
    assert store.get_object(bucket, name)[1] == b"two" and list_versions(store, bucket, name) == [1, 2]
    # The copy never landed: the new version is removed again and the error says nothing was stored.
    with pytest.raises(StoreUnavailable, match="nothing was stored"):
        put_versioned(_CutCopy(store, lands=False), bucket, name, b"lost")  # type: ignore[arg-type]
    assert list_versions(store, bucket, name) == [1, 2] and store.get_object(bucket, name)[1] == b"two"
    # Not even the removal goes through: the error says the version is stored and not yet published.
    with pytest.raises(StoreUnavailable, match="version 3 is stored"):
        put_versioned(_CutCopy(store, lands=False, stuck=True), bucket, name, b"three")  # type: ignore[arg-type]
    assert list_versions(store, bucket, name) == [1, 2, 3] and store.get_object(bucket, name)[1] == b"two"
    assert put_versioned(store, bucket, name, b"four") == 4
    assert store.get_object(bucket, name)[1] == b"four"
