"""The app against the real Keystone + Swift of the ``openstack`` fixture, through AppTest."""

from __future__ import annotations

import functools
import logging
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.demo import demo_orchestration
from core.errors import TokenExpired
from core.serialize import dump_management, parquet_to_frame
from stack import User, password_token
from tests import samples
from tests.conftest import OpenStack
from tests.dashboard.conftest import APP, shown, texts

pytestmark = pytest.mark.swift


@pytest.fixture()
def swift_env(openstack: OpenStack, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> OpenStack:
    """The app configured for Swift (as after copying .services/credentials.env to .env), minus the password."""
    alice = openstack.users[0]
    for key, value in openstack.info.env_for(alice).items():
        if key != "CSC_PASSWORD":
            monkeypatch.setenv(key, value)
    return openstack


def _sign_in(at: AppTest, username: str, password: str, project: str) -> AppTest:
    at.run()
    at.switch_page("views/sign_in.py").run()
    assert at.radio[0].value.startswith("Swift")  # STORE=swift preselects Swift
    fields = {t.label: t for t in at.text_input}
    fields["User name"].input(username)
    fields["Password"].input(password)
    fields["Project"].input(project)
    return at.button[0].click().run()


def _all_text(at: AppTest) -> str:
    return texts(at) + "\n".join(str(t.value) for t in at.text_input)


def test_sign_in_upload_and_browse_on_real_swift_without_leaking_secrets(
    swift_env: OpenStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    alice = swift_env.users[0]
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert "Sign in" in at.info[0].value  # .env names Swift: nobody is signed in yet
    _sign_in(at, alice.username, alice.password, alice.project)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert f"Signed in as {alice.username} ({alice.project})" in shown(texts(at))
    session = at.session_state["monitor_session"]
    token = session["token"]
    assert at.text_input[2].value == ""  # the password field is not filled back

    at.switch_page("views/upload.py").run()
    at.text_area(key="upload_text").input(samples.sacct("05_torchx_hetjob_parsable.txt").read_text())
    at.text_input(key="upload_run").input("hetjob")
    at.button(key="parse").click().run()
    at.button(key="store").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "as version 1" in texts(at)
    store = swift_env.store_for(alice)
    meta, data = store.get_object("mlch-for-air", "ARTIFACTS/SACCT/user-example-com-hetjob.parquet")
    assert meta.custom["version"] == 1 and len(parquet_to_frame(data)) > 0

    at.switch_page("views/buckets.py").run()
    assert not at.exception and not at.error
    assert "mlch-for-air" in at.dataframe[0].value["bucket"].tolist()
    at.switch_page("views/sacct.py").run()
    assert not at.error
    # The run is shown with the platform it was stored with (no Cluster field, no choice: "other").
    assert "user-example-com-hetjob" in at.multiselect(key="sacct-runs").value
    described = at.dataframe[0].value.set_index("run")
    assert described.loc["user-example-com-hetjob", "platform"] == "other"

    visible = _all_text(at)
    assert alice.password not in visible and token not in visible
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert alice.password not in logged and token not in logged


def test_a_wrong_password_is_a_clear_message(swift_env: OpenStack) -> None:
    alice = swift_env.users[0]
    at = _sign_in(AppTest.from_file(APP, default_timeout=60), alice.username, "wrong-password-9", alice.project)
    assert not at.exception
    assert "Sign-in failed" in shown(at.error[0].value)
    assert "wrong-password-9" not in _all_text(at)
    assert at.session_state["monitor_session"] is None
    fields = {t.label: t.value for t in at.text_input}
    assert fields["User name"] == alice.username and fields["Password"] == ""  # try again without retyping all


def test_an_unreachable_keystone_is_a_clear_message(swift_env: OpenStack, monkeypatch: pytest.MonkeyPatch) -> None:
    from stack import free_port

    monkeypatch.setenv("CSC_AUTH_URL", f"http://127.0.0.1:{free_port()}/v3")
    alice = swift_env.users[0]
    at = _sign_in(AppTest.from_file(APP, default_timeout=60), alice.username, alice.password, alice.project)
    assert not at.exception
    assert "Sign-in failed" in shown(at.error[0].value) and "did not answer" in shown(at.error[0].value)


def _fresh_prefix(monkeypatch: pytest.MonkeyPatch) -> str:
    """A bucket prefix no other test has written to: the accounts are shared by the whole test session."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("BUCKET_PREFIX", prefix)
    return prefix


def test_sessions_are_isolated_and_a_dead_token_is_renewed(
    swift_env: OpenStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = _fresh_prefix(monkeypatch)
    alice, bob = swift_env.users[0], swift_env.users[1]
    a = _sign_in(AppTest.from_file(APP, default_timeout=60), alice.username, alice.password, alice.project)
    swift_env.store_for(alice).put_object(f"{prefix}-for-air",
                                          "ARTIFACTS/SACCT/user-example-com-only-alice.parquet", b"x")
    b = _sign_in(AppTest.from_file(APP, default_timeout=60), bob.username, bob.password, bob.project)
    b.switch_page("views/sacct.py").run()
    assert not b.exception and not b.error
    assert "No SACCT runs" in b.info[0].value  # Bob's account, not Alice's
    assert b.session_state["monitor_session"]["username"] == bob.username
    assert a.session_state["monitor_session"]["username"] == alice.username

    # A token that Keystone no longer accepts is replaced from the session's own credentials.
    a.session_state["monitor_session"]["token"] = "gAAAAAB-not-a-token"
    a.switch_page("views/buckets.py").run()
    assert not a.exception and not a.error, [e.value for e in a.error]
    assert f"{prefix}-for-air" in a.dataframe[0].value["bucket"].tolist()
    assert a.session_state["monitor_session"]["token"] != "gAAAAAB-not-a-token"


def test_sign_out_forgets_the_credentials(swift_env: OpenStack) -> None:
    alice = swift_env.users[0]
    at = _sign_in(AppTest.from_file(APP, default_timeout=60), alice.username, alice.password, alice.project)
    assert "Swift" in [s.value for s in at.sidebar.subheader]
    sign_out = next(b for b in at.sidebar.button if b.label == "Sign out")
    sign_out.click().run()
    assert at.session_state["monitor_session"] is None
    assert "Not signed in" in [w.value for w in at.sidebar.warning]
    at.switch_page("views/buckets.py").run()
    assert "Sign in" in at.info[0].value


def test_a_token_renewed_on_a_page_that_stops_early_is_kept(
    swift_env: OpenStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh_prefix(monkeypatch)
    alice = swift_env.users[0]
    at = _sign_in(AppTest.from_file(APP, default_timeout=60), alice.username, alice.password, alice.project)
    at.session_state["monitor_session"]["token"] = "gAAAAAB-revoked"
    at.switch_page("views/logs.py").run()  # Alice has no logs: the page ends in st.stop()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "No logs" in at.info[0].value
    renewed = at.session_state["monitor_session"]["token"]
    assert renewed != "gAAAAAB-revoked" and renewed
    # The next run uses the kept token: a store on it alone (no credentials, so it cannot renew) is accepted.
    from core.store.swift import SwiftStore

    plain = SwiftStore.from_token(at.session_state["monitor_session"]["storage_url"], renewed)
    assert plain.list_buckets() is not None


def _revoke(openstack: OpenStack, user: User, storage_url: str, token: str) -> None:
    """Revoke ``token`` in Keystone and wait until Swift refuses it (authtoken may cache a validation briefly)."""
    from core.store.swift import SwiftStore

    admin, _ = password_token(openstack.auth_url, user.username, user.password, user.project)
    request = urllib.request.Request(f"{openstack.auth_url}/auth/tokens", method="DELETE")
    request.add_header("X-Auth-Token", admin)
    request.add_header("X-Subject-Token", token)
    urllib.request.urlopen(request, timeout=10).close()
    bare = SwiftStore.from_token(storage_url, token)
    deadline = time.monotonic() + 30
    while True:
        try:
            bare.list_buckets()
        except TokenExpired:
            return
        assert time.monotonic() < deadline, "a revoked token kept working"
        time.sleep(1)


def _rerun_fragment(at: AppTest, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """Run only the page's fragment, as the browser asks for on an auto-refresh (AppTest has no timer)."""
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
    from streamlit.testing.v1 import local_script_runner

    fragments = list(at._fragment_storage._fragments)  # AppTest has no public way to rerun a fragment
    assert len(fragments) == 1
    with monkeypatch.context() as patch:
        patch.setattr(local_script_runner, "RerunData",
                      functools.partial(RerunData, fragment_id_queue=fragments, is_fragment_scoped_rerun=True,
                                        is_auto_rerun=True))
        return at.run()


def test_a_token_revoked_while_management_auto_refreshes_is_renewed_and_kept(
    swift_env: OpenStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = swift_env.users[0]
    swift_env.store_for(alice).put_object("mlch-sub-air-user-example-com", "MANAGEMENT/1.json",
                                          dump_management(demo_orchestration()), content_type="application/json")
    at = _sign_in(AppTest.from_file(APP, default_timeout=60), alice.username, alice.password, alice.project)
    at.query_params["object"] = "MANAGEMENT/1.json"  # other tests of the session may have stored newer objects
    at.switch_page("views/management.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    session = at.session_state["monitor_session"]
    old = session["token"]
    _revoke(swift_env, alice, session["storage_url"], old)

    at = _rerun_fragment(at, monkeypatch)  # the fragment reads with the store of the full run: token revoked
    assert not at.exception and not at.error, [e.value for e in at.error]
    captions = [shown(c.value) for c in at.caption]
    assert any("MANAGEMENT/1.json" in c for c in captions), captions
    assert at.session_state["monitor_session"]["token"] not in (old, "")


def _custom_metadata(at: AppTest) -> dict[str, str]:
    """The Buckets page's custom metadata table of the open object (key → value)."""
    tables = [t.value for t in at.dataframe if list(t.value.columns) == ["key", "value"]]
    general, custom = tables[-2], tables[-1]
    assert "etag" in general["key"].tolist()
    return dict(zip(custom["key"], custom["value"], strict=True))


def test_two_accounts_with_the_same_names_and_bytes_never_share_cached_reads(swift_env: OpenStack) -> None:
    alice, bob = swift_env.users[0], swift_env.users[1]
    bucket, name = "mlch-exp-user-example-com", "shared/report.txt"
    for user in (alice, bob):  # same bucket, object and bytes (so the same etag); only the metadata differs
        swift_env.store_for(user).put_object(bucket, name, b"identical bytes\n", metadata={"owner": user.username})

    sessions = {}
    for user in (alice, bob):
        at = _sign_in(AppTest.from_file(APP, default_timeout=60), user.username, user.password, user.project)
        at.switch_page("views/buckets.py").run()
        at.selectbox(key="bucket").set_value(bucket).run()
        at.query_params.update(prefix="shared/", object=name)  # the URL a row click makes
        at.run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert f"{bucket}/{name}" in [t.value for t in at.text]
        sessions[user.username] = at
    # Bob's page read the object after Alice's filled the cache, in the same process: he sees his own metadata.
    assert _custom_metadata(sessions[bob.username]) == {"owner": bob.username}
    assert _custom_metadata(sessions[alice.username]) == {"owner": alice.username}
    sessions[alice.username].run()  # a rerun of Alice's page is served from her own entry
    assert _custom_metadata(sessions[alice.username]) == {"owner": alice.username}
