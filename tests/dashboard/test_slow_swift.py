"""A Swift request slower than the client's timeout, on the Buckets page: the page says Swift did not answer (inside
the page's guard, never a traceback), and a slow HEAD is not reported as an object that may have been removed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from core.auth import TIMEOUT
from core.store.versioning import put_versioned
from stack.faultproxy import FaultProxy
from tests.conftest import OpenStack
from tests.dashboard.conftest import APP, shown
from tests.dashboard.test_swift_pages import _sign_in, swift_env  # noqa: F401  (the fixture)

pytestmark = pytest.mark.swift


def _slow(match: Callable[[str], bool]) -> Callable[[bytes], None]:
    """A proxy observer that holds each request whose request line ``match``es past the client's timeout."""

    def observe(head: bytes) -> None:
        if match(head.split(b"\r\n", 1)[0].decode("latin-1")):
            time.sleep(TIMEOUT + 2)

    return observe


def _open_object(openstack: OpenStack, proxy: FaultProxy, bucket: str, name: str) -> AppTest:
    alice = openstack.users[0]
    at = AppTest.from_file(APP, default_timeout=120)
    _sign_in(at, alice.username, alice.password, alice.project)
    session = at.session_state["monitor_session"]
    session["storage_url"] = session["storage_url"].replace(f":{openstack.swift_port}/", f":{proxy.port}/")
    at.query_params["bucket"] = bucket
    at.query_params["object"] = name
    at.switch_page("views/buckets.py").run()
    return at


@pytest.mark.parametrize(("slow", "what"), [
    (lambda line: line.startswith("GET ") and "prefix=.versions" in line, "Could not list the versions of"),
    # The version listing asks for the object's metadata first: a slow HEAD is reported there, once.
    (lambda line: line.startswith("HEAD "), "Could not list the versions of"),
    (lambda line: line.startswith("GET ") and line.split(" ")[1].endswith("/DATA/item.txt"), "Could not open"),
])
def test_a_request_slower_than_the_timeout_says_swift_did_not_answer(
        swift_env: OpenStack, slow: Callable[[str], bool], what: str) -> None:  # noqa: F811
    store = swift_env.store_for(swift_env.users[0])
    bucket, name = f"slow-{uuid.uuid4().hex[:8]}", "DATA/item.txt"
    put_versioned(store, bucket, name, b"one")
    put_versioned(store, bucket, name, b"two")
    with FaultProxy(swift_env.swift_port, observer=_slow(slow)) as proxy:
        at = _open_object(swift_env, proxy, bucket, name)
    assert not at.exception, [e.value for e in at.exception]
    messages = [shown(str(m.value)) for m in (*at.error, *at.warning)]
    said = [m for m in messages if m.startswith(what)]
    assert len(said) == 1 and "Swift did not answer" in said[0], messages
    assert not any("may have been removed" in m for m in messages), messages
