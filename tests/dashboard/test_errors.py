"""Error paths of every page: a core error becomes one clear message (and a log line), never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import Forbidden, NotFound, StoreError, StoreUnavailable, TokenExpired
from core.services import session as session_service
from core.store.local import LocalStore
from tests.dashboard.conftest import shown

PAGES = [None, "views/management.py", "views/times.py", "views/sacct.py", "views/logs.py"]
OpenPage = Callable[..., AppTest]


class FailingStore:
    """A local store whose every storage call raises the given error (what Swift would raise)."""

    def __init__(self, root: Path, error: StoreError) -> None:
        self._store = LocalStore(root)
        self._error = error
        self.kind = "swift"
        self.identity = "failing"

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if callable(attr):
            def fail(*args: object, **kwargs: object) -> Any:
                raise self._error
            return fail
        return attr


ERRORS = {
    "expired": TokenExpired(transaction_id="tx0123"),
    "forbidden": Forbidden(bucket="mlch-for-air", transaction_id="tx4567"),
    "unavailable": StoreUnavailable("no answer from Swift in 10 s", bucket="mlch-pipe-user-example-com"),
}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: (p or "buckets").removeprefix("views/"))
@pytest.mark.parametrize("kind", list(ERRORS))
def test_store_errors_are_clear_messages_on_every_page(
    open_page: OpenPage, store_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    page: str | None, kind: str,
) -> None:
    error = ERRORS[kind]
    monkeypatch.setattr(session_service, "build_store", lambda settings, state: FailingStore(store_dir, error))
    with caplog.at_level(logging.WARNING, logger="dashboard"):
        at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    message = shown(at.error[0].value)
    assert error.reason in message
    if error.transaction_id:
        assert f"[transaction {error.transaction_id}]" in message
    if error.bucket:  # named once: by the page's words or, where they do not, by the error
        assert message.count(error.bucket) == 1, message
    assert message.startswith("Could not")
    assert any(r.getMessage() == message for r in caplog.records)
    if kind == "expired":
        assert any(link.label == "Sign in again" for link in at.get("page_link"))


def test_a_programming_error_is_not_dressed_as_a_storage_message(
    open_page: OpenPage, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plain ValueError is a fault in the code, not something storage or the user did: it is not turned into a
    # polite "Could not ..." message that hides it (the product's own errors are; see above).
    bug = ValueError("an argument no caller should pass")
    monkeypatch.setattr(session_service, "build_store", lambda settings, state: FailingStore(store_dir, bug))
    at = open_page("views/sacct.py")
    assert not at.error
    assert [e.message for e in at.exception] == ["an argument no caller should pass"]


def test_a_bucket_deleted_meanwhile_is_an_empty_state_not_an_error(
    open_page: OpenPage, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_service, "build_store",
                        lambda settings, state: FailingStore(store_dir, NotFound(bucket="mlch-for-air")))
    at = open_page("views/sacct.py")
    assert not at.exception and not at.error
    assert "No SACCT runs" in at.info[0].value


def test_a_corrupt_parquet_object_names_the_object(open_page: OpenPage, store_dir: Path) -> None:
    LocalStore(store_dir).put_object("mlch-pipe-user-example-com", "TIMES/broken.parquet", b"PAR1 not really")
    at = open_page("views/times.py")
    assert not at.exception
    assert len(at.error) == 1
    assert "TIMES/broken.parquet" in shown(at.error[0].value)


def test_a_hostile_object_name_is_shown_as_text_not_html(open_page: OpenPage, store_dir: Path) -> None:
    name = "<img src=x onerror=alert(1)>.txt"
    LocalStore(store_dir).put_object("mlch-exp-user-example-com", name, b"hello")
    at = open_page("views/buckets.py")
    at.selectbox(key="bucket").set_value("mlch-exp-user-example-com").run()
    assert not at.exception
    assert name in at.dataframe[1].value["name"].tolist()
    at.query_params["object"] = name  # what a click on its row puts in the URL
    at.run()
    assert not at.exception
    # Markdown elements would render HTML; the name only ever reaches text elements.
    assert all(name not in m.value for m in at.markdown)
    assert any(t.value == f"mlch-exp-user-example-com/{name}" for t in at.text)


def test_no_session_means_a_sign_in_pointer(open_page: OpenPage, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page("views/sacct.py", session=None)
    assert not at.exception
    assert "Sign in" in at.info[0].value
