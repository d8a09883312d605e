"""Versioned writes: every write is a new immutable object, and a version's number is its rank in a listing.

The seed numbers the versions of an object in its ``version`` metadata (1, 2, ...). Here a write of ``<path>``
with data *d*:

1. **stores** *d* once, with its metadata, as ``.versions/<path>/<stamp>-<random>``: a nanosecond time stamp and
   64 random bits, so no two writers ever pick the same name and nothing needs a conditional create (neither Swift
   nor Ceph RGW makes ``If-None-Match`` atomic under concurrent PUTs). A PUT is atomic in both: a failed or
   interrupted write leaves no object at all, so it leaves no hole in the numbering;
2. **numbers** it: the versions are the objects under ``.versions/<path>/`` in name (time) order; version *n* is
   the *n*-th one, after the number ``<path>`` had when versioning began (``version-base``, e.g. 4 for an object
   the seed wrote as version 4). A number is never stored in a version object, so none can be given twice or
   skipped;
3. **publishes** ``<path>``: the newest version in the listing, with ``version`` = its number, replaces
   ``<path>`` atomically (readers see the previous version until then). Storage copies it (``copy_object``: a
   COPY, which Swift's copy middleware and Ceph RGW serve, the latter as documented in the Ceph Object Gateway's
   "Swift copy an object"), so the data travels to storage once. It then lists
   again; while the listing changed (a concurrent writer landed, possibly with an earlier stamp) it publishes the
   newest again and lists again, so ``<path>`` ends at the newest version whatever the interleaving, and the writer
   takes its number from two listings that agree across a publish (a copy as large as its own data: time for
   writers in flight to land).
   Without a concurrent writer that is one extra listing: no fixed sleep.

Without a conditional create nothing can make concurrent writers agree on numbers without waiting for each other
(consensus cannot be built from plain reads and writes); the wait here is only as long as writers are in flight.

Where creating an object is atomic (``atomic_create``: a local store, whose database refuses a second row of the
same name), step 1 creates the version object under its number instead (``.versions/<path>/<n:010d>``, the next
free one): no settling is needed there. Such numbered version objects (also those of the earlier scheme) keep their
number; stamped ones are numbered after them. Nothing is ever deleted.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from core.errors import Conflict, NotFound, StoreError
from core.store.base import MetaValue, ObjectEntry, ObjectMetadata, ObjectStore
from core.store.listing import objects_under

VERSIONS_PREFIX = ".versions/"
#: Bound on publish rounds (only a flood of writers reaches it).
MAX_ROUNDS = 50
_STAMP_DIGITS = 20
_LEGACY_DIGITS = 10


@dataclass(frozen=True)
class Version:
    """One stored version of an object: its number and the object holding it."""

    number: int
    entry: ObjectEntry


def versions_folder(name: str) -> str:
    """The folder holding the versions of ``name``."""
    return f"{VERSIONS_PREFIX}{name}/"


def version_of(name: str) -> str | None:
    """The object a version object belongs to (``.versions/<path>/<tail>`` → ``<path>``), else ``None``."""
    if not name.startswith(VERSIONS_PREFIX):
        return None
    path, _, tail = name[len(VERSIONS_PREFIX):].rpartition("/")
    return path if path and _is_version_tail(tail) else None


def _is_version_tail(tail: str) -> bool:
    if len(tail) == _LEGACY_DIGITS and tail.isdigit():
        return True
    stamp, _, token = tail.partition("-")
    return len(stamp) == _STAMP_DIGITS and stamp.isdigit() and len(token) == 16


def _base(store: ObjectStore, bucket: str, name: str) -> int:
    """The number ``<path>`` had before versioning began (0 for a new object)."""
    try:
        custom = store.head_object(bucket, name).custom
    except NotFound:
        return 0
    value = custom.get("version-base", custom.get("version", 0))
    return value if isinstance(value, int) and value >= 0 else 0


def _number(entries: list[ObjectEntry], prefix: str, base: int) -> list[Version]:
    numbered: list[Version] = []
    tails = [e.name[len(prefix):] for e in entries]
    rank = max([base, *(int(t) for t in tails if len(t) == _LEGACY_DIGITS and t.isdigit())])
    for entry in entries:  # in name order: legacy numbers first, then stamps in time order
        tail = entry.name[len(prefix):]
        if len(tail) == _LEGACY_DIGITS and tail.isdigit():
            numbered.append(Version(int(tail), entry))
        elif _is_version_tail(tail):
            rank += 1
            numbered.append(Version(rank, entry))
    return numbered


def _listing(store: ObjectStore, bucket: str, name: str) -> list[ObjectEntry]:
    return objects_under(store, bucket, versions_folder(name))


def list_version_entries(store: ObjectStore, bucket: str, name: str) -> list[Version]:
    """The stored versions of ``name``, oldest first (empty when it has none or the bucket is missing)."""
    return _number(_listing(store, bucket, name), versions_folder(name), _base(store, bucket, name))


def list_versions(store: ObjectStore, bucket: str, name: str) -> list[int]:
    """The stored version numbers of ``name``, ascending."""
    return [v.number for v in list_version_entries(store, bucket, name)]


def get_version(store: ObjectStore, bucket: str, name: str, version: int) -> tuple[ObjectMetadata, bytes]:
    """Metadata (with ``version``) and content of one stored version; NotFound if there is no such number."""
    for stored in list_version_entries(store, bucket, name):
        if stored.number == version:
            meta, data = store.get_object(bucket, stored.entry.name)
            return _with_version(meta, version), data
    raise NotFound(f"no version {version}", bucket=bucket, obj=name)


def _with_version(meta: ObjectMetadata, version: int) -> ObjectMetadata:
    return ObjectMetadata(meta.bucket, meta.name, meta.size, meta.etag, meta.content_type, meta.last_modified,
                          meta.general, {**meta.custom, "version": version})


def put_versioned(
    store: ObjectStore,
    bucket: str,
    name: str,
    data: bytes,
    *,
    metadata: Mapping[str, MetaValue] | None = None,
    content_type: str | None = None,
) -> int:
    """Store ``data`` as a new version of ``name`` and return its number (see the module docstring).

    Raises:
        StoreError: the version could not be stored (then nothing was stored) or ``<path>`` not published (then
            the version is stored and a later write brings ``<path>`` up to the newest version).
    """
    folder = versions_folder(name)
    meta = {k: v for k, v in (metadata or {}).items() if k not in ("version", "version-base")}
    if store.atomic_create:
        base = _base(store, bucket, name)
        own = _create_numbered(store, bucket, name, base, data, meta, content_type)
    else:
        own = f"{folder}{time.time_ns():0{_STAMP_DIGITS}d}-{secrets.token_hex(8)}"
        with ThreadPoolExecutor(1) as pool:  # the HEAD that finds the base needs no wait for the data
            base_future = pool.submit(_base, store, bucket, name)
            store.put_object(bucket, own, data, metadata=meta, content_type=content_type)
            base = base_future.result()
    listing = _listing(store, bucket, name)
    published: list[str] = []
    for _ in range(MAX_ROUNDS):
        versions = _number(listing, folder, base)
        if versions and (not published or versions[-1].entry.name != published[-1]):
            _publish_or_roll_back(store, bucket, name, base, versions[-1], own)
            published.append(versions[-1].entry.name)
        again = _listing(store, bucket, name)
        if [e.name for e in again] == [e.name for e in listing]:
            break  # two listings a publish apart agree: the writers in flight have landed
        listing = again
    number = {v.entry.name: v.number for v in _number(listing, folder, base)}.get(own)
    if number is None:  # an eventually consistent listing that does not show our object yet
        raise Conflict("the new version was stored but is not listed yet; store again to number it",
                       bucket=bucket, obj=name)
    return number


def _create_numbered(store: ObjectStore, bucket: str, name: str, base: int, data: bytes,
                     meta: Mapping[str, MetaValue], content_type: str | None) -> str:
    """Where creating an object is atomic (a local store): the version object is created under its number."""
    folder = versions_folder(name)
    number = max([base, *list_versions(store, bucket, name)]) + 1
    for _ in range(MAX_ROUNDS * 20):
        own = f"{folder}{number:0{_LEGACY_DIGITS}d}"
        try:
            store.put_object(bucket, own, data, metadata=meta, content_type=content_type, if_none_match=True)
        except Conflict:
            number += 1
            continue
        return own
    raise Conflict("too many concurrent writers to number a new version", bucket=bucket, obj=name)


def _publish_or_roll_back(store: ObjectStore, bucket: str, name: str, base: int, newest: Version, own: str) -> None:
    """:func:`_publish`, finished or undone so that what the caller reports is what is stored.

    A COPY cut on its way back may have landed: ``<path>`` is read to see. One that did not land is tried once more;
    should that fail too, the write's own version is deleted again and the error says nothing was stored. Only when
    that delete fails too does the error say the version is stored and ``<path>`` not yet published.
    """
    try:
        _publish(store, bucket, name, base, newest)
        return
    except Conflict:
        raise
    except StoreError as first:
        cut = first
    if _shows(store, bucket, name, base, newest):
        return  # the copy landed; only its answer was lost
    try:
        _publish(store, bucket, name, base, newest)
        return
    except StoreError:
        pass
    if newest.entry.name != own:
        raise cut  # another writer's version: ours was never published over it, nothing of ours to undo
    try:
        store.delete_object(bucket, own)
    except StoreError:
        raise type(cut)(f"{cut.reason}; version {newest.number} is stored ({own}) but {name} still shows the one "
                        "before: the next store publishes it", bucket=bucket, obj=name) from None
    raise type(cut)(f"{cut.reason}; nothing was stored (the new version was removed again)",
                    bucket=bucket, obj=name) from None


def _shows(store: ObjectStore, bucket: str, name: str, base: int, version: Version) -> bool:
    """Whether ``<path>`` holds ``version`` (its metadata names that number on the same base)."""
    try:
        custom = store.head_object(bucket, name).custom
    except StoreError:
        return False
    return custom.get("version") == version.number and custom.get("version-base") == base


def _publish(store: ObjectStore, bucket: str, name: str, base: int, newest: Version) -> None:
    """Replace ``<path>`` by the version ``newest``: a copy that storage makes of it, so no data is sent again."""
    with contextlib.suppress(Conflict):  # 409: Swift kept a newer write of <path>; the next listing decides
        store.copy_object(bucket, newest.entry.name, name, metadata={"version": newest.number, "version-base": base})
