"""The custom object metadata codec of the seed (``x-object-meta-<key>``) and the split of Swift headers.

Encoding: ``{"version": 2, "tags": ["a", "b"]}`` → ``{"x-object-meta-version": "2",
"x-object-meta-tags": "list=a,b"}``. Decoding turns a value back into an ``int`` when it is an integer literal, a
``float`` when it is a decimal literal, and a ``list`` when it starts with ``list=`` (of ints when every item is an
integer literal, else of strings). So what round-trips exactly is: ints, finite floats, strings that do not look like
numbers or start with ``list=``, and lists of ints or of strings without commas that do not look like integers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

#: A decoded custom metadata value.
MetaValue = str | int | float | list[int] | list[str]

CUSTOM_PREFIX = "x-object-meta-"
LIST_PREFIX = "list="

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_INT = re.compile(r"^-?\d+$")
_FLOAT = re.compile(r"^-?\d+\.\d+(?:e[+-]?\d+)?$")


def _check_value(key: str, text: str) -> str:
    if "\r" in text or "\n" in text or "\x00" in text:
        raise ValueError(f"metadata {key!r}: a value cannot contain line breaks or NUL")
    return text


def encode_metadata(metadata: Mapping[str, MetaValue]) -> dict[str, str]:
    """Encode custom metadata as Swift headers; keys are lower-case ``[a-z0-9_-]``."""
    headers: dict[str, str] = {}
    for key, value in metadata.items():
        if not _KEY.match(key):
            raise ValueError(f"metadata key {key!r}: use lower-case letters, digits, '-' and '_'")
        if isinstance(value, bool):
            raise ValueError(f"metadata {key!r}: booleans are not part of the codec; use 0/1 or a word")
        if isinstance(value, list):
            items = [str(item) for item in value]
            if any("," in item for item in items):
                raise ValueError(f"metadata {key!r}: list items cannot contain ','")
            text = LIST_PREFIX + ",".join(items)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"metadata {key!r}: {value} is not a finite number")
            text = repr(value)
        else:
            text = str(value)
        headers[CUSTOM_PREFIX + key] = _check_value(key, text)
    return headers


def decode_value(text: str) -> MetaValue:
    """Decode one header value (see the module docstring for the rules)."""
    if text.startswith(LIST_PREFIX):
        body = text[len(LIST_PREFIX) :]
        if body == "":
            return []
        items = body.split(",")
        if all(_INT.match(item) for item in items):
            return [int(item) for item in items]
        return items
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text.lower()):
        return float(text)
    return text


def decode_metadata(headers: Mapping[str, str]) -> dict[str, MetaValue]:
    """Decode the ``x-object-meta-*`` headers (any case) into custom metadata without the prefix."""
    custom: dict[str, MetaValue] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower.startswith(CUSTOM_PREFIX):
            custom[lower[len(CUSTOM_PREFIX) :]] = decode_value(value)
    return custom


def split_headers(headers: Mapping[str, str]) -> tuple[dict[str, str], dict[str, MetaValue]]:
    """Split response headers into general (lower-case names) and decoded custom metadata."""
    general = {name.lower(): value for name, value in headers.items() if not name.lower().startswith(CUSTOM_PREFIX)}
    return general, decode_metadata(headers)
