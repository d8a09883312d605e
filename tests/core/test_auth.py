"""Keystone authentication (core.auth) and token expiry against the real Keystone + Swift started by the suite."""

from __future__ import annotations

import logging
import time
import urllib.request
import uuid

import pytest
from pydantic import SecretStr

from core.auth import Credentials, authenticate
from core.errors import AuthenticationFailed, TokenExpired
from core.store.swift import SwiftStore
from stack import password_token
from tests.conftest import TOKEN_TTL, OpenStack

pytestmark = pytest.mark.swift


def _bucket() -> str:
    return f"auth-{uuid.uuid4().hex[:10]}"


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


@pytest.mark.slow
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
