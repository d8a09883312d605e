"""The fault proxy in front of the real Swift: requests counted and delayed, Swift cut off and back."""

from __future__ import annotations

import time
import uuid

import pytest

from core.errors import StoreUnavailable
from stack.faultproxy import FaultProxy, interposed
from tests.conftest import OpenStack

pytestmark = pytest.mark.swift


def test_interposed_proxy_counts_delays_and_cuts_swift(openstack: OpenStack) -> None:
    store = openstack.store_for(openstack.users[0])
    bucket = f"faultproxy-{uuid.uuid4().hex[:8]}"
    store.create_bucket(bucket)
    with interposed(openstack.directory, delay=0.3) as proxy:
        proxy.reset_count()
        began = time.monotonic()
        store.put_object(bucket, "a.txt", b"x" * 300_000)
        _, data = store.get_object(bucket, "a.txt")
        took = time.monotonic() - began
        assert data == b"x" * 300_000
        assert proxy.requests == 2, proxy.request_lines
        assert proxy.request_lines[0].startswith("PUT ") and proxy.request_lines[1].startswith("GET ")
        assert 0.6 <= took < 5

        proxy.set_mode("down", delay=0.0)
        began = time.monotonic()
        with pytest.raises(StoreUnavailable) as info:
            store.get_object(bucket, "a.txt")
        assert time.monotonic() - began < 5 and bucket in str(info.value)

        proxy.set_mode("pass")
        assert store.get_object(bucket, "a.txt")[1] == b"x" * 300_000
    # the Swift proxy is back on its own port, without the fault proxy
    assert store.get_object(bucket, "a.txt")[1] == b"x" * 300_000


def test_chunked_requests_are_framed_and_counted(openstack: OpenStack) -> None:
    import io

    store = openstack.store_for(openstack.users[0])
    import swiftclient

    with FaultProxy(openstack.swift_port) as proxy:
        url, token = openstack.storage_via(store, proxy.port)
        connection = swiftclient.Connection(preauthurl=url, preauthtoken=token, retries=0, timeout=10)
        bucket = f"chunked-{uuid.uuid4().hex[:8]}"
        connection.put_container(bucket)
        body = b"y" * 200_001
        connection.put_object(bucket, "b.bin", io.BytesIO(body), chunk_size=65536)  # no length: chunked
        assert connection.get_object(bucket, "b.bin")[1] == body
        assert connection.head_object(bucket, "b.bin")["content-length"] == str(len(body))
        assert proxy.requests == 4, proxy.request_lines
        with pytest.raises(ValueError, match="unknown mode"):
            proxy.set_mode("sideways")


def test_an_upload_cut_mid_body_leaves_no_object(openstack: OpenStack) -> None:
    import requests
    import swiftclient

    store = openstack.store_for(openstack.users[0])
    cut_at: dict[str, int] = {}
    with FaultProxy(openstack.swift_port, observer=lambda head: cut_at.pop(head[:3].decode(), None)) as proxy:
        url, token = openstack.storage_via(store, proxy.port)
        connection = swiftclient.Connection(preauthurl=url, preauthtoken=token, retries=0, timeout=10)
        bucket = f"cut-{uuid.uuid4().hex[:8]}"
        connection.put_container(bucket)
        cut_at["PUT"] = 100_000  # the next PUT: 100,000 of its 300,000 bytes reach Swift
        with pytest.raises((swiftclient.ClientException, requests.exceptions.ConnectionError)):
            connection.put_object(bucket, "c.bin", b"z" * 300_000)
        assert [sent for line, sent in proxy.cut_requests if "c.bin" in line] == [100_000]
        with pytest.raises(swiftclient.ClientException) as missing:
            connection.head_object(bucket, "c.bin")
        assert missing.value.http_status == 404  # Swift stored nothing of the cut upload
