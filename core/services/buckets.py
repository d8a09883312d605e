"""Buckets page: the bucket table, folder browsing one page at a time, object details and previews."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.errors import ObjectTooLarge
from core.naming import folder
from core.serialize import load_management, parquet_to_frame
from core.services.objects import read_frame, read_management
from core.settings import ReadLimits
from core.store import versioning
from core.store.base import FolderEntry, MetaValue, ObjectMetadata, ObjectStore
from core.units import iec_size

#: Objects per page in the browser; a page costs one listing request whatever the bucket's size.
PAGE_SIZE = 100
#: Bytes read for a preview; larger objects are previewed from their head (parquet needs the whole object).
PREVIEW_BYTES = 256 * 1024
#: Largest parquet object previewed as a table.
PARQUET_PREVIEW_LIMIT = 64 * 1024 * 1024
#: Rows of a parquet preview.
PREVIEW_ROWS = 200


def bucket_table(store: ObjectStore) -> pd.DataFrame:
    """One row per bucket: name, objects, size in bytes, last modified."""
    buckets = store.list_buckets()
    return pd.DataFrame({
        "bucket": [b.name for b in buckets],
        "objects": pd.array([b.object_count for b in buckets], dtype="Int64"),
        "size": pd.array([b.bytes_used for b in buckets], dtype="Int64"),
        "last modified": pd.to_datetime([b.last_modified for b in buckets], utc=True),
    })


def default_bucket(table: pd.DataFrame) -> int:
    """The bucket shown first: the first one holding objects (an empty bucket is a dull first view)."""
    filled = [i for i, n in enumerate(table["objects"].fillna(0).tolist()) if n > 0]
    return filled[0] if filled else 0


@dataclass(frozen=True)
class BrowsePage:
    """One page of a folder: breadcrumbs, sub-folders, objects, and the marker of the next page."""

    bucket: str
    prefix: str
    breadcrumbs: list[tuple[str, str]]
    folders: list[str]
    objects: pd.DataFrame
    next_marker: str | None


def breadcrumbs(bucket: str, prefix: str) -> list[tuple[str, str]]:
    """``[(label, prefix), ...]`` from the bucket down to ``prefix`` (``ARTIFACTS/SACCT/``)."""
    crumbs = [(bucket, "")]
    parts = [p for p in prefix.split("/") if p]
    for i, part in enumerate(parts):
        crumbs.append((part, "/".join(parts[: i + 1]) + "/"))
    return crumbs


def browse(store: ObjectStore, bucket: str, prefix: str = "", marker: str | None = None,
           limit: int = PAGE_SIZE) -> BrowsePage:
    """One page of ``prefix`` in ``bucket``, folded into folders at ``/`` (one listing request)."""
    page = store.list_objects(bucket, prefix=prefix, delimiter="/", marker=marker, limit=limit)
    objects = pd.DataFrame({
        "name": [o.name[len(prefix):] for o in page.objects],
        "object": [o.name for o in page.objects],
        "size": pd.array([o.bytes for o in page.objects], dtype="Int64"),
        "last modified": pd.to_datetime([o.last_modified for o in page.objects], utc=True),
        "hash": [o.hash for o in page.objects],
    })
    return BrowsePage(bucket, prefix, breadcrumbs(bucket, prefix), [_folder_label(f, prefix) for f in page.folders],
                      objects, page.next_marker)


def _folder_label(folder: FolderEntry, prefix: str) -> str:
    return folder.prefix[len(prefix):]


@dataclass
class ObjectDetail:
    """Everything the object panel shows."""

    metadata: ObjectMetadata
    general: dict[str, str]
    custom: dict[str, MetaValue]
    kind: str  # "table", "tree", "text", "binary"
    preview: Any = None
    note: str = ""
    hex_head: str = ""


def _hex_dump(data: bytes, width: int = 16) -> str:
    lines = []
    for offset in range(0, len(data), width):
        chunk = data[offset: offset + width]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {chunk.hex(' '):<{width * 3}} {text}")
    return "\n".join(lines)


def object_detail(store: ObjectStore, bucket: str, name: str, limits: ReadLimits | None = None) -> ObjectDetail:
    """Metadata and a preview chosen from the name and the content.

    The content is never executed and is read within ``limits``; an object that cannot be previewed gets a note
    saying why instead.
    """
    meta = store.head_object(bucket, name)
    head = _read_head(store, bucket, name, PREVIEW_BYTES)
    return _detail(name, meta, head, lambda: read_frame(store, bucket, name, limits),
                   lambda: read_management(store, bucket, name, limits))


def version_detail(store: ObjectStore, bucket: str, name: str, version: int, limits: ReadLimits | None = None
                   ) -> ObjectDetail:
    """Stored version ``version`` of ``name`` as :func:`object_detail` shows an object.

    Versions are numbered as :func:`versions_table` numbers them and read with
    :func:`core.store.versioning.get_version`.

    Raises:
        NotFound: there is no such version (any more).
    """
    limits = limits or ReadLimits()
    meta, data = versioning.get_version(store, bucket, name, version)

    def tree() -> dict[str, Any]:
        if len(data) > limits.management_bytes:
            raise ObjectTooLarge(f"{iec_size(len(data))}; the limit is {iec_size(limits.management_bytes)} "
                                 "(MANAGEMENT_LIMIT_MB)", bucket=bucket, obj=name)
        return load_management(data)

    return _detail(name, meta, data[:PREVIEW_BYTES], lambda: parquet_to_frame(data, limits), tree)


def _detail(name: str, meta: ObjectMetadata, head: bytes, frame: Callable[[], pd.DataFrame],
            tree: Callable[[], dict[str, Any]]) -> ObjectDetail:
    """Metadata and a preview of an object whose first bytes are ``head``; ``frame`` and ``tree`` read all of it."""
    general = {k: v for k, v in meta.general.items() if not k.startswith("x-openstack")}
    detail = ObjectDetail(meta, general, dict(meta.custom), "binary", hex_head=_hex_dump(head[:256]))
    lower = name.lower()
    if head[:4] == b"PAR1" or lower.endswith(".parquet"):
        if meta.size > PARQUET_PREVIEW_LIMIT:
            detail.note = f"{iec_size(meta.size)} is too large to preview as a table; download it instead."
            return detail
        try:
            table = frame()
        except ValueError as exc:
            detail.note = str(exc)
            return detail
        detail.kind, detail.preview = "table", table.head(PREVIEW_ROWS)
        detail.note = f"{len(table):,} rows × {table.shape[1]} columns" + (
            f"; showing the first {PREVIEW_ROWS}" if len(table) > PREVIEW_ROWS else "")
        return detail
    if name.startswith(folder("mana")) or lower.endswith((".pkl", ".json")):
        try:
            detail.kind, detail.preview = "tree", tree()
            return detail
        except ValueError as exc:
            detail.note = f"not a management object: {exc}"
    text = _as_text(head)
    if text is not None:
        detail.kind, detail.preview = "text", text
        if meta.size > len(head):
            detail.note = f"showing the first {iec_size(len(head))} of {iec_size(meta.size)}"
    return detail


def _read_head(store: ObjectStore, bucket: str, name: str, limit: int) -> bytes:
    _, chunks = store.stream_object(bucket, name, chunk_size=64 * 1024)
    buffer = io.BytesIO()
    try:
        for chunk in chunks:
            buffer.write(chunk)
            if buffer.tell() >= limit:
                break
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # stop reading the rest (frees the connection of a large Swift object)
    return buffer.getvalue()[:limit]


def _as_text(data: bytes) -> str | None:
    if b"\x00" in data[:4096]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 4:  # a character cut by the preview limit
            return data[: exc.start].decode("utf-8")
        return None


def download_refusal(bucket: str, name: str, size: int, limit_bytes: int) -> str | None:
    """Why the page offers no download of an object of ``size`` bytes (``None`` when it does).

    Streamlit sends a download from the app's memory and keeps it there until the session ends, so an object over
    the limit is left to a client that streams it.
    """
    if size <= limit_bytes:
        return None
    return (f"{bucket}/{name} is {iec_size(size)}, over the {iec_size(limit_bytes)} the dashboard downloads "
            f"(DOWNLOAD_LIMIT_MB): fetch it with a Swift client, e.g. swift download {bucket} {name}")


def download(store: ObjectStore, bucket: str, name: str, version: int | None = None) -> bytes:
    """The whole object (or its stored version ``version``), for the download button."""
    if version is not None:
        return versioning.get_version(store, bucket, name, version)[1]
    return store.get_object(bucket, name)[1]


def metadata_rows(values: dict[str, Any]) -> pd.DataFrame:
    """Metadata as a two-column text table (values rendered as text, never as HTML)."""
    return pd.DataFrame({"key": list(values), "value": [
        json.dumps(v) if isinstance(v, list) else str(v) for v in values.values()]})


#: Most objects counted for a folder's total; a bigger folder says "at least".
FOLDER_COUNT_LIMIT = 10_000
#: Most pages walked to reopen page N of a folder from a link (each page is one listing request).
MAX_PAGE = 100


@dataclass(frozen=True)
class FolderTotal:
    """Objects and bytes under a folder, at every depth; ``complete`` is False when counting stopped at the limit."""

    objects: int
    bytes: int
    complete: bool

    def describe(self) -> str:
        """``"12 objects, 3.4 MiB (all levels)"``, with "at least" when the count stopped at the limit."""
        at_least = "" if self.complete else "at least "
        return f"{at_least}{self.objects:,} objects, {at_least}{iec_size(self.bytes)} (all levels below)"


def folder_total(store: ObjectStore, bucket: str, prefix: str, limit: int = FOLDER_COUNT_LIMIT) -> FolderTotal:
    """Count the objects and bytes under ``prefix`` (stops after ``limit`` objects: a listing request per 10,000)."""
    count = size = 0
    for entry in store.iter_objects(bucket, prefix=prefix):
        count += 1
        size += entry.bytes or 0
        if count >= limit:
            return FolderTotal(count, size, False)
    return FolderTotal(count, size, True)


def page_markers(store: ObjectStore, bucket: str, prefix: str, page: int, known: list[str | None]) -> list[str | None]:
    """Markers of pages 1..``page`` (``known`` first, the rest listed); shorter when the folder has fewer pages."""
    markers = list(known[:page]) or [None]
    while len(markers) < min(page, MAX_PAGE):
        listing = store.list_objects(bucket, prefix=prefix, delimiter="/", marker=markers[-1], limit=PAGE_SIZE)
        if not listing.next_marker:
            break
        markers.append(listing.next_marker)
    return markers


def version_of(store: ObjectStore, bucket: str, name: str) -> tuple[str, int] | None:
    """``(object, version)`` when ``name`` is a stored version (``.versions/<object>/...``), else ``None``."""
    path = versioning.version_of(name)
    if path is None:
        return None
    numbers = {v.entry.name: v.number for v in versioning.list_version_entries(store, bucket, path)}
    return (path, numbers[name]) if name in numbers else None


def label_versions(store: ObjectStore, bucket: str, objects: pd.DataFrame) -> pd.DataFrame:
    """Name stored versions as what they are: ``version 3 of ARTIFACTS/SACCT/run.parquet``.

    One listing per object whose versions are on the page: a version's number is its rank among all of them.
    """
    paths = {p for p in (versioning.version_of(o) for o in objects["object"].tolist()) if p is not None}
    if not paths:
        return objects
    numbers = {v.entry.name: (path, v.number) for path in paths
               for v in versioning.list_version_entries(store, bucket, path)}
    labelled = objects.copy()
    labelled["name"] = [f"version {numbers[o][1]} of {numbers[o][0]}" if o in numbers else n
                        for o, n in zip(objects["object"], objects["name"], strict=True)]
    return labelled


def versions_table(store: ObjectStore, bucket: str, name: str) -> pd.DataFrame:
    """The stored versions of ``name`` (number, object holding it, size, last modified), newest first."""
    versions = versioning.list_version_entries(store, bucket, name)[::-1]
    entries = [v.entry for v in versions]
    return pd.DataFrame({
        "version": pd.array([v.number for v in versions], dtype="Int64"),
        "object": [e.name for e in entries],
        "size": pd.array([e.bytes for e in entries], dtype="Int64"),
        "etag": [e.hash for e in entries],
        "last modified": pd.to_datetime([e.last_modified for e in entries], utc=True),
    })
