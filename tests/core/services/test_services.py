"""core/services on the local store: what each page relies on."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from core.demo import SACCT_RUNS, seed_demo
from core.errors import Conflict, InputTooLarge
from core.serialize import frame_to_parquet, parquet_to_frame
from core.services import buckets, charts, logs, management, sacct, session, times, upload
from core.settings import Settings, load_settings
from core.store.local import LocalStore

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(tmp_path / "store")})


@pytest.fixture()
def store(settings: Settings) -> LocalStore:
    return LocalStore(settings.local_store_path)


class CountingStore:
    """Counts listing calls, to prove a page view costs one request."""

    def __init__(self, inner: LocalStore) -> None:
        self.inner = inner
        self.listings = 0

    def list_objects(self, *args: Any, **kwargs: Any) -> Any:
        self.listings += 1
        return self.inner.list_objects(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_demo_seeding_is_idempotent_and_never_overwrites(store: LocalStore, settings: Settings) -> None:
    first = seed_demo(store, settings)
    assert len(first.written) == 14 and first.skipped == 0
    name = "ARTIFACTS/SACCT/user-example-com-hyak-default.parquet"
    store.put_object("mlch-for-air", name, b"the user's own version")
    again = seed_demo(store, settings)
    assert again.written == [] and again.skipped == 14
    assert store.get_object("mlch-for-air", name)[1] == b"the user's own version"
    assert {b.name for b in store.list_buckets()} == {
        "mlch-for-air", "mlch-sub-air-user-example-com", "mlch-pipe-user-example-com", "mlch-exp-user-example-com"}


def test_browse_pages_a_big_folder_with_one_listing_per_page(store: LocalStore) -> None:
    for i in range(25):
        store.put_object("b", f"DATA/part-{i:03d}.csv", b"x" * i)
    store.put_object("b", "DATA/nested/deeper.txt", b"y")
    counting = CountingStore(store)
    page = buckets.browse(counting, "b", "DATA/", limit=10)  # type: ignore[arg-type]
    assert counting.listings == 1
    # Swift counts a folder entry in the page limit, and "nested/" sorts before "part-".
    assert page.folders == ["nested/"]
    assert page.objects["name"].tolist() == [f"part-{i:03d}.csv" for i in range(9)]
    assert page.breadcrumbs == [("b", ""), ("DATA", "DATA/")]
    seen = page.objects["name"].tolist() + page.folders
    while page.next_marker:
        page = buckets.browse(counting, "b", "DATA/", page.next_marker, limit=10)  # type: ignore[arg-type]
        seen += page.objects["name"].tolist()
        seen += page.folders
    assert len(seen) == 26 and "nested/" in seen
    assert counting.listings == 3


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


def test_management_tables_per_platform(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    bucket = management.submitter_bucket(settings)
    names = management.list_management(store, settings)
    orchestration = management.load_orchestration(store, bucket, names[-1])
    assert management.platform_order(orchestration) == ["puhti", "mahti", "lumi"]
    mahti = orchestration.platforms["mahti"]
    jobs = management.job_table(mahti)
    assert jobs["status"].tolist() == ["cancelled", "complete", "failed", "started"]
    transfers = management.transfer_table(mahti)
    assert set(transfers["direction"]) == {"send", "get"}
    spaces = management.workspace_table(mahti)
    assert spaces["capacity used"].between(0, 1).all()


def test_times_offsets_start_each_run_at_zero(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    runs = times.list_runs(store, settings)
    frame = times.load_runs(store, settings, runs)
    timed = frame[frame["total"] > 0]
    assert (timed.groupby("run")["offset"].min() == 0).all()
    assert (frame["offset"] >= 0).all()
    fig = charts.times_timeline(frame)
    assert fig.layout.xaxis.title.text == "seconds since the run started"


def test_sacct_runs_filters_and_metrics(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    runs = sacct.list_runs(store, settings)
    assert len(runs) == len(SACCT_RUNS)
    hyak = next(r for r in runs if r.name.endswith("hyak-default"))
    frame = sacct.combine([sacct.load_run(store, "mlch-for-air", hyak.object)])
    assert len(frame) == 2292
    only_jobs = sacct.apply_filters(frame, sacct.Filters(step_kinds=["job"]))
    assert len(only_jobs) == 753
    timeouts = sacct.apply_filters(frame, sacct.Filters(states=["TIMEOUT"], step_kinds=["job"]))
    assert set(timeouts["state"]) == {"TIMEOUT"}
    jobs = sacct.metrics(frame)
    assert len(jobs) == 753
    # Hyak's default fields have no TotalCPU: efficiency is unknown, not zero.
    assert jobs["cpu-efficiency"].isna().all()
    selection = sacct.select(frame, jobs, sacct.Filters(states=["TIMEOUT"]))
    summary = sacct.summary(selection)
    assert summary.median_cpu_efficiency is None and summary.cpu_efficiency_jobs == 0
    assert summary.jobs == len(selection.jobs) == (selection.rows["step"] == "").sum()
    assert set(selection.jobs["state"]) == {"TIMEOUT"} and summary.failed == summary.jobs


def test_efficiency_chart_leaves_unknown_values_out(store: LocalStore) -> None:
    jobs = pd.DataFrame({"job-id": ["1", "2"], "cpu-efficiency": [0.5, None], "time-efficiency": [None, None],
                         "memory-efficiency": [None, None], "run": ["r", "r"]})
    fig = charts.efficiency(jobs)
    plotted = [v for trace in fig.data for v in (trace.x if trace.x is not None else [])]
    assert 0 not in plotted and 0.0 not in plotted


def test_upload_names_sizes_versions(store: LocalStore, settings: Settings) -> None:
    assert upload.run_name("  mahti ray  2024 ") == "mahti-ray-2024"
    for bad in ("", "../x", "a/b", "-x", "x" * 81):
        with pytest.raises(ValueError, match="run name"):
            upload.run_name(bad)
    with pytest.raises(InputTooLarge, match="UPLOAD_LIMIT_MB"):
        upload.check_size(settings.upload_limit_bytes + 1, settings)
    parsed = upload.parse_upload((DATA / "sacct" / "09_tdhock_parsable2_multiuser.txt").read_bytes(), settings)
    first = upload.store_run(store, settings, "cedar", parsed)
    assert first.version == 1 and first.object == "ARTIFACTS/SACCT/user-example-com-cedar.parquet"
    with pytest.raises(Conflict):
        upload.store_run(store, settings, "cedar", parsed)
    second = upload.store_run(store, settings, "cedar", parsed, replace=True)
    assert second.version == 2 and upload.current_version(store, settings, "cedar") == 2
    assert len(parquet_to_frame(store.get_object("mlch-for-air", first.object)[1])) == 572
    jobs = upload.preview_jobs(parsed)
    assert jobs is not None and len(jobs) == 448


def test_logs_search_tail_and_counts() -> None:
    text = "start\nslurmstepd: error: *** JOB 1 CANCELLED AT x ***\nWARNING: low\nend\n"
    assert logs.search(text, "cancelled") == [(2, "slurmstepd: error: *** JOB 1 CANCELLED AT x ***")]
    assert logs.tail(text, 2) == "WARNING: low\nend"
    assert logs.highlights(text) == {"lines": 4, "errors": 1, "warnings": 1, "cancelled": 1}


def test_log_list_orders_by_job_and_labels_kinds(store: LocalStore, settings: Settings) -> None:
    bucket = times.pipeline_bucket(settings)
    for name in ("LOGS/slurm-20.out", "LOGS/slurm-3.out", "LOGS/seff-3.txt", "LOGS/slurm-7_2.err", "LOGS/notes.md"):
        store.put_object(bucket, name, b"x")
    refs = logs.list_logs(store, settings)
    assert [(r.job_id, r.kind) for r in refs] == [
        ("notes.md", "file"), ("3", "seff report"), ("3", "output"), ("7_2", "error output"), ("20", "output")]


def test_session_description_never_carries_the_password(settings: Settings) -> None:
    state = {"kind": "swift", "auth_url": "http://k/v3", "username": "alice", "password": "s3cr3t-pw",
             "project_name": "demo-a", "user_domain_name": "Default", "project_domain_name": "Default",
             "storage_url": "http://s/v1/AUTH_x", "token": "gAAAA-token"}
    active = session.describe(settings, state)
    assert active is not None
    assert "s3cr3t-pw" not in repr(active) and "gAAAA-token" not in repr(active)
    assert session.describe(settings, None) is None
    assert session.default_session(settings) == {"kind": "local"}
    swift = load_settings(None, {"STORE": "swift"})
    assert session.default_session(swift) is None
