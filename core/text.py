"""Text from files and storage, made safe for the places that render markup.

Streamlit renders Markdown (links, images, ``:red[...]`` directives, ``:material/...:`` icons) in messages, captions,
metric labels, tab and button labels; Plotly renders a subset of HTML (``<b>``, ``<a href>``, ``<span style>``) in
hover text, axis and legend labels and titles. A job name, an object name or a management value reaches both, so it
goes through one of these functions first and is shown exactly as it was written, never as markup.
"""

from __future__ import annotations

import html
import re

import pandas as pd

# The characters Markdown and Streamlit act on (emphasis, links and images, headings, lists, tables, HTML, entities,
# ``$`` maths, ``:directive[...]`` and ``:icon:``); a backslash makes each one literal.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~:&])")
# GFM turns bare URLs, ``www.`` names and e-mail addresses into links after escapes are resolved, so backslashes do
# not stop it: an invisible word joiner (U+2060) inside the pattern does, and the text still reads the same.
_AUTOLINK = re.compile(r"(?i)(\b(?:https?|ftp|mailto|file|data|javascript)(?=\\:)|\bwww(?=\\\.)|@(?=\w))")
_WORD_JOINER = "\u2060"
_PLOTLY_MARKUP = re.compile(r"[<>&]")


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 finding``, ``2 findings``, ``1,243 jobs``: a count with its noun in the right number."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def markdown_plain(text: object) -> str:
    """``text`` escaped so that a Markdown sink (``st.error``, ``st.caption``, labels) shows it literally.

    Args:
        text: any value; it is converted with ``str`` first.

    Returns:
        The text with every character Markdown acts on backslash-escaped and autolinks broken by a word joiner
        (a newline stays a newline).
    """
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", str(text))
    return _AUTOLINK.sub(lambda match: match.group(1) + _WORD_JOINER, escaped)


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
