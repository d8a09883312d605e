"""The sign-in page sends credentials only to the configured Keystone URLs (no server-side request forgery)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import SettingsError, StoreUnavailable
from core.services import session
from core.settings import load_settings
from tests.dashboard.conftest import shown

OpenPage = Callable[..., AppTest]


class Listener:
    """A loopback TCP port that counts the connections made to it and closes each at once."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = int(self.socket.getsockname()[1])
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.socket.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.close()


def test_a_keystone_url_outside_the_allow_list_is_refused_before_any_request(listener: Listener) -> None:
    settings = load_settings(None, {"STORE": "swift"})
    with pytest.raises(SettingsError, match="not an allowed Keystone URL") as caught:
        session.sign_in_swift(settings, username="alice", password="pw-never-sent", project_name="demo-a",
                              auth_url=listener.url)
    assert "pw-never-sent" not in str(caught.value)
    assert listener.connections == 0


def test_keystone_urls_widen_the_allow_list(listener: Listener) -> None:
    settings = load_settings(None, {"STORE": "swift", "KEYSTONE_URLS": f"https://other.example/v3, {listener.url}/"})
    assert settings.allowed_auth_urls == ("https://pouta.csc.fi:5001/v3", "https://other.example/v3", listener.url)
    with pytest.raises(StoreUnavailable):
        session.sign_in_swift(settings, username="alice", password="pw", project_name="demo-a",
                              auth_url=listener.url)
    assert listener.connections >= 1  # allowed: the request was made (and the closed connection reported)


def test_the_sign_in_page_refuses_another_keystone_url(open_page: OpenPage, store_dir: Path,
                                                       listener: Listener) -> None:
    at = open_page("views/sign_in.py")
    at.radio[0].set_value("Swift + Keystone (CSC Allas)").run()
    fields = {t.label: t for t in at.text_input}
    fields["Keystone URL"].input(listener.url)
    fields["User name"].input("alice")
    fields["Password"].input("pw-never-sent")
    fields["Project"].input("demo-a")
    at.button[0].click().run()
    assert not at.exception
    assert len(at.error) == 1
    message = shown(at.error[0].value)
    assert "not an allowed Keystone URL" in message and listener.url in message
    assert "pw-never-sent" not in message
    assert listener.connections == 0
