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
