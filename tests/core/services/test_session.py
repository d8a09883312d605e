"""core.services.session: what a signed-in session shows of itself, and the default session."""

from __future__ import annotations

from core.services import session
from core.settings import Settings, load_settings


def test_session_description_never_carries_the_password(settings: Settings) -> None:
    state = {"kind": "swift", "auth_url": "http://k/v3", "username": "alice", "password": "s3cr3t-pw",
             "project_name": "demo-a", "user_domain_name": "Default", "project_domain_name": "Default",
             "storage_url": "http://s/v1/AUTH_x", "token": "gAAAA-token"}
    active = session.describe(settings, state)
    assert active is not None
    assert "s3cr3t-pw" not in repr(active) and "gAAAA-token" not in repr(active)
    assert session.describe(settings, None) is None
    assert session.default_session(settings) == {"kind": "local"}
    swift = load_settings(None, {"STORE": "swift"})
    assert session.default_session(swift) is None
