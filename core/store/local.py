"""A directory as an object store: the embedded default and what unit tests use.

Layout: ``<root>/<bucket>/`` holds one file per object, its name percent-encoded (so ``ARTIFACTS/SACCT/x`` is one
flat file and an object ``a`` can live beside ``a/b`` as in Swift); ``<root>/<bucket>/.meta/`` holds a JSON sidecar
per object (content type, etag, custom metadata). Object names longer than a file name allows are stored under a
hash, with the real name in the sidecar.

Writes go to a temporary file in the bucket, are flushed to disk and renamed over the old file, so a reader sees
the old object or the new one, never a part; a failed write leaves the old object as it was. ``if_none_match``
writes link the temporary file to the final name, which fails atomically if it exists. Names are checked so that
nothing can escape the root (no ``..`` or empty segments, no NUL, no absolute paths).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, unquote

from core.errors import Conflict, InvalidName, NotFound, StoreUnavailable
from core.metadata import decode_metadata, encode_metadata
from core.naming import validate_bucket_name, validate_object_name
from core.store.base import (
    SWIFT_PAGE_LIMIT,
    BucketInfo,
    MetaValue,
    ObjectEntry,
    ObjectMetadata,
    ObjectPage,
)
from core.store.listing import page_of

_META_DIR = ".meta"
_TMP_PREFIX = ".tmp-"
_HASHED = "~h"
_MAX_FILE_NAME = 240
#: Reads retried while a concurrent write is between its sidecar and its data (each retry waits 1 ms).
_CONSISTENT_READ_TRIES = 1000


def _encode(name: str) -> str:
    encoded = quote(name, safe="")
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    if len(encoded) > _MAX_FILE_NAME:
        return _HASHED + hashlib.sha256(name.encode("utf-8")).hexdigest()
    return encoded


def _mtime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class LocalStore:
    """An :class:`core.store.base.ObjectStore` over a directory."""

    kind = "local"
    atomic_create = True

    def __init__(self, root: Path | str) -> None:
        """Use ``root`` (created if missing)."""
        self.root = Path(root).resolve()
        try:
            # The store has no sign-in of its own: only the user running the app may read it.
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            if self.root.stat().st_uid == os.getuid() and self.root.stat().st_mode & 0o077:
                os.chmod(self.root, 0o700)
        except OSError as exc:
            raise StoreUnavailable(f"cannot use the local store directory {self.root}: {exc.strerror}") from None

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    @property
    def identity(self) -> str:
        """``local:<root directory>``: the directory is the whole account of a local store."""
        return f"local:{self.root}"

    # --- paths ------------------------------------------------------------------------------------------------

    def _bucket_dir(self, bucket: str) -> Path:
        validate_bucket_name(bucket)
        path = self.root / _encode(bucket)
        if path.parent != self.root:  # pragma: no cover - _encode leaves no separators
            raise InvalidName("bucket name escapes the store", bucket=bucket)
        return path

    def _existing_bucket(self, bucket: str) -> Path:
        path = self._bucket_dir(bucket)
        if not path.is_dir():
            raise NotFound("no such bucket", bucket=bucket)
        return path

    def _paths(self, bucket: str, name: str) -> tuple[Path, Path, Path]:
        validate_object_name(name, bucket=bucket)
        base = self._bucket_dir(bucket)
        encoded = _encode(name)
        return base, base / encoded, base / _META_DIR / (encoded + ".json")

    def _names(self, base: Path) -> list[str]:
        names: list[str] = []
        with os.scandir(base) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.name.startswith(_HASHED):
                    sidecar = self._read_sidecar(base / _META_DIR / (entry.name + ".json"))
                    names.append(str(sidecar.get("name", entry.name)))
                else:
                    names.append(unquote(entry.name))
        names.sort()
        return names

    @staticmethod
    def _read_sidecar(path: Path) -> dict[str, object]:
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return content if isinstance(content, dict) else {}

    # --- buckets ----------------------------------------------------------------------------------------------

    def list_buckets(self) -> list[BucketInfo]:
        """Every bucket directory with its object count and bytes."""
        buckets: list[BucketInfo] = []
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if entry.is_dir() and not entry.name.startswith("."):
                buckets.append(self.head_bucket(unquote(entry.name)))
        return sorted(buckets, key=lambda b: b.name)

    def head_bucket(self, bucket: str) -> BucketInfo:
        """Counts from one directory scan (stat only, no object is read)."""
        base = self._existing_bucket(bucket)
        count = size = 0
        newest = base.stat().st_mtime
        with os.scandir(base) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                stat = entry.stat()
                count += 1
                size += stat.st_size
                newest = max(newest, stat.st_mtime)
        return BucketInfo(bucket, count, size, _mtime(newest))

    def create_bucket(self, bucket: str) -> None:
        """Create the bucket directory; no error if it exists."""
        base = self._bucket_dir(bucket)
        (base / _META_DIR).mkdir(parents=True, exist_ok=True)

    # --- listing ----------------------------------------------------------------------------------------------

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        marker: str | None = None,
        limit: int = SWIFT_PAGE_LIMIT,
    ) -> ObjectPage:
        """One page of names, folded into folders at ``delimiter`` (Swift's rules)."""
        base = self._existing_bucket(bucket)
        names = self._names(base)
        return page_of(
            names, lambda n: self._entry(bucket, base, n), prefix=prefix, delimiter=delimiter, marker=marker,
            limit=limit,
        )

    def _entry(self, bucket: str, base: Path, name: str) -> ObjectEntry:
        encoded = _encode(name)
        try:
            stat = (base / encoded).stat()
        except FileNotFoundError:  # deleted while listing
            return ObjectEntry(name, 0, "", None)
        sidecar = self._read_sidecar(base / _META_DIR / (encoded + ".json"))
        return ObjectEntry(
            name=name,
            bytes=stat.st_size,
            hash=str(sidecar.get("etag", "")),
            last_modified=_mtime(stat.st_mtime),
            content_type=str(sidecar.get("content_type", "application/octet-stream")),
        )

    def iter_objects(self, bucket: str, *, prefix: str = "") -> Iterator[ObjectEntry]:
        """Every object under ``prefix`` in name order."""
        marker: str | None = None
        while True:
            page = self.list_objects(bucket, prefix=prefix, marker=marker)
            yield from page.objects
            if page.next_marker is None:
                return
            marker = page.next_marker

    # --- objects ----------------------------------------------------------------------------------------------

    def head_object(self, bucket: str, name: str) -> ObjectMetadata:
        """Metadata from the file and its sidecar."""
        meta, handle = self._open_consistent(bucket, name)
        handle.close()
        return meta

    def _open_consistent(self, bucket: str, name: str) -> tuple[ObjectMetadata, BinaryIO]:
        """An open data file and the metadata written with it.

        A write replaces the sidecar, then the data file; a reader between the two would pair new metadata with old
        data. The sidecar records the inode of the data file it was written with, so a mismatch is seen and the
        read is retried until both belong to the same write. (A copied store has new inodes: there the content hash
        decides.)
        """
        self._existing_bucket(bucket)
        _, data_path, meta_path = self._paths(bucket, name)
        for _ in range(_CONSISTENT_READ_TRIES):
            try:
                handle = data_path.open("rb")
            except FileNotFoundError:
                raise NotFound("no such object", bucket=bucket, obj=name) from None
            stat = os.fstat(handle.fileno())
            sidecar = self._read_sidecar(meta_path)
            inode = sidecar.get("inode")
            if inode is None or inode == stat.st_ino or self._same_content(handle, sidecar):
                break
            handle.close()
            time.sleep(0.001)
        else:
            raise StoreUnavailable("object is being rewritten; try again", bucket=bucket, obj=name)
        headers = sidecar.get("headers", {})
        custom = decode_metadata(headers if isinstance(headers, dict) else {})
        etag = str(sidecar.get("etag", ""))
        content_type = str(sidecar.get("content_type", "application/octet-stream"))
        modified = _mtime(stat.st_mtime)
        general = {
            "content-length": str(stat.st_size),
            "etag": etag,
            "content-type": content_type,
            "last-modified": modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        }
        return ObjectMetadata(bucket, name, stat.st_size, etag, content_type, modified, general, custom), handle

    @staticmethod
    def _same_content(handle: BinaryIO, sidecar: dict[str, object]) -> bool:
        """Whether the data matches the sidecar's hash: a store copied elsewhere has new inodes but is consistent."""
        digest = hashlib.md5(usedforsecurity=False)
        while block := handle.read(1 << 20):
            digest.update(block)
        handle.seek(0)
        return digest.hexdigest() == sidecar.get("etag")

    def get_object(self, bucket: str, name: str) -> tuple[ObjectMetadata, bytes]:
        """Metadata and content (of the same write)."""
        meta, handle = self._open_consistent(bucket, name)
        with handle:
            return meta, handle.read()

    def stream_object(
        self, bucket: str, name: str, *, chunk_size: int = 1 << 20
    ) -> tuple[ObjectMetadata, Iterator[bytes]]:
        """Metadata and the content in chunks (of the same write)."""
        meta, handle = self._open_consistent(bucket, name)

        def chunks() -> Iterator[bytes]:
            with handle:
                while block := handle.read(chunk_size):
                    yield block

        return meta, chunks()

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
        """Write atomically (temp file, fsync, rename); with ``if_none_match`` only if the name is free."""
        base, data_path, meta_path = self._paths(bucket, name)
        headers = encode_metadata(metadata or {})
        self.create_bucket(bucket)
        sidecar: dict[str, object] = {
            "name": name,
            "etag": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "content_type": content_type or "application/octet-stream",
            "headers": headers,
        }
        tmp_data = self._write_temp(base, data)
        try:
            sidecar["inode"] = os.stat(tmp_data).st_ino  # ties the sidecar to this data file (see _open_consistent)
            tmp_meta = self._write_temp(base, json.dumps(sidecar).encode("utf-8"))
            try:
                if if_none_match:
                    try:
                        os.link(tmp_data, data_path)
                    except FileExistsError:
                        raise Conflict("object already exists", bucket=bucket, obj=name) from None
                    os.replace(tmp_meta, meta_path)
                else:
                    # The sidecar first: a reader that sees the new data then sees its metadata too.
                    os.replace(tmp_meta, meta_path)
                    os.replace(tmp_data, data_path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp_meta)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_data)

    @staticmethod
    def _write_temp(base: Path, data: bytes) -> str:
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=base)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return tmp

    def delete_object(self, bucket: str, name: str) -> None:
        """Remove the object and its sidecar."""
        self._existing_bucket(bucket)
        _, data_path, meta_path = self._paths(bucket, name)
        try:
            data_path.unlink()
        except FileNotFoundError:
            raise NotFound("no such object", bucket=bucket, obj=name) from None
        with contextlib.suppress(FileNotFoundError):
            meta_path.unlink()
