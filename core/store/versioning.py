"""Versioned writes that never lose a version and never give one number twice.

The seed numbers the versions of an object in its ``version`` metadata (1, 2, ...) and replaced an object by
deleting it first. Here a write of version *n* of ``<path>``:

1. claims the slot object ``.versions/<path>/<n:010d>`` with a conditional create (Swift ``If-None-Match: *``,
   a hard link locally) holding the data; if another writer claimed *n* first the write gets
   :class:`core.errors.Conflict` and tries *n + 1* — so two writers never get the same number, and a version that
   was given a number is stored whole before anything points to it;
2. writes ``<path>`` itself (data and ``version`` = *n*), an atomic replace: readers of ``<path>`` see the previous
   version until the new one is complete, and a failed upload leaves the previous version as it was;
3. lists the slots again and, while a higher version than the one it last wrote exists, copies the highest slot to
   ``<path>``. The last write to ``<path>`` is therefore always followed by a check that sees every claimed slot,
   so ``<path>`` ends at the highest version whatever the interleaving.

Nothing is ever deleted.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.errors import Conflict, NotFound
from core.store.base import MetaValue, ObjectMetadata, ObjectStore

VERSIONS_PREFIX = ".versions/"
#: Bound on claim attempts; only reached by a flood of concurrent writers.
MAX_CLAIMS = 1000


def slot_name(name: str, version: int) -> str:
    """The object holding version ``version`` of ``name``."""
    return f"{VERSIONS_PREFIX}{name}/{version:010d}"


def list_versions(store: ObjectStore, bucket: str, name: str) -> list[int]:
    """The stored version numbers of ``name``, ascending (empty when it has none or the bucket is missing)."""
    prefix = f"{VERSIONS_PREFIX}{name}/"
    try:
        entries = list(store.iter_objects(bucket, prefix=prefix))
    except NotFound:
        return []
    versions = []
    for entry in entries:
        tail = entry.name[len(prefix) :]
        if tail.isdigit():
            versions.append(int(tail))
    return sorted(versions)


def get_version(store: ObjectStore, bucket: str, name: str, version: int) -> tuple[ObjectMetadata, bytes]:
    """Metadata and content of one stored version."""
    return store.get_object(bucket, slot_name(name, version))


def put_versioned(
    store: ObjectStore,
    bucket: str,
    name: str,
    data: bytes,
    *,
    metadata: Mapping[str, MetaValue] | None = None,
    content_type: str | None = None,
) -> int:
    """Store ``data`` as the next version of ``name`` and return its number (see the module docstring)."""
    existing = list_versions(store, bucket, name)
    version = (existing[-1] if existing else _current_version(store, bucket, name)) + 1
    for _ in range(MAX_CLAIMS):
        meta = {**(metadata or {}), "version": version}
        try:
            store.put_object(bucket, slot_name(name, version), data, metadata=meta, content_type=content_type,
                             if_none_match=True)
            break
        except Conflict:
            version += 1
    else:  # pragma: no cover - needs more than MAX_CLAIMS concurrent writers
        raise Conflict(f"could not claim a version after {MAX_CLAIMS} tries", bucket=bucket, obj=name)
    store.put_object(bucket, name, data, metadata={**(metadata or {}), "version": version},
                     content_type=content_type)
    written = version
    while True:
        highest = list_versions(store, bucket, name)[-1]
        if highest <= written:
            return version
        slot_meta, slot_data = get_version(store, bucket, name, highest)
        store.put_object(bucket, name, slot_data, metadata=slot_meta.custom, content_type=slot_meta.content_type)
        written = highest


def _current_version(store: ObjectStore, bucket: str, name: str) -> int:
    """The version of an object written before versioning (the seed's plain write), 0 when there is none."""
    try:
        value = store.head_object(bucket, name).custom.get("version", 0)
    except NotFound:
        return 0
    return value if isinstance(value, int) else 0
