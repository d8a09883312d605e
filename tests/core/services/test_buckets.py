"""core.services.buckets: browsing folders page by page and previewing objects by their content."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pandas as pd

from core.serialize import frame_to_parquet
from core.services import buckets
from core.store.local import LocalStore
from core.store.versioning import put_versioned
from stack.counting import CountingStore


def test_browse_pages_a_big_folder_with_one_listing_per_page(store: LocalStore) -> None:
    for i in range(25):
        store.put_object("b", f"DATA/part-{i:03d}.csv", b"x" * i)
    store.put_object("b", "DATA/nested/deeper.txt", b"y")
    counting = CountingStore(store)
    page = buckets.browse(counting, "b", "DATA/", limit=10)
    assert counting.calls.total("list_objects") == 1
    # Swift counts a folder entry in the page limit, and "nested/" sorts before "part-".
    assert page.folders == ["nested/"]
    assert page.objects["name"].tolist() == [f"part-{i:03d}.csv" for i in range(9)]
    assert page.breadcrumbs == [("b", ""), ("DATA", "DATA/")]
    seen = page.objects["name"].tolist() + page.folders
    while page.next_marker:
        page = buckets.browse(counting, "b", "DATA/", page.next_marker, limit=10)
        seen += page.objects["name"].tolist()
        seen += page.folders
    assert len(seen) == 26 and "nested/" in seen
    assert counting.calls.total("list_objects") == 3


def test_object_detail_previews_by_content(store: LocalStore) -> None:
    frame = pd.DataFrame({"a": range(500)})
    store.put_object("b", "ARTIFACTS/t.parquet", frame_to_parquet(frame), metadata={"version": 3})
    table = buckets.object_detail(store, "b", "ARTIFACTS/t.parquet")
    assert table.kind == "table" and len(table.preview) == 200 and table.custom == {"version": 3}
    assert "500 rows" in table.note

    store.put_object("b", "MANAGEMENT/1.pkl", pickle.dumps({"name": "x", "platforms": {}}))
    assert buckets.object_detail(store, "b", "MANAGEMENT/1.pkl").kind == "tree"

    store.put_object("b", "LOGS/slurm-1.out", "héllo\n".encode())
    text = buckets.object_detail(store, "b", "LOGS/slurm-1.out")
    assert text.kind == "text" and text.preview == "héllo\n"

    store.put_object("b", "CODE/blob.bin", bytes(range(256)))
    binary = buckets.object_detail(store, "b", "CODE/blob.bin")
    assert binary.kind == "binary" and binary.hex_head.startswith("00000000  00 01 02")


def test_a_hostile_pickle_is_never_run_in_a_preview(store: LocalStore, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (Path.touch, (marker,))

    store.put_object("b", "MANAGEMENT/2.pkl", pickle.dumps(Evil()))
    detail = buckets.object_detail(store, "b", "MANAGEMENT/2.pkl")
    assert detail.kind != "tree" and "not a management object" in detail.note
    assert not marker.exists()


def test_folder_totals_count_every_level_and_stop_at_the_limit(store: LocalStore) -> None:
    for i in range(5):
        store.put_object("b", f"DATA/part-{i}.csv", b"x" * 100)
    store.put_object("b", "DATA/nested/deeper.txt", b"y" * 24)
    store.put_object("b", "OTHER/z.txt", b"z")
    total = buckets.folder_total(store, "b", "DATA/")
    assert (total.objects, total.bytes, total.complete) == (6, 524, True)
    assert total.describe() == "6 objects, 524 B (all levels below)"
    cut = buckets.folder_total(store, "b", "DATA/", limit=3)
    assert (cut.objects, cut.complete) == (3, False)
    assert cut.describe().startswith("at least 3 objects, at least ")


def test_page_markers_reopen_page_n_of_a_folder_from_a_link(store: LocalStore) -> None:
    for i in range(250):
        store.put_object("b", f"DATA/part-{i:03d}.csv", b"x")
    counting = CountingStore(store)
    markers = buckets.page_markers(counting, "b", "DATA/", 3, [None])
    # Pages 1 and 2 are listed to find where page 3 starts.
    assert len(markers) == 3 and counting.calls.total("list_objects") == 2
    third = buckets.browse(store, "b", "DATA/", markers[2])
    assert third.objects["name"].tolist() == [f"part-{i:03d}.csv" for i in range(200, 250)]
    assert buckets.page_markers(counting, "b", "DATA/", 3, markers) == markers
    assert counting.calls.total("list_objects") == 2
    assert len(buckets.page_markers(store, "b", "DATA/", 9, [None])) == 3  # the folder has 3 pages


def test_stored_versions_are_shown_as_versions_of_their_object(store: LocalStore) -> None:
    for data in (b"one", b"two!", b"three"):
        put_versioned(store, "b", "ARTIFACTS/SACCT/u-run.parquet", data)
    table = buckets.versions_table(store, "b", "ARTIFACTS/SACCT/u-run.parquet")
    assert table["version"].tolist() == [3, 2, 1]
    assert table["bytes"].tolist() == [5, 4, 3]
    newest = table["object"].iat[0]
    assert newest.startswith(".versions/ARTIFACTS/SACCT/u-run.parquet/")
    assert store.get_object("b", newest)[1] == b"three"
    assert buckets.versions_table(store, "b", "ARTIFACTS/none.parquet").empty
    assert buckets.version_of(store, "b", newest) == ("ARTIFACTS/SACCT/u-run.parquet", 3)
    assert buckets.version_of(store, "b", "ARTIFACTS/SACCT/u-run.parquet") is None
    assert buckets.version_of(store, "b", ".versions/notes.txt") is None
    page = buckets.browse(store, "b", ".versions/ARTIFACTS/SACCT/u-run.parquet/")
    assert buckets.label_versions(store, "b", page.objects)["name"].tolist() == [
        f"version {n} of ARTIFACTS/SACCT/u-run.parquet" for n in (1, 2, 3)]
    plain = buckets.browse(store, "b", "ARTIFACTS/SACCT/")
    assert buckets.label_versions(store, "b", plain.objects) is plain.objects
