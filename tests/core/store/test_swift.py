"""SwiftStore and Keystone auth against the real services started by the suite."""

from __future__ import annotations

import logging
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import SecretStr

from core.auth import Credentials, authenticate
from core.errors import AuthenticationFailed, Forbidden, StoreUnavailable, TokenExpired
from core.store import open_store
from core.store.swift import SwiftStore
from core.store.versioning import put_versioned
from stack import password_token
from stack.faultproxy import FaultProxy
from tests.conftest import TOKEN_TTL, OpenStack

pytestmark = pytest.mark.swift


def _bucket() -> str:
    return f"swift-{uuid.uuid4().hex[:10]}"


def test_password_auth_and_a_wrong_password(openstack: OpenStack, caplog: pytest.LogCaptureFixture) -> None:
    alice = openstack.users[0]
    session = authenticate(openstack.credentials(alice))
    assert session.get_token()
    caplog.set_level(logging.DEBUG)
    wrong = Credentials(auth_url=openstack.auth_url, username=alice.username, password=SecretStr("not-it-42"),
                        project_name=alice.project)
    with pytest.raises(AuthenticationFailed) as info:
        authenticate(wrong)
    assert "alice" in str(info.value) and "not-it-42" not in str(info.value)
    with pytest.raises(AuthenticationFailed):
        SwiftStore.from_credentials(wrong).list_buckets()
    assert "not-it-42" not in caplog.text and alice.password not in caplog.text


def test_open_store_from_settings(openstack: OpenStack) -> None:
    store = open_store(openstack.settings_for(openstack.users[0]))
    bucket = _bucket()
    store.put_object(bucket, "a", b"1")
    assert store.kind == "swift" and store.get_object(bucket, "a")[1] == b"1"


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


def test_revoked_token_pre_authenticated_flow(openstack: OpenStack) -> None:
    alice = openstack.users[0]
    token, _ = password_token(openstack.auth_url, alice.username, alice.password, alice.project)
    storage_url = openstack.store_for(alice).storage_url
    bucket = _bucket()
    openstack.store_for(alice).put_object(bucket, "x", b"1")
    without = SwiftStore.from_token(storage_url, token)
    with_credentials = SwiftStore.from_token(storage_url, token, openstack.credentials(alice))
    assert without.get_object(bucket, "x")[1] == b"1"
    # Revoke the token in Keystone: Swift answers 401 from now on.
    admin_token, _ = password_token(openstack.auth_url, alice.username, alice.password, alice.project)
    request = urllib.request.Request(f"{openstack.auth_url}/auth/tokens", method="DELETE")
    request.add_header("X-Auth-Token", admin_token)
    request.add_header("X-Subject-Token", token)
    urllib.request.urlopen(request, timeout=10).close()
    deadline = time.monotonic() + 30  # authtoken middleware may serve a cached validation for a moment
    while True:
        try:
            without.get_object(bucket, "x")
        except TokenExpired as exc:
            assert token not in str(exc)
            break
        assert time.monotonic() < deadline, "a revoked token kept working"
        time.sleep(1)
    assert with_credentials.get_object(bucket, "x")[1] == b"1"  # rebuilt from credentials


def test_real_token_expiry(openstack: OpenStack) -> None:
    """Tokens live TOKEN_TTL seconds: the session renews, the pre-authenticated flow rebuilds or says expired."""
    alice = openstack.users[0]
    session_store = openstack.store_for(alice)
    bucket = _bucket()
    session_store.put_object(bucket, "x", b"1")
    storage_url, token = session_store.current_token()
    issued = time.monotonic()
    bare = SwiftStore.from_token(storage_url, token)
    renewing = SwiftStore.from_token(storage_url, token, openstack.credentials(alice))
    assert bare.get_object(bucket, "x")[1] == b"1"
    time.sleep(max(0.0, TOKEN_TTL + 3 - (time.monotonic() - issued)))
    with pytest.raises(TokenExpired) as info:
        bare.get_object(bucket, "x")
    assert token not in str(info.value)
    assert renewing.get_object(bucket, "x")[1] == b"1"
    assert session_store.get_object(bucket, "x")[1] == b"1"  # the keystoneauth session renewed on its own
    assert session_store.current_token()[1] != token


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
    url, token = store.current_token()
    port = int(openstack.proxy_url.rsplit(":", 1)[1])
    with FaultProxy(port, mode="drop_after", limit=200_000) as proxy:
        broken = SwiftStore.from_token(url.replace(f":{port}/", f":{proxy.port}/"), token)
        with pytest.raises(StoreUnavailable) as info:
            broken.put_object(bucket, name, b"x" * 3_000_000, metadata={"version": 2})
    assert bucket in str(info.value)
    meta, data = store.get_object(bucket, name)
    assert data == b"version one" and meta.custom["version"] == 1


def test_swift_down_or_silent_is_unavailable_quickly(openstack: OpenStack) -> None:
    store = openstack.store_for(openstack.users[0])
    url, token = store.current_token()
    port = int(openstack.proxy_url.rsplit(":", 1)[1])
    with FaultProxy(port, mode="blackhole") as proxy:
        silent = SwiftStore.from_token(url.replace(f":{port}/", f":{proxy.port}/"), token, timeout=2)
        began = time.monotonic()
        with pytest.raises(StoreUnavailable):
            silent.list_buckets()
        assert time.monotonic() - began < 10
    dead_port = proxy.port  # closed now: connection refused
    refused = SwiftStore.from_token(url.replace(f":{port}/", f":{dead_port}/"), token, timeout=2)
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


def test_credentials_env_is_a_working_swift_configuration(openstack: OpenStack) -> None:
    from core.settings import load_settings

    path = openstack.directory / "credentials.env"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    settings = load_settings(path, {})
    assert settings.store == "swift" and settings.csc_username == openstack.users[0].username
    store = open_store(settings)
    store.put_object("from-credentials-env", "hello.txt", b"hi")
    assert store.get_object("from-credentials-env", "hello.txt")[1] == b"hi"
    assert settings.csc_password is not None
    assert settings.csc_password.get_secret_value() not in repr(settings)
