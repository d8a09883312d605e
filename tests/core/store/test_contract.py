"""One behavioural contract, run against LocalStore and against the real Swift (fixtures in conftest.py)."""

from __future__ import annotations

import hashlib

import pytest

from core.errors import Conflict, InvalidName, NotFound
from core.store.base import ObjectStore


def test_put_head_get_with_metadata(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "MANAGEMENT/1.json", b'{"a": 1}', metadata={"version": 1, "tags": ["x", "y"]},
                     content_type="application/json")
    meta = store.head_object(bucket, "MANAGEMENT/1.json")
    assert (meta.size, meta.content_type, meta.custom) == (8, "application/json", {"version": 1, "tags": ["x", "y"]})
    assert meta.etag == hashlib.md5(b'{"a": 1}', usedforsecurity=False).hexdigest()  # Swift's etag: the MD5
    assert meta.last_modified is not None
    got_meta, data = store.get_object(bucket, "MANAGEMENT/1.json")
    assert data == b'{"a": 1}' and got_meta.custom["version"] == 1
    _, chunks = store.stream_object(bucket, "MANAGEMENT/1.json", chunk_size=3)
    assert b"".join(chunks) == b'{"a": 1}'


def test_the_end_of_an_object_is_read_without_its_start(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "LOGS/slurm-1.out", b"0123456789")
    store.put_object(bucket, "LOGS/slurm-2.out", b"")
    for name, last, end, size in [("LOGS/slurm-1.out", 4, b"6789", 10), ("LOGS/slurm-1.out", 100, b"0123456789", 10),
                                  ("LOGS/slurm-2.out", 4, b"", 0)]:
        meta, chunks = store.stream_object(bucket, name, chunk_size=3, last=last)
        assert (b"".join(chunks), meta.size) == (end, size), (name, last)


def test_missing_things_are_not_found_and_named(store: ObjectStore, bucket: str) -> None:
    with pytest.raises(NotFound) as info:
        store.head_bucket(bucket)
    assert bucket in str(info.value)
    store.create_bucket(bucket)
    with pytest.raises(NotFound) as info:
        store.get_object(bucket, "LOGS/nothing.out")
    assert "LOGS/nothing.out" in str(info.value)
    with pytest.raises(NotFound):
        store.delete_object(bucket, "LOGS/nothing.out")


def test_several_objects_come_in_their_order_with_their_metadata_and_a_missing_one_is_named(
        store: ObjectStore, bucket: str) -> None:
    names = [f"ARTIFACTS/SACCT/history/cluster=c1/month=2026-{m:02d}/jobs.parquet" for m in range(12, 0, -1)]
    for i, name in enumerate(names):
        store.put_object(bucket, name, f"month {i}".encode() * (i + 1), metadata={"generation": i})
    got = list(store.get_objects(bucket, names))
    assert [name for name, _, _ in got] == names
    for i, (name, meta, data) in enumerate(got):
        assert data == f"month {i}".encode() * (i + 1) and meta.custom["generation"] == i
        assert meta.etag == store.head_object(bucket, name).etag
    assert list(store.get_objects(bucket, [])) == []
    with pytest.raises(NotFound) as info:
        list(store.get_objects(bucket, [*names[:5], "ARTIFACTS/SACCT/history/gone.parquet", *names[5:]]))
    assert "ARTIFACTS/SACCT/history/gone.parquet" in str(info.value)


def test_folders_and_paging_follow_swift(store: ObjectStore, bucket: str) -> None:
    names = ["ARTIFACTS/SACCT/a.parquet", "ARTIFACTS/SACCT/b.parquet", "ARTIFACTS/TASKS/t1", "LOGS/slurm-1.out",
             "LOGS/slurm-2.out", "MANAGEMENT/1.pkl", "readme.txt"]
    for name in names:
        store.put_object(bucket, name, name.encode())
    top = store.list_objects(bucket, delimiter="/")
    assert [f.prefix for f in top.folders] == ["ARTIFACTS/", "LOGS/", "MANAGEMENT/"]
    assert [o.name for o in top.objects] == ["readme.txt"] and top.next_marker is None
    inner = store.list_objects(bucket, prefix="ARTIFACTS/", delimiter="/")
    assert [f.prefix for f in inner.folders] == ["ARTIFACTS/SACCT/", "ARTIFACTS/TASKS/"] and inner.objects == []
    sacct = store.list_objects(bucket, prefix="ARTIFACTS/SACCT/", delimiter="/")
    assert [o.name for o in sacct.objects] == names[:2] and sacct.objects[0].bytes == len(names[0])
    # Pages of two, following markers, give every name once in order.
    seen, marker = [], None
    while True:
        page = store.list_objects(bucket, limit=2, marker=marker)
        seen += [o.name for o in page.objects]
        if page.next_marker is None:
            break
        marker = page.next_marker
    assert seen == names
    # A folder used as a marker is not given again.
    after = store.list_objects(bucket, delimiter="/", marker="ARTIFACTS/")
    assert [f.prefix for f in after.folders] == ["LOGS/", "MANAGEMENT/"]
    assert [o.name for o in store.iter_objects(bucket, prefix="LOGS/")] == names[3:5]


def test_bucket_counts(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "a", b"12345")
    store.put_object(bucket, "b/c", b"123")
    info = store.head_bucket(bucket)
    assert (info.name, info.object_count, info.bytes_used) == (bucket, 2, 8)
    assert bucket in {b.name for b in store.list_buckets()}


def test_if_none_match_never_replaces(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "slot", b"first", if_none_match=True)
    with pytest.raises(Conflict):
        store.put_object(bucket, "slot", b"second", if_none_match=True)
    assert store.get_object(bucket, "slot")[1] == b"first"


def test_replace_and_delete(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, "x", b"old", metadata={"version": 1})
    store.put_object(bucket, "x", b"new", metadata={"version": 2})
    meta, data = store.get_object(bucket, "x")
    assert data == b"new" and meta.custom == {"version": 2}
    store.delete_object(bucket, "x")
    with pytest.raises(NotFound):
        store.head_object(bucket, "x")


def test_copy_is_made_by_storage_with_merged_metadata(store: ObjectStore, bucket: str) -> None:
    store.put_object(bucket, ".versions/TIMES/run-1.parquet/0001", b"stage times", metadata={"owner": "u"},
                     content_type="application/vnd.apache.parquet")
    store.put_object(bucket, "TIMES/run-1.parquet", b"older", metadata={"version": 1, "owner": "u"})
    store.copy_object(bucket, ".versions/TIMES/run-1.parquet/0001", "TIMES/run-1.parquet",
                      metadata={"version": 2, "version-base": 0})
    meta, data = store.get_object(bucket, "TIMES/run-1.parquet")
    assert data == b"stage times" and meta.content_type == "application/vnd.apache.parquet"
    assert meta.custom == {"owner": "u", "version": 2, "version-base": 0}
    assert store.get_object(bucket, ".versions/TIMES/run-1.parquet/0001")[1] == b"stage times"  # the source stays
    with pytest.raises(NotFound):
        store.copy_object(bucket, "TIMES/none.parquet", "TIMES/run-2.parquet", metadata={})


@pytest.mark.parametrize("name", ["../escape", "/abs", "a//b", "a/./b", "nul\x00byte", "", "a/.."])
def test_bad_object_names_are_refused(store: ObjectStore, bucket: str, name: str) -> None:
    with pytest.raises(InvalidName):
        store.put_object(bucket, name, b"x")


@pytest.mark.parametrize("bad", ["", "a/b", "x" * 257])
def test_bad_bucket_names_are_refused(store: ObjectStore, bad: str) -> None:
    with pytest.raises(InvalidName):
        store.put_object(bad, "x", b"x")


def test_unicode_and_odd_names_round_trip(store: ObjectStore, bucket: str) -> None:
    names = ["DATA/ä ö/—N %20 #?.txt", "DATA/" + "n" * 300, ".hidden", "DATA/a+b=c&d"]
    for name in names:
        store.put_object(bucket, name, name.encode())
    assert sorted(o.name for o in store.iter_objects(bucket)) == sorted(names)
    for name in names:
        assert store.get_object(bucket, name)[1] == name.encode()
