"""Object reads of the pages are cached per store identity, object and etag: a rerun reads nothing again, a new
version is read again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.serialize import dump_management, load_management
from core.services import sacct_selection
from core.services import session as session_service
from core.store.local import LocalStore
from stack.counting import Calls, CountingStore

OpenPage = Callable[..., AppTest]


@pytest.fixture()
def counting(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Calls:
    """What the page's stores were asked, over every run (each run builds its store)."""
    calls = Calls()
    monkeypatch.setattr(session_service, "build_store",
                        lambda settings, state: CountingStore(LocalStore(store_dir), calls))
    return calls


def test_logs_page_reads_a_log_once_until_it_changes(open_page: OpenPage, store_dir: Path,
                                                     counting: Calls) -> None:
    at = open_page("views/logs.py")
    assert not at.exception and not at.error
    name = at.query_params["object"]
    assert counting.reads("LOGS/") == {name: 1}
    at.run()
    at.run()
    assert counting.reads("LOGS/") == {name: 1}  # reruns are served from the cache
    LocalStore(store_dir).put_object("mlch-pipe-user-example-com", name, b"a new line of output\n")
    at.run()
    assert counting.reads("LOGS/") == {name: 2}  # a new etag: read again
    assert any("a new line of output" in c.value for c in at.code)


def test_times_and_management_reruns_read_no_object_again(open_page: OpenPage, counting: Calls) -> None:
    at = open_page("views/times.py")
    assert not at.exception and not at.error
    first = counting.reads("TIMES/")
    assert first and set(first.values()) == {1}
    at.run()
    assert counting.reads("TIMES/") == first
    at.switch_page("views/management.py").run()
    assert not at.exception and not at.error
    management = counting.reads("MANAGEMENT/")
    assert management  # read once by the page (the Overview, the first page, reads it too)
    at.run()
    assert counting.reads("MANAGEMENT/") == management


def test_buckets_page_previews_an_object_once(open_page: OpenPage, counting: Calls) -> None:
    at = open_page("views/buckets.py")
    at.selectbox(key="bucket").set_value("mlch-pipe-user-example-com").run()
    at.query_params.update(prefix="LOGS/", object="LOGS/slurm-3459879.out")  # the URL a row click makes
    at.run()
    assert not at.exception and not at.error
    assert "mlch-pipe-user-example-com/LOGS/slurm-3459879.out" in [t.value for t in at.text]
    previewed = counting.reads("LOGS/")
    assert previewed == {"LOGS/slurm-3459879.out": 1}
    at.run()
    assert counting.reads("LOGS/") == previewed


def test_overview_reruns_read_no_object_again_and_head_no_listed_object(
    open_page: OpenPage, counting: Calls
) -> None:
    at = open_page()  # the Overview is the default page
    assert not at.exception and not at.error
    first = counting.reads()
    assert counting.reads("MANAGEMENT/") and counting.reads("ARTIFACTS/SACCT/")
    counting.clear("head_object")
    at.run()
    at.run()
    assert not at.exception and not at.error
    assert counting.reads() == first  # reruns are served from the caches
    # Nothing is asked per listed run or management object.
    assert counting.total("head_object") == 0, counting.of("head_object")


def test_overview_and_sacct_reruns_compute_no_job_metrics_again(
    open_page: OpenPage, counting: Calls, monkeypatch: pytest.MonkeyPatch
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
    open_page: OpenPage, store_dir: Path, counting: Calls
) -> None:
    at = open_page("views/management.py")
    assert not at.exception and not at.error
    name = at.query_params["object"]
    counting.clear()
    at.run()
    assert counting.of("head_object") == {name: 1}  # its etag and last change from one HEAD; nothing downloaded
    assert counting.reads("MANAGEMENT/") == {}
    store = LocalStore(store_dir)
    bucket = "mlch-sub-air-user-example-com"
    content = load_management(store.get_object(bucket, name)[1])
    content["name"] = "renamed pipeline"
    store.put_object(bucket, name, dump_management(content))  # new content: a new etag
    at.run()
    assert not at.exception and not at.error
    assert counting.reads("MANAGEMENT/") == {name: 1}
    assert any("renamed pipeline" in c.value for c in at.caption)


def test_a_folder_total_is_counted_again_only_when_the_bucket_changed(
    open_page: OpenPage, store_dir: Path, counting: Calls
) -> None:
    bucket = "mlch-pipe-user-example-com"
    at = open_page("views/buckets.py")
    at.selectbox(key="bucket").set_value(bucket).run()
    at.query_params.update(prefix="LOGS/")
    at.run()
    assert not at.exception and not at.error
    caption = next(c.value for c in at.caption if c.value.startswith("This folder:"))
    assert counting.of("iter_objects").get("LOGS/") == 1
    at.run()
    at.run()
    assert counting.of("iter_objects").get("LOGS/") == 1  # the bucket did not change: the count comes from the cache
    LocalStore(store_dir).put_object(bucket, "LOGS/slurm-1.out", b"one more log\n")
    at.run()
    assert counting.of("iter_objects").get("LOGS/") == 2
    recounted = next(c.value for c in at.caption if c.value.startswith("This folder:"))
    count = int(caption.split()[2].replace(",", ""))
    assert recounted.startswith(f"This folder: {count + 1:,} objects")
