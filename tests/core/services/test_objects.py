"""core.services.objects: typed reads whose errors name the object they came from."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import cast

import pandas as pd
import pytest

from core.errors import DamagedObject, ObjectTooLarge
from core.serialize import frame_to_parquet
from core.services import objects
from core.settings import ReadLimits
from core.store.base import ObjectMetadata, ObjectStore
from core.store.local import LocalStore


def test_a_frame_reads_back_and_a_damaged_one_is_named(store: LocalStore) -> None:
    store.put_object("b", "ARTIFACTS/ok.parquet", frame_to_parquet(pd.DataFrame({"a": [1, 2]})))
    assert objects.read_frame(store, "b", "ARTIFACTS/ok.parquet")["a"].tolist() == [1, 2]
    store.put_object("b", "ARTIFACTS/bad.parquet", b"not parquet at all")
    with pytest.raises(DamagedObject, match=r"\(object b/ARTIFACTS/bad\.parquet\)$"):
        objects.read_frame(store, "b", "ARTIFACTS/bad.parquet")


def test_a_management_object_reads_back_and_a_damaged_one_is_named(store: LocalStore) -> None:
    store.put_object("b", "MANAGEMENT/1.json", b'{"name": "x", "platforms": {}}')
    assert objects.read_management(store, "b", "MANAGEMENT/1.json")["name"] == "x"
    store.put_object("b", "MANAGEMENT/2.json", b"{broken")
    with pytest.raises(DamagedObject, match=r"\(object b/MANAGEMENT/2\.json\)$"):
        objects.read_management(store, "b", "MANAGEMENT/2.json")


class _Counted:
    """A store whose streamed reads are counted and can hide the object's length (as a chunked response does)."""

    def __init__(self, store: LocalStore, *, hide_length: bool = False) -> None:
        self.store, self.hide_length = store, hide_length
        self.calls: list[str] = []
        self.chunks_read = 0

    def head_object(self, bucket: str, name: str) -> ObjectMetadata:
        self.calls.append("head")
        return self.store.head_object(bucket, name)

    def stream_object(self, bucket: str, name: str, *, chunk_size: int = 1 << 20
                      ) -> tuple[ObjectMetadata, Iterator[bytes]]:
        self.calls.append("stream")
        meta, chunks = self.store.stream_object(bucket, name, chunk_size=64 * 1024)
        if self.hide_length:
            meta = dataclasses.replace(meta, size=0)

        def counted() -> Iterator[bytes]:
            for chunk in chunks:
                self.chunks_read += 1
                yield chunk

        return meta, counted()


def test_a_management_object_is_one_read_and_a_huge_one_is_refused_unread(store: LocalStore) -> None:
    limits = ReadLimits(management_bytes=2**20)
    store.put_object("b", "MANAGEMENT/1.json", b'{"name": "x", "platforms": {}}')
    counted = _Counted(store)
    assert objects.read_management(cast(ObjectStore, counted), "b", "MANAGEMENT/1.json", limits)["name"] == "x"
    assert counted.calls == ["stream"]  # no HEAD first: one request per management object
    store.put_object("b", "MANAGEMENT/huge.json", b'{"x": "' + b"a" * (8 * 2**20) + b'"}')
    for hide_length, most_chunks in ((False, 0), (True, 17)):  # 1 MiB in 64 KiB chunks, then one over
        counted = _Counted(store, hide_length=hide_length)
        with pytest.raises(ObjectTooLarge, match=r"MANAGEMENT_LIMIT_MB.*\(object b/MANAGEMENT/huge\.json\)$"):
            objects.read_management(cast(ObjectStore, counted), "b", "MANAGEMENT/huge.json", limits)
        assert counted.chunks_read <= most_chunks  # the 8 MiB are never all downloaded
