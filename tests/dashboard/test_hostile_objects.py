"""Hostile objects in storage, through the pages: refused or shown as text, one message naming the object, stored
data unchanged, nothing executed, reads bounded."""

from __future__ import annotations

import os
import pickle
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from core.demo import demo_orchestration
from core.errors import StoreUnavailable
from core.serialize import dump_management, frame_to_parquet
from core.store.local import LocalStore
from tests.dashboard.conftest import shown, texts

OpenPage = Callable[..., AppTest]
FORWARDER, PIPELINE, SUBMITTER = "mlch-for-air", "mlch-pipe-user-example-com", "mlch-sub-air-user-example-com"
#: Markup that a Markdown sink would turn into an image fetch and a link; the address is unused loopback.
MARKDOWN = "![leak](http://127.0.0.66:9/img.png) [click](http://127.0.0.66:9/) :red[red] **bold**"
#: The same in an object name, where '//' would be an empty path segment.
NAME_MARKDOWN = "![leak](leak.png) [click](leak.html) :red[red] **bold**"
HTML = "<img src=http://127.0.0.66:9/x.png onerror=alert(1)><b>bold</b>"


def _markdown_sinks(at: AppTest) -> list[str]:
    """The Markdown source of every element and label that Streamlit renders as Markdown."""
    values = [str(e.value) for g in (at.error, at.warning, at.info, at.success, at.caption, at.markdown) for e in g]
    values += [str(t.label) for t in at.tabs] + [str(b.label) for b in at.button]
    values += [str(m.label) for m in at.metric]
    return values


def _assert_no_markup(at: AppTest) -> None:
    for value in _markdown_sinks(at):
        assert "![" not in value and "](" not in value and ":red[" not in value and "**" not in value, value
        assert "<img" not in value and "<b>" not in value, value


def _snapshot(root: Path) -> dict[str, tuple[bytes, dict[str, object]]]:
    """Every stored object: its bytes and custom metadata."""
    store = LocalStore(root)
    return {f"{b.name}/{o.name}": (data, dict(meta.custom))
            for b in store.list_buckets() for o in store.iter_objects(b.name)
            for meta, data in [store.get_object(b.name, o.name)]}


def test_markup_in_management_content_and_names_is_shown_as_text(open_page: OpenPage, store_dir: Path) -> None:
    content = dump_management(demo_orchestration()).decode()
    hostile = content.replace('"puhti"', f'"puhti {MARKDOWN}"', 1)
    name = f"MANAGEMENT/zz {NAME_MARKDOWN}.json"
    LocalStore(store_dir).put_object(SUBMITTER, name, hostile.encode())
    at = open_page("views/management.py")
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = [shown(t.label) for t in at.tabs]
    assert f"puhti {MARKDOWN}" in labels
    assert f"{SUBMITTER}/{name}" in shown(texts(at))
    _assert_no_markup(at)


def test_markup_in_an_object_name_is_text_in_errors_buttons_and_captions(open_page: OpenPage,
                                                                         store_dir: Path) -> None:
    store = LocalStore(store_dir)
    store.put_object(FORWARDER, f"{NAME_MARKDOWN}/x.txt", b"hello")
    store.put_object(PIPELINE, f"TIMES/{NAME_MARKDOWN}.parquet", b"PAR1 damaged")
    at = open_page("views/buckets.py")
    at.selectbox(key="bucket").set_value(FORWARDER).run()
    assert not at.exception
    assert f"{NAME_MARKDOWN}/" in [shown(b.label) for b in at.button]
    _assert_no_markup(at)
    at = open_page("views/times.py")
    assert not at.exception and len(at.error) == 1
    assert f"{PIPELINE}/TIMES/{NAME_MARKDOWN}.parquet" in shown(at.error[0].value)
    _assert_no_markup(at)


def test_unexpected_column_types_are_one_error_naming_the_object(open_page: OpenPage, store_dir: Path) -> None:
    store = LocalStore(store_dir)
    times = pd.DataFrame({"begin": ["a", "b"], "end": ["c", "d"], "total": ["e", "f"]}, index=["run", "store"])
    store.put_object(PIPELINE, "TIMES/text-times.parquet", frame_to_parquet(times))
    at = open_page("views/times.py")
    assert not at.exception and len(at.error) == 1
    message = shown(at.error[0].value)
    assert f"{PIPELINE}/TIMES/text-times.parquet" in message and "begin" in message

    sacct = pd.DataFrame({"job-id": ["1", "2"], "step": ["", ""], "state": ["COMPLETED", "FAILED"],
                          "elapsed-seconds": ["long", "short"], "total-cpu-seconds": [1.0, 2.0]})
    store.put_object(FORWARDER, "ARTIFACTS/SACCT/zz-text.parquet", frame_to_parquet(sacct))
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["zz-text"]).run()
    assert not at.exception and len(at.error) == 1
    message = shown(at.error[0].value)
    assert f"{FORWARDER}/ARTIFACTS/SACCT/zz-text.parquet" in message and "elapsed-seconds" in message


def test_a_corrupt_sacct_parquet_names_the_object_and_stays_stored(open_page: OpenPage, store_dir: Path) -> None:
    store = LocalStore(store_dir)
    good = store.get_object(FORWARDER, next(o.name for o in store.iter_objects(FORWARDER, prefix="ARTIFACTS/SACCT/")))
    store.put_object(FORWARDER, "ARTIFACTS/SACCT/zz-corrupt.parquet", good[1][: len(good[1]) // 2])
    before = _snapshot(store_dir)
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["zz-corrupt"]).run()
    assert not at.exception and len(at.error) == 1
    assert f"{FORWARDER}/ARTIFACTS/SACCT/zz-corrupt.parquet" in shown(at.error[0].value)
    assert _snapshot(store_dir) == before


def test_a_parquet_expanding_past_the_row_limit_is_refused_before_decoding(
    open_page: OpenPage, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READ_LIMIT_ROWS", "1000")
    frame = pd.DataFrame({"job-id": [str(i) for i in range(5000)], "step": "", "state": "COMPLETED"})
    LocalStore(store_dir).put_object(FORWARDER, "ARTIFACTS/SACCT/zz-many.parquet", frame_to_parquet(frame))
    decoded: list[int] = []
    original = pq.ParquetFile.iter_batches

    def counting(self: pq.ParquetFile, *args: object, **kwargs: object) -> object:
        decoded.append(self.metadata.num_rows)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", counting)
    at = open_page("views/sacct.py")
    decoded.clear()
    at.multiselect[0].set_value(["zz-many"]).run()
    assert not at.exception and len(at.error) == 1
    message = shown(at.error[0].value)
    assert "ARTIFACTS/SACCT/zz-many.parquet" in message and "5,000 rows" in message and "READ_LIMIT_ROWS" in message
    assert 5000 not in decoded  # refused from the footer: no row of it was decoded


def test_a_parquet_expanding_past_the_decoded_bytes_limit_is_refused(
    open_page: OpenPage, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READ_LIMIT_MB", "2")
    # 300,000 copies of one 1 KiB value: a few KB of dictionary-encoded parquet, ~300 MB once decoded.
    column = pa.DictionaryArray.from_arrays(pa.array([0] * 300_000, pa.int32()), pa.array(["x" * 1024]))
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"begin": [0.0] * 300_000, "end": [1.0] * 300_000, "total": [1.0] * 300_000,
                             "note": column}), sink)
    data = sink.getvalue().to_pybytes()
    assert len(data) < 200_000
    LocalStore(store_dir).put_object(PIPELINE, "TIMES/zz-bomb.parquet", data)
    at = open_page("views/times.py")
    assert not at.exception and len(at.error) == 1
    message = shown(at.error[0].value)
    assert "TIMES/zz-bomb.parquet" in message and "READ_LIMIT_MB" in message


def _named_once(message: str, location: str, reason: str) -> None:
    """The message names the object (``bucket/name``) exactly once and still says what went wrong."""
    name = location.split("/", 1)[1]
    assert location in message and message.count(name) == 1 and reason in message, message


def test_every_page_names_a_damaged_object_once(open_page: OpenPage, store_dir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(store_dir)
    store.put_object(SUBMITTER, "MANAGEMENT/zz-damaged.json", b'{"x": ')
    store.put_object(FORWARDER, "ARTIFACTS/SACCT/zz-damaged.parquet", b"PAR1 damaged")
    store.put_object(PIPELINE, "TIMES/zz-damaged.parquet", b"PAR1 damaged")
    management = f"{SUBMITTER}/MANAGEMENT/zz-damaged.json"
    sacct = f"{FORWARDER}/ARTIFACTS/SACCT/zz-damaged.parquet"

    at = open_page("views/management.py")
    assert not at.exception and len(at.error) == 1
    _named_once(shown(at.error[0].value), management, "not valid JSON")

    at = open_page("views/overview.py")
    assert not at.exception
    warnings = [shown(w.value) for w in at.warning]
    _named_once(next(w for w in warnings if "zz-damaged.json" in w), management, "not valid JSON")
    _named_once(next(w for w in warnings if "zz-damaged.parquet" in w), sacct, "not a parquet object")

    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["zz-damaged"]).run()
    assert not at.exception and len(at.error) == 1
    _named_once(shown(at.error[0].value), sacct, "not a parquet object")

    at = open_page("views/times.py")
    assert not at.exception and len(at.error) == 1
    _named_once(shown(at.error[0].value), f"{PIPELINE}/TIMES/zz-damaged.parquet", "not a parquet object")

    at = open_page("views/buckets.py")
    at.selectbox(key="bucket").set_value(PIPELINE).run()
    at.query_params["object"] = "TIMES/zz-gone.parquet"  # a link to an object removed since
    at.run()
    assert not at.exception and len(at.warning) == 1
    _named_once(shown(at.warning[0].value), f"{PIPELINE}/TIMES/zz-gone.parquet", "no such object")



def test_damaged_objects_elsewhere_do_not_hide_a_job(open_page: OpenPage, store_dir: Path) -> None:
    store = LocalStore(store_dir)
    store.put_object(SUBMITTER, "MANAGEMENT/zz-damaged.json", b'{"x": ')  # the newest name: read first
    store.put_object(FORWARDER, "ARTIFACTS/SACCT/zz-damaged.parquet", b"PAR1 damaged")
    before = _snapshot(store_dir)
    at = open_page("views/job.py", params={"job": "3459879"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    warnings = [shown(w.value) for w in at.warning]
    _named_once(next(w for w in warnings if "zz-damaged.json" in w), f"{SUBMITTER}/MANAGEMENT/zz-damaged.json",
                "not valid JSON")
    _named_once(next(w for w in warnings if "zz-damaged.parquet" in w),
                f"{FORWARDER}/ARTIFACTS/SACCT/zz-damaged.parquet", "not a parquet object")
    assert {m.label: m.value for m in at.metric} == {"Platform": "mahti", "Status": "stored"}  # from MANAGEMENT/1
    assert "Memory Efficiency: 36.61% of 1.00 GiB" in texts(at)  # its sacct record, from the readable runs
    assert _snapshot(store_dir) == before


def test_a_failed_log_read_names_the_log_once(open_page: OpenPage, monkeypatch: pytest.MonkeyPatch) -> None:
    # Logs cannot be damaged (undecodable bytes are shown as U+FFFD); their read fails when storage does.
    original = LocalStore.stream_object

    def silent_on_logs(self: LocalStore, bucket: str, name: str, **kwargs: int) -> object:
        if name.startswith("LOGS/"):
            raise StoreUnavailable("Swift did not answer (ReadTimeout)", bucket=bucket, obj=name)
        return original(self, bucket, name, **kwargs)

    monkeypatch.setattr(LocalStore, "stream_object", silent_on_logs)
    at = open_page("views/logs.py")
    assert not at.exception and len(at.error) == 1
    _named_once(shown(at.error[0].value), f"{PIPELINE}/LOGS/", "Swift did not answer")
    at = open_page("views/job.py", params={"job": "3459879"})
    assert not at.exception and len(at.error) == 1
    _named_once(shown(at.error[0].value), f"{PIPELINE}/LOGS/slurm-3459879.out", "Swift did not answer")


class _RunsACommand:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_runs_a_command_is_refused_unexecuted(open_page: OpenPage, store_dir: Path,
                                                             tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    LocalStore(store_dir).put_object(SUBMITTER, "MANAGEMENT/zz-evil.pkl",
                                     pickle.dumps({"a": _RunsACommand(marker)}))
    at = open_page("views/management.py")
    assert not at.exception and len(at.error) == 1
    message = shown(at.error[0].value)
    assert f"{SUBMITTER}/MANAGEMENT/zz-evil.pkl" in message and "posix.system" in message
    at = open_page("views/buckets.py")
    at.selectbox(key="bucket").set_value(SUBMITTER).run()
    # A row click puts the object in the URL; AppTest cannot click a row, so it sets the URL the click would.
    at.query_params["prefix"] = "MANAGEMENT/"
    at.query_params["object"] = "MANAGEMENT/zz-evil.pkl"
    at.run()
    assert "posix.system" in shown(texts(at))  # the preview says why there is no tree
    assert not at.exception
    assert not marker.exists()


def test_truncated_json_and_oversized_management_objects_name_the_object(
    open_page: OpenPage, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(store_dir)
    content = dump_management(demo_orchestration())
    store.put_object(SUBMITTER, "MANAGEMENT/zz-truncated.json", content[: len(content) // 2])
    at = open_page("views/management.py")
    assert not at.exception and len(at.error) == 1
    assert f"{SUBMITTER}/MANAGEMENT/zz-truncated.json" in shown(at.error[0].value)

    monkeypatch.setenv("MANAGEMENT_LIMIT_MB", "1")
    store.put_object(SUBMITTER, "MANAGEMENT/zzz-huge.json", b'{"x": "' + b"a" * (2 * 2**20) + b'"}')
    at = open_page("views/management.py")
    assert not at.exception and len(at.error) == 1
    message = shown(at.error[0].value)
    assert f"{SUBMITTER}/MANAGEMENT/zzz-huge.json" in message and "MANAGEMENT_LIMIT_MB" in message


def test_a_log_of_hundreds_of_megabytes_is_read_bounded(open_page: OpenPage, store_dir: Path) -> None:
    store = LocalStore(store_dir)
    name = "LOGS/slurm-99999999.out"
    store.put_object(PIPELINE, name, b"start\n")
    with sqlite3.connect(store_dir / "store.db") as db:  # the file holding the object's bytes
        (relative,), = db.execute("SELECT file FROM objects WHERE bucket = ? AND name = ?", (PIPELINE, name))
    data_path = store_dir / relative
    size = 400 * 2**20
    with data_path.open("r+b") as handle:  # sparse: 400 MiB without writing them
        handle.truncate(size - 64)
        handle.seek(size - 64)
        handle.write(b"\n".join([b"the very last line of the job"] * 2).ljust(64, b"\n"))
    with sqlite3.connect(store_dir / "store.db") as db:  # the store records the size it now has
        db.execute("UPDATE objects SET size = ? WHERE bucket = ? AND name = ?", (size, PIPELINE, name))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py"), default_timeout=60)
    at.query_params["object"] = name
    at.switch_page("views/logs.py")  # opened at its URL, as a link to the log does
    began = time.monotonic()
    at.run()
    elapsed = time.monotonic() - began
    assert not at.exception and not at.error
    assert "the very last line of the job" in at.code[-1].value
    assert "not shown" in shown(texts(at))
    assert elapsed < 30, elapsed


def test_an_object_with_huge_metadata_is_listed_and_previewed(open_page: OpenPage, store_dir: Path) -> None:
    metadata: dict[str, str | int | float | list[int] | list[str]] = {
        f"key-{i}": f"{HTML} " + "v" * 4000 for i in range(200)}
    LocalStore(store_dir).put_object(FORWARDER, "ARTIFACTS/zz-meta.txt", b"content", metadata=metadata)
    at = open_page("views/buckets.py")
    at.selectbox(key="bucket").set_value(FORWARDER).run()
    at.query_params["prefix"] = "ARTIFACTS/"
    at.query_params["object"] = "ARTIFACTS/zz-meta.txt"
    at.run()
    assert not at.exception and not at.error
    assert any(len(frame.value) == 200 for frame in at.dataframe)  # the custom metadata table
    _assert_no_markup(at)
