"""Swift's listing rules (prefix, delimiter, marker, limit) over a sorted list of names, and a folder's objects.

LocalStore lists with these rules so that both backends page and fold folders the same way.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence

from core.errors import NotFound
from core.store.base import FolderEntry, ObjectEntry, ObjectPage, ObjectStore


def page_of(
    names: Sequence[str],
    entry: Callable[[str], ObjectEntry],
    *,
    prefix: str = "",
    delimiter: str | None = None,
    marker: str | None = None,
    limit: int,
) -> ObjectPage:
    """One page of a listing over ``names`` (sorted in code point order, which is UTF-8 byte order).

    Names after ``marker`` that start with ``prefix`` are taken in order; with a ``delimiter``, a name that has it
    after the prefix folds into the folder ``name[: index + 1]`` (given once, and not again when it is the marker,
    as Swift does). ``next_marker`` is the last entry when more entries follow, else ``None``.
    """
    start = bisect_left(names, prefix)
    if marker:
        start = max(start, bisect_right(names, marker))
    objects: list[ObjectEntry] = []
    folders: list[FolderEntry] = []
    order: list[str] = []
    i = start
    while i < len(names) and len(order) < limit:
        name = names[i]
        if not name.startswith(prefix):
            break
        if delimiter:
            cut = name.find(delimiter, len(prefix))
            if cut >= 0:
                folder = name[: cut + len(delimiter)]
                if folder != marker:
                    folders.append(FolderEntry(folder))
                    order.append(folder)
                # Every other name inside this folder sorts before folder + U+10FFFF: skip them all.
                i = bisect_left(names, folder + "\U0010ffff", lo=i)
                continue
        objects.append(entry(name))
        order.append(name)
        i += 1
    more = i < len(names) and names[i].startswith(prefix)
    next_marker = order[-1] if order and more else None
    return ObjectPage(objects=objects, folders=folders, next_marker=next_marker)


def objects_under(store: ObjectStore, bucket: str, prefix: str) -> list[ObjectEntry]:
    """Every object of ``bucket`` under ``prefix``; none while the bucket does not exist (nothing stored there yet).

    Args:
        store: the object store.
        bucket: the bucket (Swift container).
        prefix: the folder, e.g. ``LOGS/``.

    Returns:
        The entries in name order, as listed.
    """
    try:
        return list(store.iter_objects(bucket, prefix=prefix))
    except NotFound:
        return []
