"""Every view in its URL, and links between the pages.

Widgets keep their value in the URL themselves (``bind="query-params"`` with ``persist_state="session"``). What is
not a widget (the folder of the bucket browser, the object opened from a table row, the log line shown) goes through
:class:`ViewParams`: read once at the top of a page, written when it changes, and remembered per browser session so
that leaving the page and coming back (sidebar links carry no parameters) reopens the same view.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import streamlit as st

BUCKETS = "views/buckets.py"
MANAGEMENT = "views/management.py"
TIMES = "views/times.py"
SACCT = "views/sacct.py"
LOGS = "views/logs.py"
JOB = "views/job.py"
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~:])")


class ViewParams:
    """The URL parameters of one page that are not widget values."""

    def __init__(self, page: str, own: Sequence[str], bound: Sequence[str] = ()) -> None:
        """Read the page's parameters once: from the URL when it names a view of this page, else from memory.

        ``own`` are the parameters this object manages, ``bound`` the page's widget parameters: a URL carrying any
        of them is a view someone opened on purpose, so nothing remembered is added to it.
        """
        self._memory_key = f"view-params:{page}"
        memory: dict[str, str] = st.session_state.setdefault(self._memory_key, {})
        opened = any(key in st.query_params for key in (*own, *bound))
        if opened:
            memory.clear()
            memory.update({key: st.query_params[key] for key in own if key in st.query_params})
        else:
            for key, value in memory.items():
                st.query_params[key] = value
        self._values = dict(memory)

    def get(self, key: str) -> str | None:
        """The parameter's value, or ``None``."""
        return self._values.get(key)

    def set(self, key: str, value: str | None) -> None:
        """Put ``value`` in the URL (``None`` or empty removes it) and remember it for this session."""
        memory: dict[str, str] = st.session_state.setdefault(self._memory_key, {})
        if value:
            self._values[key] = memory[key] = value
            if st.query_params.get(key) != value:
                st.query_params[key] = value
        else:
            self._values.pop(key, None)
            memory.pop(key, None)
            if key in st.query_params:
                del st.query_params[key]


def plain(text: str) -> str:
    """``text`` for a Markdown-rendering widget (warnings, captions, labels): every Markdown character escaped."""
    return _MARKDOWN.sub(r"\\\1", text)


def unknown_values(key: str, known: Sequence[str]) -> list[str]:
    """Values of URL parameter ``key`` that are not among ``known`` (read before the bound widget drops them)."""
    allowed = set(known)
    return [value for value in st.query_params.get_all(key) if value not in allowed]


def stale(what: str, values: Sequence[str], fallback: str) -> None:
    """Say that a link named something that is not there (any more), and what is shown instead."""
    names = ", ".join(plain(repr(v)) for v in values)
    st.warning(f"The link names {what} {names}, which is not there or not readable. Showing {fallback} instead.",
               icon=":material/link_off:")
