"""The stack package: the Keystone + Swift it starts and the credentials.env it writes (proxy: test_faultproxy.py)."""

from __future__ import annotations

import pytest

from core.auth import Credentials
from core.settings import load_settings
from core.store.swift import SwiftStore
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
