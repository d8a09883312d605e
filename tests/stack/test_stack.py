"""The stack package: the Keystone + Swift it starts, the credentials it writes, and its fault proxy."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from core.auth import Credentials
from core.settings import load_settings
from core.store.swift import SwiftStore
from stack.faultproxy import FaultProxy
from tests.conftest import OpenStack


@pytest.mark.swift
def test_credentials_env_is_a_working_swift_configuration(openstack: OpenStack) -> None:
    path = openstack.directory / "credentials.env"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    settings = load_settings(path, {})
    assert settings.store == "swift" and settings.csc_username == openstack.users[0].username
    store = SwiftStore.from_credentials(Credentials.from_settings(settings))
    store.put_object("from-credentials-env", "hello.txt", b"hi")
    assert store.get_object("from-credentials-env", "hello.txt")[1] == b"hi"
    assert settings.csc_password is not None
    assert settings.csc_password.get_secret_value() not in repr(settings)


@pytest.fixture()
def echo_port() -> Iterator[int]:
    """A loopback TCP server that echoes whatever it receives."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stopped = threading.Event()

    def serve() -> None:
        while not stopped.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                while chunk := conn.recv(65536):
                    conn.sendall(chunk)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stopped.set()
    thread.join(timeout=5)
    server.close()


def _exchange(port: int, payload: bytes, timeout: float = 5.0) -> bytes:
    """Send ``payload`` and read back until the peer closes, answers in full, or ``timeout`` passes."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(payload)
        deadline = time.monotonic() + timeout
        while len(received) < len(payload) and time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            received += chunk
    return received


def test_fault_proxy_passes_drops_and_blackholes(echo_port: int) -> None:
    with FaultProxy(echo_port) as proxy:
        assert _exchange(proxy.port, b"hello" * 1000) == b"hello" * 1000
    with FaultProxy(echo_port, mode="drop_after", limit=1000) as proxy:
        assert len(_exchange(proxy.port, b"x" * 200_000)) < 200_000
    with FaultProxy(echo_port, mode="blackhole") as proxy:
        assert _exchange(proxy.port, b"anyone there?", timeout=1.0) == b""


@pytest.mark.swift
def test_the_stack_files_are_readable_by_their_owner_only(openstack: OpenStack) -> None:
    base = openstack.directory
    assert base.stat().st_mode & 0o777 == 0o700
    proxy_conf = base / "swift" / "proxy.conf"
    assert proxy_conf.is_file() and proxy_conf.stat().st_mode & 0o777 == 0o600  # the service user's password
    for name in ("credentials.env", "stack.json", "keystone/keystone.conf"):
        assert (base / name).stat().st_mode & 0o777 == 0o600, name
    # Everything the stack wrote; the servers' own data under swift/devices is behind the 0700 directory anyway.
    devices = base / "swift" / "devices"
    shared = [str(p.relative_to(base)) for p in base.rglob("*") if devices not in p.parents
              and not p.is_symlink() and not p.is_socket() and p.stat().st_mode & 0o077]
    assert shared == []
