"""LocalStore specifics: reads pair metadata and data of one write and never hash, concurrent writers (threads and
processes) lose nothing, a copied store works, and a store of the earlier layout is imported."""

from __future__ import annotations

import json
import multiprocessing as mp
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from core.store import local as local_module
from core.store.local import LocalStore


def test_reads_during_rewrites_see_metadata_and_data_of_the_same_write(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_object("b", "o", b"0", metadata={"version": 0})
    stop = threading.Event()

    def rewrite() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            store.put_object("b", "o", str(i).encode(), metadata={"version": i})

    writer = threading.Thread(target=rewrite)
    writer.start()
    mismatches = []
    try:
        for _ in range(3000):
            meta, data = store.get_object("b", "o")
            if str(meta.custom["version"]).encode() != data:
                mismatches.append((meta.custom["version"], data))
            streamed_meta, chunks = store.stream_object("b", "o")
            if str(streamed_meta.custom["version"]).encode() != b"".join(chunks):
                mismatches.append(("stream", streamed_meta.custom["version"]))
    finally:
        stop.set()
        writer.join()
    assert mismatches == []


def test_a_copied_store_is_still_readable(tmp_path: Path) -> None:
    import shutil

    LocalStore(tmp_path / "a").put_object("b", "o", b"payload", metadata={"version": 2})
    shutil.copytree(tmp_path / "a", tmp_path / "copy")
    meta, data = LocalStore(tmp_path / "copy").get_object("b", "o")
    assert data == b"payload" and meta.custom["version"] == 2


def test_the_store_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    for root in (tmp_path / "new" / "store", shared):
        store = LocalStore(root)
        store.put_object("b", "MANAGEMENT/1.json", b"{}")
        assert root.stat().st_mode & 0o777 == 0o700
        data_files = [p for p in root.rglob("*") if p.is_file()]
        assert data_files and all(p.stat().st_mode & 0o077 == 0 for p in data_files)


def test_a_copied_store_reads_without_hashing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    LocalStore(tmp_path / "a").put_object("b", "big", b"x" * (8 << 20), metadata={"version": 1})
    shutil.copytree(tmp_path / "a", tmp_path / "copy")
    copy = LocalStore(tmp_path / "copy")

    def no_hash(*args: object, **kwargs: object) -> None:
        raise AssertionError("a read hashed the object")

    monkeypatch.setattr(local_module.hashlib, "md5", no_hash)
    meta, data = copy.get_object("b", "big")
    assert len(data) == 8 << 20 and meta.custom["version"] == 1
    _, chunks = copy.stream_object("b", "big")
    assert sum(len(c) for c in chunks) == 8 << 20
    assert copy.head_object("b", "big").etag == meta.etag


def _write_many(root: str, writer: int, count: int) -> None:
    store = LocalStore(root)
    for i in range(count):
        store.put_object("b", f"w{writer}/o{i:03d}", f"{writer}:{i}".encode(), metadata={"writer": writer})


def test_eight_concurrent_writers_threads_and_processes_lose_nothing(tmp_path: Path) -> None:
    root = str(tmp_path / "store")
    LocalStore(root).create_bucket("b")
    count = 40
    with ThreadPoolExecutor(4) as threads, ProcessPoolExecutor(4, mp_context=mp.get_context("spawn")) as processes:
        futures = [threads.submit(_write_many, root, w, count) for w in range(4)]
        futures += [processes.submit(_write_many, root, w, count) for w in range(4, 8)]
        for future in futures:
            future.result()
    store = LocalStore(root)
    names = [o.name for o in store.iter_objects("b")]
    assert names == sorted(f"w{w}/o{i:03d}" for w in range(8) for i in range(count))
    assert store.head_bucket("b").object_count == 8 * count
    assert all(store.get_object("b", n)[1] == f"{n[1]}:{int(n[-3:])}".encode() for n in names[::37])
    files = [p for p in (Path(root) / "data").rglob("*") if p.is_file()]
    assert len(files) == 8 * count  # one file per object: nothing half-written left behind


def test_a_store_directory_of_the_earlier_layout_is_imported(tmp_path: Path) -> None:
    root = tmp_path / "store"
    bucket = root / "mlch-for-air"
    (bucket / ".meta").mkdir(parents=True)
    (bucket / "ARTIFACTS%2FSACCT%2Fuser-run.parquet").write_bytes(b"PAR1 data")
    (bucket / ".meta" / "ARTIFACTS%2FSACCT%2Fuser-run.parquet.json").write_text(json.dumps({
        "name": "ARTIFACTS/SACCT/user-run.parquet", "etag": "x", "content_type": "application/vnd.apache.parquet",
        "headers": {"x-object-meta-version": "2"}, "inode": 1}))
    (bucket / "LOGS%2Fslurm-1.out").write_bytes(b"log line\n")
    store = LocalStore(root)
    assert [o.name for o in store.iter_objects("mlch-for-air")] == ["ARTIFACTS/SACCT/user-run.parquet",
                                                                   "LOGS/slurm-1.out"]
    meta, data = store.get_object("mlch-for-air", "ARTIFACTS/SACCT/user-run.parquet")
    assert data == b"PAR1 data" and meta.custom == {"version": 2}
    assert meta.content_type == "application/vnd.apache.parquet"
    assert store.get_object("mlch-for-air", "LOGS/slurm-1.out")[1] == b"log line\n"


@pytest.mark.parametrize("operation", ["delete", "put", "create_bucket"])
def test_a_failing_database_write_is_a_store_error_naming_the_object(tmp_path: Path, operation: str) -> None:
    import sqlite3

    from core.errors import StoreUnavailable

    store = LocalStore(tmp_path)
    store.put_object("b", "DATA/x.csv", b"x")
    with sqlite3.connect(tmp_path / "store.db") as db:  # what a full disk or a damaged file does to a write
        for table, event in (("objects", "DELETE"), ("objects", "INSERT"), ("buckets", "INSERT")):
            db.execute(f"CREATE TRIGGER refuse_{table}_{event.lower()} BEFORE {event} ON {table} "
                       "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    with pytest.raises(StoreUnavailable, match="database or disk is full") as raised:
        if operation == "delete":
            store.delete_object("b", "DATA/x.csv")
        elif operation == "put":
            store.put_object("b", "DATA/y.csv", b"y")
        else:
            store.create_bucket("c")
    assert raised.value.bucket == ("c" if operation == "create_bucket" else "b")
    assert store.get_object("b", "DATA/x.csv")[1] == b"x"  # nothing lost
    assert [o.name for o in store.iter_objects("b")] == ["DATA/x.csv"]  # nothing half-written
