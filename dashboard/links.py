"""Every view in its URL, and links between the pages.

Widgets keep their value in the URL themselves (``bind="query-params"`` with ``persist_state="session"``), except on
the pages that open the job page from a row click (see :func:`seed`). The rest of a view (the folder of the bucket
browser, the object opened from a table row, the log line shown, those pages' widgets) goes through
:class:`ViewParams`: read once at the top of a page, written when it changes, and remembered per browser session so
that leaving the page and coming back (sidebar links carry no parameters) reopens the same view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import streamlit as st

from core.text import markdown_plain

MANAGEMENT = "views/management.py"
SACCT = "views/sacct.py"
LOGS = "views/logs.py"
JOB = "views/job.py"
PIPELINE = "views/pipeline.py"
_MEMORY = "view-params:"


class ViewParams:
    """The URL parameters of one page that are not bound widget values."""

    def __init__(self, page: str, own: Sequence[str], bound: Sequence[str] = ()) -> None:
        """Read the page's parameters once: from the URL when it names a view of this page, else from memory.

        ``own`` are the parameters this object manages, ``bound`` the page's bound widget parameters: a URL carrying
        any of them is a view someone opened on purpose, so nothing remembered is added to it.
        """
        self._memory_key = f"{_MEMORY}{page}"
        memory: dict[str, list[str]] = st.session_state.setdefault(self._memory_key, {})
        if any(key in st.query_params for key in (*own, *bound)):
            memory.clear()
            memory.update({key: st.query_params.get_all(key) for key in own if key in st.query_params})
        else:
            for key, values in memory.items():
                st.query_params[key] = values
        self._values = {key: list(values) for key, values in memory.items()}

    def get(self, key: str) -> str | None:
        """The parameter's (first) value, or ``None``."""
        values = self._values.get(key)
        return values[0] if values else None

    def get_all(self, key: str) -> list[str]:
        """Every value of a repeated parameter (``?runs=a&runs=b``)."""
        return list(self._values.get(key, []))

    def set(self, key: str, value: str | Sequence[str] | None) -> None:
        """Put ``value`` in the URL (``None`` or empty removes it) and remember it for this session."""
        values = [value] if isinstance(value, str) else list(value or [])
        values = [v for v in values if v]
        memory: dict[str, list[str]] = st.session_state.setdefault(self._memory_key, {})
        if values:
            self._values[key] = memory[key] = values
            if st.query_params.get_all(key) != values:
                st.query_params[key] = values
        else:
            self._values.pop(key, None)
            memory.pop(key, None)
            if key in st.query_params:
                del st.query_params[key]

    def keep(self, key: str, value: str | Sequence[str] | None, default: str | Sequence[str] | None) -> None:
        """:meth:`set` ``value``, or remove the parameter when it is the page's default (short URLs)."""
        self.set(key, None if value == default else value)


def seed(widget_key: str, value: object) -> None:
    """Start widget ``widget_key`` at ``value`` when it is drawn for the first time on this visit of the page.

    Afterwards the widget's own state wins. Used instead of ``bind="query-params"`` on pages that open another page
    from a row click: ``st.switch_page`` cannot clear a URL that holds bound parameters.
    """
    if widget_key not in st.session_state:
        st.session_state[widget_key] = value


def seed_choice(widget_key: str, value: str, options: Sequence[str]) -> None:
    """:func:`seed` for a selectbox; a value its options no longer hold is replaced by ``value``."""
    if st.session_state.get(widget_key) not in options:
        st.session_state[widget_key] = value


def seed_choices(widget_key: str, values: Sequence[str], options: Sequence[str]) -> None:
    """:func:`seed` for a multiselect; a value its options no longer hold (another run chosen) is dropped."""
    allowed = set(options)
    current = st.session_state.get(widget_key)
    if isinstance(current, list):
        if any(v not in allowed for v in current):
            st.session_state[widget_key] = [v for v in current if v in allowed]
    else:
        st.session_state[widget_key] = [v for v in values if v in allowed]


def open_job(params: dict[str, str]) -> NoReturn:
    """Switch to the job page showing ``params`` (``JobKey.query_params()``); the calling page binds no widget."""
    st.switch_page(JOB, query_params=params)


def plain(text: str) -> str:
    """``text`` for a Markdown-rendering widget (warnings, captions, labels): every Markdown character escaped."""
    return markdown_plain(text)


def unknown_values(key: str, known: Sequence[str]) -> list[str]:
    """Values of URL parameter ``key`` that are not among ``known`` (read before the bound widget drops them)."""
    allowed = set(known)
    return [value for value in st.query_params.get_all(key) if value not in allowed]


def stale(what: str, values: Sequence[str], fallback: str) -> None:
    """Say that a link named something that is not there (any more), and what is shown instead."""
    names = ", ".join(plain(repr(v)) for v in values)
    st.warning(f"The link names {what} {names}, which is not there or not readable. Showing {fallback} instead.",
               icon=":material/link_off:")
