"""Pieces every page uses: settings, the session's store, error display, small widgets."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any, TypeVar, cast

import pandas as pd
import streamlit as st

from core.errors import (
    AuthenticationFailed,
    MonitorError,
    NotFound,
    ObjectTooLarge,
    TokenExpired,
    failure_message,
)
from core.naming import format_user
from core.services import buckets as buckets_service
from core.services import history as history_service
from core.services import runs as runs_service
from core.services import sacct as sacct_service
from core.services import sacct_selection, tables
from core.services import session as session_service
from core.settings import Settings, load_settings
from core.store.base import ObjectStore
from core.text import markdown_plain
from core.units import iec_size

log = logging.getLogger("dashboard")
SESSION_KEY = "monitor_session"
#: What a page shows while it waits for storage.
STORAGE_PROGRESS = "Waiting for object storage…"
#: The sidebar's pipeline-user input (also its URL parameter): each browser session picks its own pipeline.
PIPELINE_USER_KEY = "pipeline"
T = TypeVar("T")


#: The store and the settings of the current run: made once by :func:`store` and :func:`settings`, dropped by
#: :func:`run_scope` when the run ends.
_RUN_STORE: ContextVar[ObjectStore | None] = ContextVar("monitor_run_store", default=None)
_RUN_SETTINGS: ContextVar[Settings | None] = ContextVar("monitor_run_settings", default=None)


def settings() -> Settings:
    """The settings from the environment and .env (read once per run, never cached across runs with the password),
    with the pipeline user this browser session chose in the sidebar."""
    base = _RUN_SETTINGS.get()
    if base is None:
        base = load_settings()
        _RUN_SETTINGS.set(base)
    chosen = st.session_state.get(PIPELINE_USER_KEY)
    if isinstance(chosen, str) and format_user(chosen):
        return base.model_copy(update={"pipeline_user": chosen.strip()})
    return base


def session_state() -> dict[str, Any] | None:
    """This browser session's store dict; a new session starts on the local store unless .env names Swift."""
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = session_service.default_session(settings())
    value = st.session_state[SESSION_KEY]
    return value if isinstance(value, dict) else None




@contextmanager
def run_scope() -> Iterator[None]:
    """Wrap one run of the app (``navigation.run()``): the page's store lives exactly as long as the run.

    A renewed Swift token is written into the session by the store itself when it is renewed (see
    :func:`core.services.session.build_store`), so nothing has to happen at the end of a page: ``st.stop()``,
    ``st.rerun()``, an exception or a fragment rerun (which runs only the fragment, never this scope) keep it too.
    """
    token, settings_token = _RUN_STORE.set(None), _RUN_SETTINGS.set(None)
    try:
        yield
    finally:
        _RUN_STORE.reset(token)
        _RUN_SETTINGS.reset(settings_token)


def store() -> ObjectStore:
    """The store of this session (one per run), or a pointer to the sign-in page and a stop."""
    current = _RUN_STORE.get()
    if current is not None:
        return current
    state = session_state()
    if state is None:
        st.info("Sign in to an object store first (Sign in page).")
        st.page_link("views/sign_in.py", label="Sign in", icon=":material/login:")
        st.stop()
    with guard("Could not open the object store"):
        current = session_service.build_store(settings(), state)
    _RUN_STORE.set(current)
    return current


@contextmanager
def guard(what: str, progress: str | None = STORAGE_PROGRESS) -> Iterator[None]:
    """Show a core error as a clear message (and log it) instead of a traceback, then stop the page.

    While the block runs past half a second, ``progress`` is shown with the seconds spent: a slow object store looks
    busy, not dead (``None`` when the block shows its own progress).
    """
    try:
        with st.spinner(progress, show_time=True) if progress else nullcontext():
            yield
    except (TokenExpired, AuthenticationFailed) as exc:
        message = failure_message(what, exc)
        log.warning("%s", message)
        st.error(markdown_plain(message), icon=":material/lock:")
        st.page_link("views/sign_in.py", label="Sign in again", icon=":material/login:")
        st.stop()
    except MonitorError as exc:
        message = failure_message(what, exc)
        log.warning("%s", message)
        st.error(markdown_plain(message), icon=":material/error:")
        st.stop()


def attempt(what: str, action: Callable[[], T], *, if_missing: str = "") -> T | str:
    """Run ``action``; a core error comes back as the message to show (also logged) instead of being raised.

    ``if_missing`` is added to the message only when storage said the object is not there (never when it did not
    answer: "Swift did not answer" is not "it may have been removed").
    """
    try:
        return action()
    except MonitorError as exc:
        message = failure_message(what, exc)
        log.warning("%s", message)
        return message + (if_missing if isinstance(exc, NotFound) else "")


def header(title: str, caption: str) -> None:
    """Page title and one line of what it shows (both written by the page, never taken from data)."""
    st.title(title)
    st.caption(caption)


#: Object reads kept per process: logs are at most 20 MiB, frames and previews usually far less.
_CACHED_READS = 48


@dataclass(frozen=True)
class _Refused:
    """A read refused for its size (:class:`ObjectTooLarge`), kept in the cache like a result: the same version of
    the object is never decoded again to be refused again."""

    reason: str
    bucket: str | None
    obj: str | None

    def error(self) -> ObjectTooLarge:
        return ObjectTooLarge(self.reason, bucket=self.bucket, obj=self.obj)


@st.cache_data(max_entries=_CACHED_READS, show_spinner=False)
def _object_read(reader: str, identity: str, bucket: str, name: str, etag: str, args: tuple[Hashable, ...],
                 _read: Callable[..., Any], _store: ObjectStore) -> Any:
    try:
        return _read(_store, bucket, name, *args)
    except ObjectTooLarge as exc:
        return _Refused(exc.reason, exc.bucket, exc.obj)


def cached_read(read: Callable[..., T], current: ObjectStore, bucket: str, name: str, etag: str | None = None,
                *args: Hashable) -> T:
    """``read(current, bucket, name, *args)``, cached per reader, store identity, object, etag and ``args``.

    The key always holds ``current.identity`` (account and user), so a session only ever gets entries read with
    its own rights, even when another account has the same bucket and object names and the same bytes. A new
    version of the object has a new etag and is read again. ``etag=None`` asks storage for the current one (one
    HEAD: what an auto-refresh needs); an empty etag (unknown) reads without the cache. A refusal for size
    (:class:`ObjectTooLarge`) is cached like a result; other errors are never cached.
    """
    reader = f"{read.__module__}.{read.__qualname__}"
    if "<" in reader:  # a lambda or local function has no name stable across runs to key on
        raise TypeError(f"cached_read needs a module-level function, not {reader}")
    if etag is None:
        etag = current.head_object(bucket, name).etag
    if not etag:
        return read(current, bucket, name, *args)
    result = _object_read(reader, current.identity, bucket, name, etag, args, read, current)
    if isinstance(result, _Refused):
        raise result.error()
    return cast(T, result)


def described_run(current: ObjectStore, bucket: str, name: str, etag: str
                  ) -> tuple[pd.DataFrame, runs_service.RunInfo]:
    """One SACCT run and what it is (platform, rows, stored) from the same GET, through :func:`cached_read`."""
    return cached_read(runs_service.load_described_run, current, bucket, name, etag, settings().read_limits)


def _runs_key(runs: list[sacct_service.RunRef]) -> tuple[tuple[str, str], ...] | None:
    """The runs' objects and etags, what caches of what they hold key on; ``None`` when an etag is unknown."""
    key = tuple((run.object, run.etag) for run in runs)
    return None if any(not etag for _, etag in key) else key


@st.cache_data(max_entries=16, show_spinner=False)
def _sacct_frame(identity: str, bucket: str, key: tuple[tuple[str, str], ...], limits: Hashable,
                 _store: ObjectStore) -> tuple[pd.DataFrame, list[runs_service.RunInfo]]:
    return _combine([described_run(_store, bucket, name, etag) for name, etag in key])


def _combine(read: list[tuple[pd.DataFrame, runs_service.RunInfo]]) -> tuple[pd.DataFrame, list[runs_service.RunInfo]]:
    return sacct_service.combine([frame for frame, _ in read]), [info for _, info in read]


def sacct_frame(current: ObjectStore, bucket: str, runs: list[sacct_service.RunRef]
                ) -> tuple[pd.DataFrame, list[runs_service.RunInfo]]:
    """Several runs in one frame (:func:`core.services.sacct.combine`) and what each run is, cached per store
    identity and the runs' objects and etags: a page view of unchanged runs neither reads nor concatenates again,
    and no run is asked for its metadata apart from its own read."""
    key = _runs_key(runs)
    # One run is its own cached read (no second copy of a big run in memory).
    if key is None or len(key) == 1:
        return _combine([described_run(current, bucket, run.object, run.etag) for run in runs])
    return _sacct_frame(current.identity, bucket, key, settings().read_limits, current)


@st.cache_data(max_entries=32, show_spinner=False)
def _sacct_metrics(identity: str, bucket: str, key: tuple[tuple[str, str], ...], _frames: list[pd.DataFrame]
                   ) -> pd.DataFrame:
    return sacct_selection.metrics(sacct_service.combine(_frames))


def sacct_metrics(current: ObjectStore, bucket: str, runs: list[sacct_service.RunRef], frames: list[pd.DataFrame]
                  ) -> pd.DataFrame:
    """Per-job metrics (:func:`core.services.sacct.metrics`) of ``frames``, the runs ``runs`` as read (one frame
    each, or their combined frame), cached per store identity and the runs' objects and etags."""
    key = _runs_key(runs)
    if key is None:
        return sacct_selection.metrics(sacct_service.combine(frames))
    return _sacct_metrics(current.identity, bucket, key, frames)


@st.cache_data(max_entries=64, show_spinner=False)
def _folder_total(identity: str, bucket: str, prefix: str, bucket_state: Hashable, _store: ObjectStore
                  ) -> buckets_service.FolderTotal:
    return buckets_service.folder_total(_store, bucket, prefix)


def folder_total(current: ObjectStore, bucket: str, prefix: str, bucket_state: Hashable
                 ) -> buckets_service.FolderTotal:
    """Objects and bytes under ``prefix`` (:func:`core.services.buckets.folder_total`: up to 10,000 objects listed),
    cached per store identity, folder and ``bucket_state`` (the bucket's object count, bytes and last change from
    the bucket table, read on every view anyway): counted again only when the bucket changed."""
    return _folder_total(current.identity, bucket, prefix, bucket_state, current)


def with_sizes(frame: pd.DataFrame, columns: tuple[str, ...] = ("size",)) -> Any:
    """``frame`` with the byte counts of ``columns`` shown in binary units (``14.29 KiB``); the values stay numbers,
    so a header click sorts them as numbers. An unknown size is an empty cell."""
    return frame.style.format(dict.fromkeys(columns, iec_size), na_rep="")


def dataframe(data: Any, **options: Any) -> Any:
    """``st.dataframe`` as every page shows a table: a missing value is an empty cell, as sacct prints one (the grid
    draws the word "None" unless told otherwise, whatever text a Styler gives the cell)."""
    return st.dataframe(data, placeholder="", **options)


def sacct_table(table: tables.Table, *, key: str, selectable: bool = True) -> list[int]:
    """A sacct table with Slurm's headers: values stay numbers (columns sort as numbers), the cells read as sacct
    prints them ([D-]HH:MM:SS, binary units, dates in the cluster's zone), unknown values empty, each column's help
    on its header. Returns the positions of the rows the user selected."""
    frame = table.frame
    config: dict[str, Any] = {}
    if frame.size <= int(pd.options.styler.render.max_elements):
        shown: Any = frame.style.format(
            {c: partial(tables.cell_text, kind, zone=table.zone) for c, kind in table.kinds.items()})
        config = {c: st.column_config.Column(help=text) for c, text in table.help.items()}
    else:  # Too many cells to style: the grid's own formats with the units core.services.tables chooses per column.
        shown = frame.copy()
        for column, kind in table.kinds.items():
            grid = tables.grid_column(kind, frame[column], table.zone)
            shown[column] = grid.values
            text = table.help.get(column)
            if grid.is_time:
                config[column] = st.column_config.DatetimeColumn(format="YYYY-MM-DDTHH:mm:ss", help=text)
            elif grid.right:
                config[column] = st.column_config.TextColumn(alignment="right", help=text)
            elif grid.number_format:
                config[column] = st.column_config.NumberColumn(format=grid.number_format, help=text)
            elif text:
                config[column] = st.column_config.Column(help=text)
    if not selectable:
        dataframe(shown, hide_index=True, width="stretch", column_config=config, key=key)
        return []
    event = dataframe(shown, hide_index=True, width="stretch", column_config=config, key=key, on_select="rerun",
                      selection_mode="single-row")
    return list(event.selection.rows)


# A resource, not data: the prepared year (about 100 MiB for 1,000,000 jobs) is shared by the sessions that read the
# same objects with the same rights, never copied or pickled; nothing writes to it (pandas' copy-on-write keeps
# every frame derived from it apart).
@st.cache_resource(max_entries=4, show_spinner=False)
def _history_jobs(identity: str, key: tuple[tuple[str, str], ...], rules: str, _months: list[history_service.MonthRef],
                  _store: ObjectStore, _settings: Settings) -> pd.DataFrame:
    return history_service.page_jobs(_store, _settings, _months)


def history_cache_clear() -> None:
    """Forget every prepared history (what a new app process starts with)."""
    _history_jobs.clear()


def _history_key(months: list[history_service.MonthRef]) -> tuple[tuple[str, str], ...]:
    return tuple((m.jobs.name, m.jobs.hash) for m in months if m.jobs is not None)


def _history_rules(current: Settings) -> str:
    """The settings a prepared history depends on: the time zone of its days and the billing rates."""
    return f"{current.sacct_timezone}|{current.billing!r}"


def history_jobs(current: ObjectStore, months: list[history_service.MonthRef]) -> pd.DataFrame:
    """The jobs of ``months`` prepared for the History page (:func:`core.services.history.page_jobs`), cached per
    store identity, the months' objects and etags and the settings they depend on: a month is read again only when
    a collection or an upload rewrote it."""
    current_settings = settings()
    return _history_jobs(current.identity, _history_key(months), _history_rules(current_settings), months, current,
                         current_settings)


@st.cache_data(max_entries=32, show_spinner=False)
def _history_table(identity: str, key: tuple[tuple[str, str], ...], rules: str, period: str, group: str,
                   first: date, last: date, _months: list[history_service.MonthRef], _store: ObjectStore,
                   _settings: Settings) -> pd.DataFrame:
    jobs = _history_jobs(identity, key, rules, _months, _store, _settings)
    return history_service.summarize(jobs, period, group,
                                     history_service.in_days(jobs, first, last, _settings.sacct_timezone))


@st.cache_data(max_entries=8, show_spinner=False)
def _history_comparison(identity: str, key: tuple[tuple[str, str], ...], rules: str, today: date,
                        _months: list[history_service.MonthRef], _store: ObjectStore,
                        _settings: Settings) -> pd.DataFrame:
    return history_service.compare_months(_history_jobs(identity, key, rules, _months, _store, _settings), today)


def history_comparison(current: ObjectStore, months: list[history_service.MonthRef], today: date) -> pd.DataFrame:
    """:func:`core.services.history.compare_months` of the jobs of ``months``, cached like :func:`history_table`."""
    current_settings = settings()
    return _history_comparison(current.identity, _history_key(months), _history_rules(current_settings), today,
                               months, current, current_settings)


def history_table(current: ObjectStore, months: list[history_service.MonthRef], period: str, group: str,
                  first: date, last: date) -> pd.DataFrame:
    """:func:`core.services.history.summarize` of the jobs in ``first``..``last``, cached like :func:`history_jobs`
    and on the choices; a rerun with the same choices reads nothing and groups nothing."""
    current_settings = settings()
    return _history_table(current.identity, _history_key(months), _history_rules(current_settings), period, group,
                          first, last, months, current, current_settings)
