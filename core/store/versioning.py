"""Versioned writes that never lose a version and never give one number twice.

The seed numbers the versions of an object in its ``version`` metadata (1, 2, ...) and replaced an object by
deleting it first. Here a write of ``<path>`` with data *d*:

1. **claims** a number *n*: a tiny slot object ``.versions/<path>/<n:010d>`` holding a random claim token, written
   with a conditional create (``If-None-Match: *`` in Swift, a hard link locally). If the slot exists the write
   gets :class:`core.errors.Conflict` and tries *n + 1*. A directory makes that create atomic. Swift checks
   ``If-None-Match`` when a PUT starts, so two PUTs in flight at the same moment can both pass; Swift then keeps the
   one with the newer timestamp (and refuses an older one that lands later with 409). So on Swift the writer waits
   :data:`SETTLE_SECONDS` (far longer than a claim PUT of a few bytes takes on a healthy cluster), reads the slot
   back and keeps the number only if the token there is its own; otherwise it tries *n + 1*. Exactly one writer
   finds its token in a slot, so no number is given twice and none is skipped;
2. writes *d* into its slot (``version`` = *n* in the metadata): every version stays readable;
3. writes ``<path>`` itself: an atomic replace, so readers see the previous version until the new one is complete
   and a failed or interrupted upload leaves the previous version as it was;
4. lists the slots again and, while a higher version than the one it last wrote holds data, copies that slot to
   ``<path>``. The last write to ``<path>`` is always followed by such a check, so ``<path>`` ends at the highest
   complete version whatever the interleaving.

Nothing is ever deleted.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping

from core.errors import Conflict, NotFound
from core.store.base import MetaValue, ObjectMetadata, ObjectStore

VERSIONS_PREFIX = ".versions/"
#: Bound on claim attempts; only reached by a flood of concurrent writers.
MAX_CLAIMS = 1000
#: How long a Swift writer lets racing claim PUTs land before it reads its slot back.
SETTLE_SECONDS = 1.0


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
    version = _claim(store, bucket, name, (existing[-1] if existing else _current_version(store, bucket, name)) + 1)
    meta = {**(metadata or {}), "version": version}
    store.put_object(bucket, slot_name(name, version), data, metadata=meta, content_type=content_type)
    store.put_object(bucket, name, data, metadata=meta, content_type=content_type)
    written = version
    while True:
        newer = [v for v in list_versions(store, bucket, name) if v > written]
        if not newer:
            return version
        slot_meta, slot_data = get_version(store, bucket, name, newer[-1])
        if "version" not in slot_meta.custom:
            return version  # still only claimed: its writer copies it to <path> when its data is in
        store.put_object(bucket, name, slot_data, metadata=slot_meta.custom, content_type=slot_meta.content_type)
        written = newer[-1]


def _claim(store: ObjectStore, bucket: str, name: str, first: int) -> int:
    token = uuid.uuid4().hex
    version = first
    for _ in range(MAX_CLAIMS):
        slot = slot_name(name, version)
        try:
            store.put_object(bucket, slot, token.encode(), metadata={"claim": token}, if_none_match=True)
        except Conflict:
            version += 1
            continue
        if store.atomic_create:
            return version
        time.sleep(SETTLE_SECONDS)
        if store.head_object(bucket, slot).custom.get("claim") == token:
            return version
        version += 1
    raise Conflict(f"could not claim a version after {MAX_CLAIMS} tries", bucket=bucket, obj=name)


def _current_version(store: ObjectStore, bucket: str, name: str) -> int:
    """The version of an object written before versioning (the seed's plain write), 0 when there is none."""
    try:
        value = store.head_object(bucket, name).custom.get("version", 0)
    except NotFound:
        return 0
    return value if isinstance(value, int) else 0
