"""Buckets page: the bucket table, folder browsing one page at a time, object details and previews."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.naming import folder
from core.serialize import load_management
from core.services.objects import read_frame
from core.store.base import FolderEntry, MetaValue, ObjectMetadata, ObjectStore
from core.units import human_bytes

#: Objects per page in the browser; a page costs one listing request whatever the bucket's size.
PAGE_SIZE = 100
#: Bytes read for a preview; larger objects are previewed from their head (parquet needs the whole object).
PREVIEW_BYTES = 256 * 1024
#: Largest parquet object previewed as a table.
PARQUET_PREVIEW_LIMIT = 64 * 1024 * 1024
#: Rows of a parquet preview.
PREVIEW_ROWS = 200


def bucket_table(store: ObjectStore) -> pd.DataFrame:
    """One row per bucket: name, objects, bytes (and a human-readable size), last modified."""
    buckets = store.list_buckets()
    return pd.DataFrame({
        "bucket": [b.name for b in buckets],
        "objects": pd.array([b.object_count for b in buckets], dtype="Int64"),
        "bytes": pd.array([b.bytes_used for b in buckets], dtype="Int64"),
        "size": [human_bytes(b.bytes_used) for b in buckets],
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
        "bytes": pd.array([o.bytes for o in page.objects], dtype="Int64"),
        "size": [human_bytes(o.bytes) for o in page.objects],
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


def object_detail(store: ObjectStore, bucket: str, name: str) -> ObjectDetail:
    """Metadata and a preview chosen from the name and the content (never executes the content)."""
    meta = store.head_object(bucket, name)
    general = {k: v for k, v in meta.general.items() if not k.startswith("x-openstack")}
    head = _read_head(store, bucket, name, PREVIEW_BYTES)
    detail = ObjectDetail(meta, general, dict(meta.custom), "binary", hex_head=_hex_dump(head[:256]))
    lower = name.lower()
    if head[:4] == b"PAR1" or lower.endswith(".parquet"):
        if meta.size > PARQUET_PREVIEW_LIMIT:
            detail.note = f"{human_bytes(meta.size)} is too large to preview as a table; download it instead."
            return detail
        try:
            frame = read_frame(store, bucket, name)
        except ValueError as exc:
            detail.note = str(exc)
            return detail
        detail.kind, detail.preview = "table", frame.head(PREVIEW_ROWS)
        detail.note = f"{len(frame):,} rows × {frame.shape[1]} columns" + (
            f"; showing the first {PREVIEW_ROWS}" if len(frame) > PREVIEW_ROWS else "")
        return detail
    if name.startswith(folder("mana")) or lower.endswith((".pkl", ".json")):
        try:
            data = head if meta.size <= PREVIEW_BYTES else store.get_object(bucket, name)[1]
            detail.kind, detail.preview = "tree", load_management(data)
            return detail
        except ValueError as exc:
            detail.note = f"not a management object: {exc}"
    text = _as_text(head)
    if text is not None:
        detail.kind, detail.preview = "text", text
        if meta.size > len(head):
            detail.note = f"showing the first {human_bytes(len(head))} of {human_bytes(meta.size)}"
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


def download(store: ObjectStore, bucket: str, name: str) -> bytes:
    """The whole object, for the download button."""
    return store.get_object(bucket, name)[1]


def metadata_rows(values: dict[str, Any]) -> pd.DataFrame:
    """Metadata as a two-column text table (values rendered as text, never as HTML)."""
    return pd.DataFrame({"key": list(values), "value": [
        json.dumps(v) if isinstance(v, list) else str(v) for v in values.values()]})
