"""SwiftStore against the real Keystone + Swift started by the suite: isolation, paging, failures."""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import SecretStr

from core.auth import Credentials, authenticate
from core.errors import Forbidden, StoreUnavailable, TokenExpired
from core.store.swift import SwiftStore
from core.store.versioning import put_versioned
from stack.faultproxy import FaultProxy
from tests.conftest import OpenStack

pytestmark = pytest.mark.swift


def _bucket() -> str:
    return f"swift-{uuid.uuid4().hex[:10]}"


def test_user_b_cannot_read_user_a(openstack: OpenStack, caplog: pytest.LogCaptureFixture) -> None:
    alice, bob = openstack.users
    a = openstack.store_for(alice)
    bucket = _bucket()
    a.put_object(bucket, "secret.txt", b"alice only")
    a_url, a_token = a.current_token()
    b_url, b_token = openstack.store_for(bob).current_token()
    assert a_url != b_url
    caplog.set_level(logging.DEBUG)
    intruder = SwiftStore.from_token(a_url, b_token)
    with pytest.raises(Forbidden) as info:
        intruder.get_object(bucket, "secret.txt")
    message = str(info.value)
    assert bucket in message and "secret.txt" in message and "transaction tx" in message
    for secret in (a_token, b_token, alice.password, bob.password):
        assert secret not in message and secret not in caplog.text and secret not in repr(intruder)
    with pytest.raises(Forbidden):
        intruder.list_objects(bucket)
    # Bob's own account does not have Alice's bucket at all.
    assert bucket not in {b.name for b in openstack.store_for(bob).list_buckets()}


def test_more_than_ten_thousand_objects(openstack: OpenStack) -> None:
    alice = openstack.users[0]
    store = openstack.store_for(alice)
    url, token = store.current_token()
    bucket = _bucket()
    store.create_bucket(bucket)
    names = [f"DATA/{i:06d}" for i in range(10_050)]

    def fill(chunk: list[str]) -> None:
        # A slow machine can take longer than the short test token lives: the credentials renew it.
        own = SwiftStore.from_token(url, token, openstack.credentials(alice))
        for name in chunk:
            own.put_object(bucket, name, b"")

    with ThreadPoolExecutor(24) as pool:
        list(pool.map(fill, [names[i::24] for i in range(24)]))
    assert [o.name for o in store.iter_objects(bucket)] == names
    first = store.list_objects(bucket, limit=10_000)
    assert len(first.objects) == 10_000 and first.next_marker == names[9_999]
    second = store.list_objects(bucket, marker=first.next_marker)
    assert [o.name for o in second.objects] == names[10_000:] and second.next_marker is None
    page = store.list_objects(bucket, limit=100, marker="DATA/004999")
    assert [o.name for o in page.objects] == names[5000:5100] and page.next_marker == "DATA/005099"
    assert store.head_bucket(bucket).object_count == 10_050


def test_upload_dropped_part_way_keeps_the_previous_version(openstack: OpenStack) -> None:
    store = openstack.store_for(openstack.users[0])
    bucket = _bucket()
    name = "ARTIFACTS/SACCT/user-run.parquet"
    assert put_versioned(store, bucket, name, b"version one") == 1
    with FaultProxy(openstack.swift_port, mode="drop_after", limit=200_000) as proxy:
        broken = SwiftStore.from_token(*openstack.storage_via(store, proxy.port))
        with pytest.raises(StoreUnavailable) as info:
            broken.put_object(bucket, name, b"x" * 3_000_000, metadata={"version": 2})
    assert bucket in str(info.value)
    meta, data = store.get_object(bucket, name)
    assert data == b"version one" and meta.custom["version"] == 1


def test_swift_down_or_silent_is_unavailable_quickly(openstack: OpenStack) -> None:
    store = openstack.store_for(openstack.users[0])
    with FaultProxy(openstack.swift_port, mode="blackhole") as proxy:
        silent = SwiftStore.from_token(*openstack.storage_via(store, proxy.port), timeout=2)
        began = time.monotonic()
        with pytest.raises(StoreUnavailable):
            silent.list_buckets()
        assert time.monotonic() - began < 10
    dead_port = proxy.port  # closed now: connection refused
    url, token = openstack.storage_via(store, dead_port)
    refused = SwiftStore.from_token(url, token, timeout=2)
    began = time.monotonic()
    with pytest.raises(StoreUnavailable) as info:
        refused.head_bucket("anything")
    assert time.monotonic() - began < 10 and token not in str(info.value)
    dead_keystone = Credentials(auth_url=f"http://127.0.0.1:{dead_port}/v3", username="x", password=SecretStr("y"),
                                project_name="p")
    with pytest.raises(StoreUnavailable):
        authenticate(dead_keystone, timeout=2)


def test_bucket_counts_come_from_the_account_listing(openstack: OpenStack) -> None:
    store = openstack.store_for(openstack.users[0])
    bucket = _bucket()
    store.put_object(bucket, "a", b"x" * 10)
    store.put_object(bucket, "DATA/b", b"y")
    deadline = time.monotonic() + 20
    while True:  # the container updater folds container stats into the account every second
        info = next(b for b in store.list_buckets() if b.name == bucket)
        if info.object_count == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert (info.object_count, info.bytes_used) == (2, 11)


def test_several_objects_read_at_once_renew_a_refused_token(openstack: OpenStack) -> None:
    alice = openstack.users[0]
    store = openstack.store_for(alice)
    bucket = _bucket()
    names = [f"ARTIFACTS/SACCT/history/cluster=c1/month=2026-{m:02d}/jobs.parquet" for m in range(1, 13)]
    for name in names:
        store.put_object(bucket, name, name.encode())
    renewed: list[str] = []
    stale = SwiftStore.from_token(store.storage_url, "gAAAAAB-revoked", openstack.credentials(alice),
                                  on_renewal=lambda _url, token: renewed.append(token))
    got = list(stale.get_objects(bucket, names))
    assert [(name, data) for name, _, data in got] == [(name, name.encode()) for name in names]
    assert renewed and renewed[-1] != "gAAAAAB-revoked"
    without = SwiftStore.from_token(store.storage_url, "gAAAAAB-revoked")  # no credentials: nothing to renew with
    with pytest.raises(TokenExpired) as info:
        list(without.get_objects(bucket, names))
    assert "gAAAAAB-revoked" not in str(info.value)
