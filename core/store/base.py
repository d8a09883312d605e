"""The ``ObjectStore`` protocol: the only way the rest of the code reaches storage.

Two backends implement it: :class:`core.store.swift.SwiftStore` (OpenStack Swift behind Keystone, e.g. CSC Allas)
and :class:`core.store.local.LocalStore` (a directory; the embedded default). Both raise only the errors of
:mod:`core.errors`, and one behavioural test suite runs against both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from core.metadata import MetaValue as MetaValue  # re-exported: the protocol's metadata values

#: Swift pages container listings at 10,000 names.
SWIFT_PAGE_LIMIT = 10_000


@dataclass(frozen=True)
class BucketInfo:
    """A bucket (Swift container) with the counts its HEAD reports, without listing its objects."""

    name: str
    object_count: int
    bytes_used: int
    last_modified: datetime | None = None


@dataclass(frozen=True)
class ObjectEntry:
    """One object in a listing."""

    name: str
    bytes: int
    hash: str
    last_modified: datetime | None
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class FolderEntry:
    """A pseudo-folder in a delimited listing; ``prefix`` ends with the delimiter (``ARTIFACTS/``)."""

    prefix: str


@dataclass(frozen=True)
class ObjectPage:
    """One page of a listing: objects and folders in name order, and the marker for the next page.

    ``next_marker`` is ``None`` on the last page.
    """

    objects: list[ObjectEntry]
    folders: list[FolderEntry]
    next_marker: str | None


@dataclass(frozen=True)
class ObjectMetadata:
    """What a HEAD of an object tells.

    ``general`` holds the non-custom headers as storage sent them (lower-case names); ``custom`` the decoded
    ``x-object-meta-*`` values with the prefix removed.
    """

    bucket: str
    name: str
    size: int
    etag: str
    content_type: str
    last_modified: datetime | None
    general: dict[str, str] = field(default_factory=dict)
    custom: dict[str, MetaValue] = field(default_factory=dict)


@runtime_checkable
class ObjectStore(Protocol):
    """Operations every backend offers. Errors are those of :mod:`core.errors`."""

    #: ``"local"`` or ``"swift"``.
    kind: str
    #: Whether ``put_object(..., if_none_match=True)`` is atomic under concurrent writers. It is for the local store
    #: (one SQLite transaction checks and inserts the row); in Swift the check happens when a PUT starts, so two PUTs
    #: in flight at once can both pass.
    atomic_create: bool

    @property
    def identity(self) -> str:
        """Which data this store reaches: the account and the user (Swift) or the directory (local); never a secret.

        Everything cached from a store is keyed by it, so two sessions share a cache entry only when they would
        read the same object with the same rights.
        """
        ...

    def list_buckets(self) -> list[BucketInfo]:
        """All buckets of the account with counts and bytes (from HEADs, never by listing objects)."""
        ...

    def head_bucket(self, bucket: str) -> BucketInfo:
        """Counts of one bucket; NotFound if it does not exist."""
        ...

    def create_bucket(self, bucket: str) -> None:
        """Create a bucket; no error if it exists."""
        ...

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        marker: str | None = None,
        limit: int = SWIFT_PAGE_LIMIT,
    ) -> ObjectPage:
        """One page of names after ``marker`` that start with ``prefix``.

        With a ``delimiter``, names with the delimiter after the prefix collapse into :class:`FolderEntry` items.
        """
        ...

    def iter_objects(self, bucket: str, *, prefix: str = "") -> Iterator[ObjectEntry]:
        """Every object under ``prefix`` in name order, past Swift's 10,000-name limit.

        :meth:`list_objects` page after page, each from the last name of the one before; both backends inherit it.
        """
        marker: str | None = None
        while True:
            page = self.list_objects(bucket, prefix=prefix, marker=marker)
            yield from page.objects
            if page.next_marker is None:
                return
            marker = page.next_marker

    def head_object(self, bucket: str, name: str) -> ObjectMetadata:
        """Metadata of one object; NotFound if absent."""
        ...

    def get_object(self, bucket: str, name: str) -> tuple[ObjectMetadata, bytes]:
        """Metadata and whole content of one object."""
        ...

    def get_objects(self, bucket: str, names: Sequence[str]) -> Iterator[tuple[str, ObjectMetadata, bytes]]:
        """:meth:`get_object` of each of ``names``, in their order.

        The first error is raised as :meth:`get_object` raises it. One after the other here; Swift has several GETs
        in flight at once, so a page reading a year of months waits a round trip per few objects, not per object.
        """
        for name in names:
            meta, data = self.get_object(bucket, name)
            yield name, meta, data

    def stream_object(
        self, bucket: str, name: str, *, chunk_size: int = 1 << 20, last: int | None = None
    ) -> tuple[ObjectMetadata, Iterator[bytes]]:
        """Metadata and the content in chunks, for large objects.

        With ``last``, only the content's last ``last`` bytes (all of a smaller object) are read: the end of a log
        without downloading its start. The metadata still describes the whole object (its size too).
        """
        ...

    def put_object(
        self,
        bucket: str,
        name: str,
        data: bytes,
        *,
        metadata: Mapping[str, MetaValue] | None = None,
        content_type: str | None = None,
        if_none_match: bool = False,
    ) -> None:
        """Store ``data`` at ``name`` atomically, creating the bucket if missing.

        A reader sees the old object or the new one, never a part. With ``if_none_match`` the write only happens if
        no object of that name exists; otherwise :class:`core.errors.Conflict` is raised and nothing changes.
        """
        ...

    def copy_object(self, bucket: str, source: str, name: str, *, metadata: Mapping[str, MetaValue]) -> None:
        """Replace ``name`` by a copy of ``source`` (same bucket) made by storage itself: no data is sent.

        The copy keeps the source's content type and custom metadata, updated by ``metadata``; like a put, it is
        atomic. NotFound if ``source`` is absent.
        """
        ...

    def delete_object(self, bucket: str, name: str) -> None:
        """Delete one object; NotFound if absent."""
        ...
