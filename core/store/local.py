"""A directory as an object store: the embedded default and what unit tests use.

Layout: ``<root>/store.db`` is an SQLite database (WAL mode) with one row per object (bucket, name, size, etag,
content type, time, custom metadata and the file holding its bytes); ``<root>/data/<xx>/<random>`` are those files,
each written once under a name no other write uses. A write stores its bytes in a new file (flushed to disk), then
publishes it in one transaction that replaces the object's row: data and metadata change together, so a reader
sees the old object or the new one, never a part and never one write's metadata with another's bytes, and a failed
write leaves the old object as it was. The replaced file is removed after the commit (a reader that opened it
keeps reading it). Listings are index range scans of the database in name order (the byte order Swift uses), and
reads never hash. Paths in the database are relative, so a copied directory is a working store.

Everything is created readable by its owner only (directories 0700, files 0600): the store holds users' runs.

A directory in the earlier layout (one folder per bucket, a file per object and a ``.meta`` JSON sidecar) is
imported into the database the first time it is opened; its files are left where they are.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from core.errors import Conflict, InvalidName, NotFound, StoreUnavailable
from core.metadata import MetaValue, decode_metadata, encode_metadata
from core.naming import validate_bucket_name, validate_object_name
from core.store.base import (
    SWIFT_PAGE_LIMIT,
    BucketInfo,
    FolderEntry,
    ObjectEntry,
    ObjectMetadata,
    ObjectPage,
    ObjectStore,
)

_DB = "store.db"
_DATA = "data"
#: Reads retried when the row they found was replaced (and its file removed) before the file was opened.
_READ_TRIES = 20
#: Seconds a writer waits for another process's transaction.
_BUSY_SECONDS = 30.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, created REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    content_type TEXT NOT NULL, modified REAL NOT NULL, headers TEXT NOT NULL, file TEXT NOT NULL,
    PRIMARY KEY (bucket, name)
) WITHOUT ROWID;
"""
_ROW = ("SELECT name, size, etag, content_type, modified, headers, file FROM objects "
        "WHERE bucket = ? AND name = ?")
#: Index range scans: names from ``start`` (included or not), optionally below an upper bound, in order.
_RANGE = {
    True: "SELECT name, size, etag, content_type, modified, headers, file FROM objects "
          "WHERE bucket = ? AND name >= ? ORDER BY name LIMIT ?",
    False: "SELECT name, size, etag, content_type, modified, headers, file FROM objects "
           "WHERE bucket = ? AND name > ? ORDER BY name LIMIT ?",
}
_RANGE_BELOW = {
    True: "SELECT name, size, etag, content_type, modified, headers, file FROM objects "
          "WHERE bucket = ? AND name >= ? AND name < ? ORDER BY name LIMIT ?",
    False: "SELECT name, size, etag, content_type, modified, headers, file FROM objects "
           "WHERE bucket = ? AND name > ? AND name < ? ORDER BY name LIMIT ?",
}


def _mtime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _after_prefix(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix`` (``None``: no bound)."""
    return prefix + "\U0010ffff" if prefix else None


class LocalStore(ObjectStore):
    """An :class:`core.store.base.ObjectStore` over a directory (SQLite index, one file per write)."""

    kind = "local"
    atomic_create = True

    def __init__(self, root: Path | str) -> None:
        """Use ``root`` (created if missing, owner-only)."""
        self.root = Path(root).resolve()
        self._local = threading.local()
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.root, 0o700)  # also a directory made before, or by someone else's umask
            (self.root / _DATA).mkdir(mode=0o700, exist_ok=True)
            fresh = not (self.root / _DB).exists()
            self._db().executescript(_SCHEMA)
            os.chmod(self.root / _DB, 0o600)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot use the local store directory {self.root}: {exc}") from None
        if fresh:
            self._import_earlier_layout()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    @property
    def identity(self) -> str:
        """``local:<root directory>``: the directory is the whole account of a local store."""
        return f"local:{self.root}"

    # --- database ---------------------------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections are not shared between threads)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            old = os.umask(0o077)
            try:
                db = sqlite3.connect(self.root / _DB, timeout=_BUSY_SECONDS, isolation_level=None,
                                     check_same_thread=False)
            finally:
                os.umask(old)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # with WAL: a crash of the app never loses a commit
            self._local.db = db
        return db

    @contextlib.contextmanager
    def _write(self, bucket: str | None = None, name: str | None = None) -> Iterator[sqlite3.Connection]:
        """One write transaction; a failure of the database is :class:`StoreUnavailable` naming the object.

        Every write goes through here, so no caller sees a raw ``sqlite3.Error``.
        """
        def failed(exc: sqlite3.Error) -> StoreUnavailable:
            return StoreUnavailable(f"the local store database failed: {exc}", bucket=bucket, obj=name)

        try:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise failed(exc) from None
        try:
            yield db
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise failed(exc) from None
            raise
        try:
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise failed(exc) from None

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        try:
            return self._db().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the local store database failed: {exc}") from None

    # --- buckets ----------------------------------------------------------------------------------------------

    def _check_bucket(self, bucket: str) -> None:
        validate_bucket_name(bucket)

    def _existing_bucket(self, bucket: str) -> None:
        self._check_bucket(bucket)
        if not self._query("SELECT 1 FROM buckets WHERE name = ?", (bucket,)):
            raise NotFound("no such bucket", bucket=bucket)

    def list_buckets(self) -> list[BucketInfo]:
        """Every bucket with its object count and bytes (one indexed aggregate)."""
        rows = self._query(
            "SELECT b.name, count(o.name), coalesce(sum(o.size), 0), max(coalesce(max(o.modified), 0), b.created) "
            "FROM buckets b LEFT JOIN objects o ON o.bucket = b.name GROUP BY b.name ORDER BY b.name", ())
        return [BucketInfo(name, count, size, _mtime(newest)) for name, count, size, newest in rows]

    def head_bucket(self, bucket: str) -> BucketInfo:
        """Counts of one bucket; NotFound if it does not exist."""
        self._existing_bucket(bucket)
        (count, size, newest), = self._query(
            "SELECT count(*), coalesce(sum(size), 0), coalesce(max(modified), 0) FROM objects WHERE bucket = ?",
            (bucket,))
        created = self._query("SELECT created FROM buckets WHERE name = ?", (bucket,))[0][0]
        return BucketInfo(bucket, count, size, _mtime(max(newest, created)))

    def create_bucket(self, bucket: str) -> None:
        """Create the bucket; no error if it exists."""
        self._check_bucket(bucket)
        with self._write(bucket) as db:
            db.execute("INSERT OR IGNORE INTO buckets VALUES (?, ?)", (bucket, datetime.now(UTC).timestamp()))

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
        """One page of names after ``marker`` under ``prefix``, folded into folders at ``delimiter`` (Swift's rules).

        Each step is an index range scan: a folder is skipped with one query past its last possible name, so a page
        costs at most one query per folder plus one per object batch, whatever the bucket's size.
        """
        self._existing_bucket(bucket)
        objects: list[ObjectEntry] = []
        folders: list[FolderEntry] = []
        order: list[str] = []
        start = max(prefix, marker or "")
        inclusive = not marker or marker < prefix
        upper = _after_prefix(prefix)
        while len(order) < limit:
            rows = self._range(bucket, start, inclusive, upper, limit - len(order))
            if not rows:
                break
            for row in rows:
                name = row[0]
                cut = name.find(delimiter, len(prefix)) if delimiter else -1
                if delimiter and cut >= 0:
                    folder = name[: cut + len(delimiter)]
                    if folder != marker:  # Swift does not give the marker's folder again
                        folders.append(FolderEntry(folder))
                        order.append(folder)
                    # Every other name inside this folder sorts before folder + U+10FFFF: go on from there.
                    start, inclusive = folder + "\U0010ffff", True
                    break
                objects.append(self._entry(row))
                order.append(name)
                start, inclusive = name, False
        more = len(order) >= limit and bool(self._range(bucket, start, inclusive, upper, 1))
        return ObjectPage(objects=objects, folders=folders, next_marker=order[-1] if more else None)

    def _range(self, bucket: str, start: str, inclusive: bool, upper: str | None, limit: int) -> list[Any]:
        if upper is None:
            return self._query(_RANGE[inclusive], (bucket, start, limit))
        return self._query(_RANGE_BELOW[inclusive], (bucket, start, upper, limit))

    @staticmethod
    def _entry(row: Any) -> ObjectEntry:
        name, size, etag, content_type, modified, _, _ = row
        return ObjectEntry(name=name, bytes=size, hash=etag, last_modified=_mtime(modified),
                           content_type=content_type)


    # --- objects ----------------------------------------------------------------------------------------------

    def _row(self, bucket: str, name: str) -> Any:
        validate_object_name(name, bucket=bucket)
        self._existing_bucket(bucket)
        rows = self._query(_ROW, (bucket, name))
        if not rows:
            raise NotFound("no such object", bucket=bucket, obj=name)
        return rows[0]

    def _metadata(self, bucket: str, row: Any) -> ObjectMetadata:
        name, size, etag, content_type, modified, headers, _ = row
        when = _mtime(modified)
        general = {"content-length": str(size), "etag": etag, "content-type": content_type,
                   "last-modified": when.strftime("%a, %d %b %Y %H:%M:%S GMT")}
        return ObjectMetadata(bucket, name, size, etag, content_type, when, general,
                              decode_metadata(json.loads(headers)))

    def head_object(self, bucket: str, name: str) -> ObjectMetadata:
        """Metadata from the object's row (no file is opened)."""
        return self._metadata(bucket, self._row(bucket, name))

    def _open(self, bucket: str, name: str) -> tuple[ObjectMetadata, Any]:
        """The row and an open handle on its file: both of the same write."""
        for _ in range(_READ_TRIES):
            row = self._row(bucket, name)
            try:
                handle = (self.root / row[6]).open("rb")
            except FileNotFoundError:
                continue  # replaced (and its file removed) between the query and the open: read the new row
            return self._metadata(bucket, row), handle
        raise StoreUnavailable("object is being rewritten; try again", bucket=bucket, obj=name)

    def get_object(self, bucket: str, name: str) -> tuple[ObjectMetadata, bytes]:
        """Metadata and content (of the same write)."""
        meta, handle = self._open(bucket, name)
        with handle:
            return meta, handle.read()

    def stream_object(
        self, bucket: str, name: str, *, chunk_size: int = 1 << 20, last: int | None = None
    ) -> tuple[ObjectMetadata, Iterator[bytes]]:
        """Metadata and the content in chunks (of the same write); with ``last``, from that many bytes from its end."""
        meta, handle = self._open(bucket, name)
        if last is not None:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - max(0, last)))

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
        """Write the bytes to a new file, then publish file and metadata in one transaction."""
        validate_object_name(name, bucket=bucket)
        self._check_bucket(bucket)
        headers = json.dumps(encode_metadata(metadata or {}))
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        relative = self._write_file(data)
        replaced: str | None = None
        try:
            with self._write(bucket, name) as db:
                db.execute("INSERT OR IGNORE INTO buckets VALUES (?, ?)", (bucket, datetime.now(UTC).timestamp()))
                old = db.execute("SELECT file FROM objects WHERE bucket = ? AND name = ?", (bucket, name)).fetchall()
                if old and if_none_match:
                    raise Conflict("object already exists", bucket=bucket, obj=name)
                db.execute("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (bucket, name, len(data), etag, content_type or "application/octet-stream",
                            datetime.now(UTC).timestamp(), headers, relative))
                replaced = old[0][0] if old else None
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                (self.root / relative).unlink()
            raise
        if replaced is not None:
            with contextlib.suppress(FileNotFoundError):
                (self.root / replaced).unlink()

    def _write_file(self, data: bytes) -> str:
        token = secrets.token_hex(16)
        relative = f"{_DATA}/{token[:2]}/{token}"
        path = self.root / relative
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            raise
        return relative

    def copy_object(self, bucket: str, source: str, name: str, *, metadata: Mapping[str, MetaValue]) -> None:
        """Write a copy of ``source`` (its bytes read back from its file) under ``name``, metadata merged."""
        validate_object_name(name, bucket=bucket)
        meta, data = self.get_object(bucket, source)
        self.put_object(bucket, name, data, metadata={**meta.custom, **metadata}, content_type=meta.content_type)

    def delete_object(self, bucket: str, name: str) -> None:
        """Remove the object's row, then its file (a file that cannot be removed is left: the object is gone)."""
        validate_object_name(name, bucket=bucket)
        self._existing_bucket(bucket)
        with self._write(bucket, name) as db:
            old = db.execute("SELECT file FROM objects WHERE bucket = ? AND name = ?", (bucket, name)).fetchall()
            if not old:
                raise NotFound("no such object", bucket=bucket, obj=name)
            db.execute("DELETE FROM objects WHERE bucket = ? AND name = ?", (bucket, name))
        with contextlib.suppress(OSError):
            (self.root / old[0][0]).unlink()

    # --- the earlier layout -------------------------------------------------------------------------------------

    def _import_earlier_layout(self) -> None:
        """Copy objects of the earlier one-file-per-object layout (``<root>/<bucket>/<quoted name>``) in."""
        for bucket_dir in sorted(p for p in self.root.iterdir() if p.is_dir() and p.name != _DATA
                                 and not p.name.startswith(".")):
            bucket = unquote(bucket_dir.name)
            try:
                self.create_bucket(bucket)
            except InvalidName:
                continue
            for path in sorted(bucket_dir.iterdir()):
                if path.name.startswith(".") or not path.is_file():
                    continue
                sidecar: dict[str, Any] = {}
                with contextlib.suppress(OSError, ValueError):
                    sidecar = json.loads((bucket_dir / ".meta" / (path.name + ".json")).read_text("utf-8"))
                name = str(sidecar.get("name") or unquote(path.name))
                headers = sidecar.get("headers")
                with contextlib.suppress(InvalidName, OSError):
                    self.put_object(bucket, name, path.read_bytes(),
                                    metadata=decode_metadata(headers if isinstance(headers, dict) else {}),
                                    content_type=str(sidecar.get("content_type") or "application/octet-stream"))
