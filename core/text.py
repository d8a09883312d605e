"""Text from files and storage, made safe for the places that render markup.

Streamlit renders Markdown (links, images, ``:red[...]`` directives, ``:material/...:`` icons) in messages, captions,
metric labels, tab and button labels; Plotly renders a subset of HTML (``<b>``, ``<a href>``, ``<span style>``) in
hover text, axis and legend labels and titles. A job name, an object name or a management value reaches both, so it
goes through one of these functions first and is shown exactly as it was written, never as markup.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd
import re2

# The characters Markdown and Streamlit act on (emphasis, links and images, headings, lists, tables, HTML, entities,
# ``$`` maths, ``:directive[...]`` and ``:icon:``); a backslash makes each one literal.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~:&])")
# GFM turns bare URLs, ``www.`` names and e-mail addresses into links after escapes are resolved, so backslashes do
# not stop it: an invisible word joiner (U+2060) inside the pattern does, and the text still reads the same.
_AUTOLINK = re.compile(r"(?i)(\b(?:https?|ftp|mailto|file|data|javascript)(?=\\:)|\bwww(?=\\\.)|@(?=\w))")
_WORD_JOINER = "\u2060"
# A colon and the name after it: it starts an icon or emoji code (``:material/home:``, ``:smile:``, ``:100:``) when
# the name has a letter (or is one of the all-digit emoji codes) and a colon follows, a directive (``:red[...]``)
# when ``[`` follows. The name stops before the next colon, so codes that share a colon are each found. One pass,
# no backtracking: a single class repeated.
_ICON_START = re.compile(r":[\w+\-/]*")
_ALL_DIGIT_CODES = frozenset({"100", "1234"})
_PLOTLY_MARKUP = re.compile(r"[<>&]")
# What a terminal acts on: C0 and C1 controls but newline and tab (escape sequences, carriage return, backspace,
# bell), the line and paragraph separators, and the bidirectional overrides that reorder what is shown.
_TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def linear_pattern(pattern: str) -> Any:
    """``pattern`` compiled by RE2, whose matching time is linear in the text (no backtracking).

    Every pattern that runs over stored or uploaded text (log lines, sizes, names read from objects) is compiled
    here, so one hostile line cannot hold a CPU of the server for minutes. The object has ``re``'s ``search``,
    ``match``, ``finditer``, ``sub``; flags are written inline (``(?i)``).
    """
    return re2.compile(pattern)


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 finding``, ``2 findings``, ``1,243 jobs``: a count with its noun in the right number."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def markdown_plain(text: object) -> str:
    """``text`` escaped so that a Markdown sink (``st.error``, ``st.caption``, labels) shows it literally.

    Args:
        text: any value; it is converted with ``str`` first.

    Returns:
        The text with every character Markdown acts on backslash-escaped, and autolinks and icon codes broken by a
        word joiner (a newline stays a newline).
    """
    raw = str(text)
    # Streamlit turns ``:material/name:`` (and ``:emoji:`` short codes, ``:red[...]``) into icons and colours by plain
    # text replacement before Markdown resolves escapes: a word joiner after a colon that starts one keeps it text.
    # Other colons stay as typed, so a time or a directive (``--time=00:56:00``) copies as it reads.
    parts, last = [], 0
    for match in _ICON_START.finditer(raw):
        name, after = match.group()[1:], raw[match.end():match.end() + 1]
        code = after == ":" and (any(c.isascii() and c.isalpha() for c in name) or name in _ALL_DIGIT_CODES)
        if code or (after == "[" and name):
            parts += [_MARKDOWN_PUNCTUATION.sub(r"\\\1", raw[last:match.start()]), "\\:" + _WORD_JOINER]
            last = match.start() + 1
    parts.append(_MARKDOWN_PUNCTUATION.sub(r"\\\1", raw[last:]))
    return _AUTOLINK.sub(lambda match: match.group(1) + _WORD_JOINER, "".join(parts))


def terminal_plain(text: object) -> str:
    """``text`` for a terminal: every control character but newline and tab written as its escape (``ESC`` as ``x1b``).

    A file, bucket or object name then shows what it holds and cannot clear the screen, move the cursor or hide
    part of a message.
    """
    return _TERMINAL_CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), str(text))


def plotly_plain(text: object) -> str:
    """``text`` HTML-escaped for Plotly (hover text, tick, legend and title text), which decodes the entities back.

    Args:
        text: any value; it is converted with ``str`` first.

    Returns:
        The text with ``&``, ``<`` and ``>`` replaced by entities.
    """
    return html.escape(str(text), quote=False)


def plotly_plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text columns are :func:`plotly_plain`; numbers, dates and missing values stay.

    Only columns that hold a ``<``, ``>`` or ``&`` are rewritten, so the usual frame costs one vectorised scan per
    text column.

    Args:
        frame: the data a chart is built from.

    Returns:
        ``frame`` itself when nothing needs escaping, else a copy with the affected columns escaped.
    """
    changed: dict[str, pd.Series] = {}
    for column in frame.columns:
        series = frame[column]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)
                or isinstance(series.dtype, pd.CategoricalDtype)):
            continue
        text = series.astype("string")
        if not text.str.contains(_PLOTLY_MARKUP.pattern, regex=True).fillna(False).any():
            continue
        escaped = text.str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False)
        changed[str(column)] = escaped.str.replace(">", "&gt;", regex=False).astype(object).where(series.notna())
    return frame.assign(**changed) if changed else frame
