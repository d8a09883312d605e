"""A folder's objects: every object under a prefix, none while the bucket does not exist yet."""

from __future__ import annotations

from core.errors import NotFound
from core.store.base import ObjectEntry, ObjectStore


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
