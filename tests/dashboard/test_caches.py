"""Object reads of the pages are cached per store identity, object and etag: a rerun reads nothing again, a new
version is read again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from streamlit.testing.v1 import AppTest

from core.serialize import dump_management, load_management
from core.services import sacct_selection
from core.services import session as session_service
from core.store.base import ObjectEntry, ObjectMetadata
from core.store.local import LocalStore

OpenPage = Callable[..., AppTest]


class CountingStore(LocalStore):
    """A LocalStore that counts whole-object reads (GETs) per object name."""

    reads: ClassVar[Counter[str]] = Counter()

    def get_object(self, bucket: str, name: str) -> tuple[ObjectMetadata, bytes]:
        CountingStore.reads[name] += 1
        return super().get_object(bucket, name)

    def stream_object(self, bucket: str, name: str, *, chunk_size: int = 1 << 20
                      ) -> tuple[ObjectMetadata, Iterator[bytes]]:
        CountingStore.reads[name] += 1
        return super().stream_object(bucket, name, chunk_size=chunk_size)


@pytest.fixture()
def counting(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    CountingStore.reads = Counter()
    monkeypatch.setattr(session_service, "build_store", lambda settings, state: CountingStore(store_dir))
    return CountingStore.reads


@pytest.fixture()
def heads(counting: Counter[str], monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """HEADs of the counting store, per object name."""
    asked: Counter[str] = Counter()
    original = CountingStore.head_object

    def head_object(self: CountingStore, bucket: str, name: str) -> ObjectMetadata:
        asked[name] += 1
        return original(self, bucket, name)

    monkeypatch.setattr(CountingStore, "head_object", head_object)
    return asked


def _reads(counting: Counter[str], folder: str) -> dict[str, int]:
    return {n: c for n, c in counting.items() if n.startswith(folder)}


def test_logs_page_reads_a_log_once_until_it_changes(open_page: OpenPage, store_dir: Path,
                                                     counting: Counter[str]) -> None:
    at = open_page("views/logs.py")
    assert not at.exception and not at.error
    name = at.query_params["object"]
    assert _reads(counting, "LOGS/") == {name: 1}
    at.run()
    at.run()
    assert _reads(counting, "LOGS/") == {name: 1}  # reruns are served from the cache
    LocalStore(store_dir).put_object("mlch-pipe-user-example-com", name, b"a new line of output\n")
    at.run()
    assert _reads(counting, "LOGS/") == {name: 2}  # a new etag: read again
    assert any("a new line of output" in c.value for c in at.code)


def test_times_and_management_reruns_read_no_object_again(open_page: OpenPage, counting: Counter[str]) -> None:
    at = open_page("views/times.py")
    assert not at.exception and not at.error
    first = _reads(counting, "TIMES/")
    assert first and set(first.values()) == {1}
    at.run()
    assert _reads(counting, "TIMES/") == first
    at.switch_page("views/management.py").run()
    assert not at.exception and not at.error
    management = _reads(counting, "MANAGEMENT/")
    assert management  # read once by the page (the Overview, the first page, reads it too)
    at.run()
    assert _reads(counting, "MANAGEMENT/") == management


def test_buckets_page_previews_an_object_once(open_page: OpenPage, counting: Counter[str]) -> None:
    at = open_page("views/buckets.py")
    at.selectbox(key="bucket").set_value("mlch-pipe-user-example-com").run()
    at.query_params.update(prefix="LOGS/", object="LOGS/slurm-3459879.out")  # the URL a row click makes
    at.run()
    assert not at.exception and not at.error
    assert "mlch-pipe-user-example-com/LOGS/slurm-3459879.out" in [t.value for t in at.text]
    previewed = _reads(counting, "LOGS/")
    assert previewed == {"LOGS/slurm-3459879.out": 1}
    at.run()
    assert _reads(counting, "LOGS/") == previewed


def test_overview_reruns_read_no_object_again_and_head_no_listed_object(
    open_page: OpenPage, counting: Counter[str], heads: Counter[str]
) -> None:
    at = open_page()  # the Overview is the default page
    assert not at.exception and not at.error
    first = dict(counting)
    assert _reads(counting, "MANAGEMENT/") and _reads(counting, "ARTIFACTS/SACCT/")
    heads.clear()
    at.run()
    at.run()
    assert not at.exception and not at.error
    assert dict(counting) == first  # reruns are served from the caches
    assert sum(heads.values()) == 0, heads  # nothing asked per listed run or management object


def test_overview_and_sacct_reruns_compute_no_job_metrics_again(
    open_page: OpenPage, counting: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.services import sacct as sacct_service

    computed: list[int] = []
    combined: list[int] = []
    metrics, combine = sacct_selection.metrics, sacct_service.combine
    monkeypatch.setattr(sacct_selection, "metrics", lambda frame: computed.append(len(frame)) or metrics(frame))
    monkeypatch.setattr(sacct_service, "combine", lambda frames: combined.append(len(frames)) or combine(frames))
    at = open_page()  # the Overview: metrics of its newest runs, once
    assert not at.exception and not at.error
    assert len(computed) == 1 and computed[0] > 0
    at.run()
    at.run()
    assert len(computed) == 1  # the failed jobs come from the cache while the runs are unchanged
    at.switch_page("views/sacct.py").run()
    assert not at.exception and not at.error
    after_sacct = (len(computed), len(combined))
    at.run()
    at.run()
    assert (len(computed), len(combined)) == after_sacct  # neither concatenated nor measured again


def test_a_management_rerun_asks_one_head_and_reads_a_new_version(
    open_page: OpenPage, store_dir: Path, counting: Counter[str], heads: Counter[str]
) -> None:
    at = open_page("views/management.py")
    assert not at.exception and not at.error
    name = at.query_params["object"]
    heads.clear()
    counting.clear()
    at.run()
    assert heads == {name: 1}  # its etag and last change from one HEAD; nothing downloaded
    assert _reads(counting, "MANAGEMENT/") == {}
    store = LocalStore(store_dir)
    bucket = "mlch-sub-air-user-example-com"
    content = load_management(store.get_object(bucket, name)[1])
    content["name"] = "renamed pipeline"
    store.put_object(bucket, name, dump_management(content))  # new content: a new etag
    at.run()
    assert not at.exception and not at.error
    assert _reads(counting, "MANAGEMENT/") == {name: 1}
    assert any("renamed pipeline" in c.value for c in at.caption)


def test_a_folder_total_is_counted_again_only_when_the_bucket_changed(
    open_page: OpenPage, store_dir: Path, counting: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    walks: list[str] = []
    original = CountingStore.iter_objects

    def iter_objects(self: CountingStore, bucket: str, *, prefix: str = "") -> Iterator[ObjectEntry]:
        walks.append(prefix)
        return original(self, bucket, prefix=prefix)

    monkeypatch.setattr(CountingStore, "iter_objects", iter_objects)
    bucket = "mlch-pipe-user-example-com"
    at = open_page("views/buckets.py")
    at.selectbox(key="bucket").set_value(bucket).run()
    at.query_params.update(prefix="LOGS/")
    at.run()
    assert not at.exception and not at.error
    caption = next(c.value for c in at.caption if c.value.startswith("This folder:"))
    assert walks.count("LOGS/") == 1
    at.run()
    at.run()
    assert walks.count("LOGS/") == 1  # the bucket did not change: the count comes from the cache
    LocalStore(store_dir).put_object(bucket, "LOGS/slurm-1.out", b"one more log\n")
    at.run()
    assert walks.count("LOGS/") == 2
    recounted = next(c.value for c in at.caption if c.value.startswith("This folder:"))
    count = int(caption.split()[2].replace(",", ""))
    assert recounted.startswith(f"This folder: {count + 1:,} objects")
