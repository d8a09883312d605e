"""LocalStore specifics: a read never pairs one write's metadata with another write's data."""

from __future__ import annotations

import threading
from pathlib import Path

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
