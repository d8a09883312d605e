"""Every page of the real app, rendered by AppTest on the seeded demo store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.demo import LOGS
from core.serialize import load_management, parquet_to_frame
from core.store.local import LocalStore
from tests import samples
from tests.dashboard.conftest import seed_public_runs, texts
from tests.dashboard.conftest import shown as unescaped

OpenPage = Callable[..., AppTest]


def _no_trouble(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_buckets_page_counts_the_demo_buckets_and_previews_an_object(open_page: OpenPage, store_dir: Path) -> None:
    at = open_page("views/buckets.py")
    _no_trouble(at)
    store = LocalStore(store_dir)
    buckets = store.list_buckets()
    metrics = _metrics(at)
    assert metrics["Buckets"] == str(len(buckets)) == "4"
    assert metrics["Objects"] == f"{sum(b.object_count for b in buckets):,}"
    table = at.dataframe[0].value
    assert sorted(table["bucket"]) == sorted(b.name for b in buckets)
    assert "mlch-sub-air-user-example-com" in table["bucket"].tolist()
    # The first bucket holding objects is shown first; its top level is one folder.
    assert at.selectbox(key="bucket").value == "mlch-for-air"
    assert [unescaped(b.label) for b in at.button if b.key and b.key.startswith("folder-")] == ["ARTIFACTS/"]


def test_buckets_page_navigates_folders_and_shows_a_parquet_preview(open_page: OpenPage, store_dir: Path) -> None:
    seed_public_runs(store_dir, ["hyak-default"])
    at = open_page("views/buckets.py")
    at.button(key="folder-ARTIFACTS/").click().run()
    at.button(key="folder-SACCT/").click().run()
    _no_trouble(at)
    assert [unescaped(b.label) for b in at.button if b.key and b.key.startswith("crumb-")] == [
        "mlch-for-air /", "ARTIFACTS /", "SACCT /"]
    assert at.query_params["prefix"] == "ARTIFACTS/SACCT/"
    listed = at.dataframe[1].value["name"].tolist()
    assert "user-example-com-hyak-default.parquet" in listed
    # A row click puts the object in the URL; AppTest cannot click a row, so it sets the URL the click would.
    at.query_params["object"] = "ARTIFACTS/SACCT/user-example-com-hyak-default.parquet"
    at.run()
    _no_trouble(at)
    shown = texts(at)
    assert "mlch-for-air/ARTIFACTS/SACCT/user-example-com-hyak-default.parquet" in shown
    preview = at.dataframe[-1].value
    assert {"job-id", "state", "alloc-cpus"} <= set(preview.columns)
    assert len(preview) == 200  # the first rows of 2292
    custom = at.dataframe[-2].value
    assert dict(zip(custom.iloc[:, 0], custom.iloc[:, 1], strict=True))["version"] == "1"
    assert at.get("download_button")


def test_an_object_over_the_download_limit_is_not_offered_for_download(
        open_page: OpenPage, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Streamlit keeps a download in the app's memory for the whole session: a 2 GB object held 2 GB per session.
    monkeypatch.setenv("DOWNLOAD_LIMIT_MB", "1")
    store = LocalStore(store_dir)
    store.put_object("mlch-for-air", "DATA/big.bin", b"\0" * (2 * 2**20))
    store.put_object("mlch-for-air", "DATA/small.bin", b"\0" * (2**20))
    at = open_page("views/buckets.py")
    at.query_params.update(bucket="mlch-for-air", prefix="DATA/", object="DATA/big.bin")
    at.run()
    _no_trouble(at)
    assert not at.get("download_button")
    note = next(unescaped(i.value) for i in at.info if "DOWNLOAD" in i.value)
    assert "2.00 MiB" in note and "1.00 MiB" in note and "swift download mlch-for-air DATA/big.bin" in note
    at = open_page("views/buckets.py")
    at.query_params.update(bucket="mlch-for-air", prefix="DATA/", object="DATA/small.bin")
    at.run()
    _no_trouble(at)
    assert at.get("download_button")  # exactly at the limit: offered


def test_buckets_object_view_reads_earlier_versions_through_a_picker(open_page: OpenPage, store_dir: Path) -> None:
    from core.store.versioning import put_versioned

    store = LocalStore(store_dir)
    name = "DATA/notes.txt"
    for text in (b"first words\n", b"second words\n", b"third words\n"):
        put_versioned(store, "mlch-for-air", name, text)
    at = open_page("views/buckets.py")
    at.query_params.update(bucket="mlch-for-air", prefix="DATA/", object=name)
    at.run()
    _no_trouble(at)
    picker = at.selectbox(key=f"version-mlch-for-air-{name}")
    assert picker.options == ["current (newest)", "version 3 of 3", "version 2 of 3", "version 1 of 3"]
    assert "third words" in at.code[-1].value
    picker.set_value(1).run()
    _no_trouble(at)
    assert "first words" in at.code[-1].value  # read through versioning.get_version
    custom = at.dataframe[-2].value  # general and custom metadata side by side, then the versions table
    assert dict(zip(custom.iloc[:, 0], custom.iloc[:, 1], strict=True))["version"] == "1"
    assert at.query_params["version"] == "1"  # the view reopens on that version
    reopened = open_page("views/buckets.py")
    reopened.query_params.update(bucket="mlch-for-air", prefix="DATA/", object=name, version="2")
    reopened.run()
    _no_trouble(reopened)
    assert "second words" in reopened.code[-1].value
    # A version that is not stored says what is shown instead.
    gone = open_page("views/buckets.py")
    gone.query_params.update(bucket="mlch-for-air", prefix="DATA/", object=name, version="9")
    gone.run()
    assert not gone.exception
    assert "third words" in gone.code[-1].value and "version" in texts(gone)


def test_buckets_page_breadcrumb_goes_back_to_the_bucket_root(open_page: OpenPage) -> None:
    at = open_page("views/buckets.py")
    at.button(key="folder-ARTIFACTS/").click().run()
    at.button(key="crumb-0").click().run()
    assert [unescaped(b.label) for b in at.button if b.key and b.key.startswith("folder-")] == ["ARTIFACTS/"]


def test_management_page_has_a_tab_per_platform_with_every_status(open_page: OpenPage, store_dir: Path) -> None:
    at = open_page("views/management.py")
    _no_trouble(at)
    assert [unescaped(t.label) for t in at.tabs] == ["puhti", "mahti", "roihu", "lumi"]
    assert at.query_params["object"] == "MANAGEMENT/3.json"  # the newest object: the run under way

    def shown_statuses(page: AppTest, name: str) -> set[str]:
        stored = load_management(LocalStore(store_dir).get_object("mlch-sub-air-user-example-com", name)[1])
        assert _metrics(page)["Jobs"] == str(sum(len(p["jobs"]) for p in stored["platforms"].values()))
        statuses: set[str] = set()
        for frame in (d.value for d in page.dataframe):
            data = getattr(frame, "data", frame)  # a Styler keeps its frame in .data
            if "status" in data.columns:
                statuses |= set(data["status"])
        return statuses

    # Each pipeline run's object holds its part of the statuses; together, every one.
    assert shown_statuses(at, "MANAGEMENT/3.json") == {"new", "started", "pending", "running", "complete"}
    at.selectbox(key="management-object").set_value("MANAGEMENT/1.json").run()
    _no_trouble(at)
    assert shown_statuses(at, "MANAGEMENT/1.json") == {"stored", "failed"}
    at.selectbox(key="management-object").set_value("MANAGEMENT/2.json").run()
    assert shown_statuses(at, "MANAGEMENT/2.json") == {"stored", "cancelled"}
    shown = texts(at)
    assert "Modules:" in shown and "Packages:" in shown


def test_times_page_compares_every_run(open_page: OpenPage) -> None:
    at = open_page("views/times.py")
    _no_trouble(at)
    runs = at.multiselect[0]
    assert runs.value == ["run-1", "run-2", "run-3"]  # one per pipeline run (MANAGEMENT/1.json … 3.json)
    assert _metrics(at)["Runs"] == "3"
    assert len(at.get("plotly_chart")) == 2
    runs.set_value(["run-2"]).run()
    assert _metrics(at)["Runs"] == "1"
    assert at.dataframe[0].value["run"].tolist() == ["run-2"]


def test_times_page_explains_an_empty_selection(open_page: OpenPage) -> None:
    at = open_page("views/times.py")
    at.multiselect[0].set_value([]).run()
    assert "Pick one or more runs" in texts(at)


def test_sacct_page_charts_all_demo_runs_and_filters_by_state(open_page: OpenPage, store_dir: Path) -> None:
    at = open_page("views/sacct.py")
    _no_trouble(at)
    # The demo's four runs, one per cluster: the rule the Overview counts by, said on the page.
    assert at.multiselect[0].value == [f"user-example-com-{p}-2024-05" for p in ("lumi", "roihu", "mahti", "puhti")]
    assert "Showing the 4 most recently stored SACCT runs (at most 6, newest first)" in texts(at)
    views = at.segmented_control(key="sacct-view")
    assert views.options == ["States", "Elapsed", "Efficiency", "Findings", "Sweeps", "Timeline", "Queue wait",
                             "Disk I/O", "Platforms", "Table"]
    assert len(at.get("plotly_chart")) == 1  # only the chosen view is built
    for view, charts in (("Efficiency", 2), ("Timeline", 1), ("Disk I/O", 1)):
        views.set_value(view).run()
        assert not at.exception and len(at.get("plotly_chart")) == charts
    views.set_value("Table").run()
    assert _metrics(at)["Jobs"] == "28"  # core/demo_data/pipeline.py: 8 Puhti, 11 Mahti, 4 Roihu, 5 LUMI jobs
    seed_public_runs(store_dir, ["hyak-default"])
    at.run()
    at.multiselect[0].set_value(["user-example-com-hyak-default"]).run()
    assert _metrics(at)["Jobs"] == "753"  # SOURCES.md: 753 job records in the Hyak sample
    at.multiselect[1].set_value(["TIMEOUT"]).run()
    _no_trouble(at)
    timeouts = int(_metrics(at)["Jobs"].replace(",", ""))
    assert 0 < timeouts < 753
    table = at.dataframe[-1].value  # the first one lists the chosen runs
    assert set(table["State"]) == {"TIMEOUT"}


def test_sacct_page_table_switches_to_raw_rows(open_page: OpenPage, store_dir: Path) -> None:
    seed_public_runs(store_dir, ["hyak-default"])
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["user-example-com-hyak-default"]).run()
    at.segmented_control(key="sacct-view").set_value("Table").run()
    at.radio[0].set_value("All sacct rows").run()
    assert len(at.dataframe[-1].value) == 2292


def test_logs_page_searches_in_context_links_a_line_and_tails_a_log(open_page: OpenPage) -> None:
    at = open_page("views/logs.py")
    _no_trouble(at)
    jobs = at.dataframe[0].value["job"].tolist()
    assert len(jobs) == len(LOGS) and jobs[:2] == ["812345", "812345"]  # output and seff report, by job id
    # The newest job id is shown first: Puhti's training, still running (no seff report yet).
    assert jobs[-1] == "21545020" and at.query_params["object"] == "LOGS/slurm-21545020.out"
    # The cancelled Ray cluster on Mahti: its real log has three slurmstepd errors.
    at.query_params["object"] = "LOGS/slurm-3461753.out"
    at.run()
    _no_trouble(at)
    source = samples.log("ray_slurm_artifacts_2.txt").read_text()
    lines = source.splitlines()
    metrics = _metrics(at)
    assert metrics["Lines"] == f"{len(lines):,}"
    # Each line counted once: slurmstepd's "error: *** ... CANCELLED AT" lines are cancels, not also errors.
    assert metrics["Errors"] == str(sum("error" in line.lower() and "cancelled" not in line.lower() for line in lines))
    assert metrics["Cancelled"] == str(sum("cancelled" in line.lower() for line in lines))
    at.text_input(key="search").input("CANCELLED AT").run()
    shown = at.code[0].value.splitlines()
    hits = [line for line in shown if line.startswith(">")]
    assert len(hits) == 3 and all("CANCELLED AT" in line for line in hits)
    assert [int(line[1:].split()[0]) for line in hits] == [444, 445, 446]
    # Context: the two lines before the first hit, with their numbers.
    assert shown[0].split(maxsplit=1) == ["442", lines[441]]
    assert at.dataframe[1].value["line"].tolist() == [444, 445, 446]
    # A hit's line in the URL shows that line in context (what selecting the hit's row does).
    at.query_params["line"] = "445"
    at.run()
    _no_trouble(at)
    assert "Line 445" in [h.value for h in at.subheader]
    window = next(c.value for c in at.code if c.value.lstrip().startswith("435 "))
    assert f">{445:>6}  {lines[444]}" in window.splitlines()
    assert window.splitlines()[-1].split(maxsplit=1) == ["446", lines[445]]  # the log ends at 446
    at.slider(key="tail").set_value(20).run()
    assert at.code[-1].value.splitlines() == lines[-20:]
    at.query_params["object"] = "LOGS/slurm-3459879.out"
    at.query_params.pop("line")
    at.run()
    assert _metrics(at)["Errors"] == "0"


def test_logs_page_says_when_a_linked_log_or_line_is_gone(open_page: OpenPage) -> None:
    at = open_page("views/logs.py")
    at.query_params["object"] = "LOGS/slurm-1.out"
    at.run()
    _no_trouble(at)
    assert "'LOGS/slurm\\-1\\.out', which is not there" in texts(at)
    assert at.query_params["object"] == "LOGS/slurm-21545020.out"  # the newest job's log instead


def test_sign_in_page_offers_both_stores_and_never_prefills_a_password(
    open_page: OpenPage, monkeypatch: object
) -> None:
    at = open_page("views/sign_in.py")
    _no_trouble(at)
    assert at.button[0].label == "Use the local store"
    at.radio[0].set_value("Swift + Keystone (CSC Allas)").run()
    fields = {t.label: t.value for t in at.text_input}
    assert fields["Password"] == ""
    assert fields["Keystone URL"] == "https://pouta.csc.fi:5001/v3"


def _upload(at: AppTest, text: str, run: str = "") -> AppTest:
    at.text_area(key="upload_text").input(text)
    if run:
        at.text_input(key="upload_run").input(run)
    return at.button(key="parse").click().run()


def test_upload_parses_stores_and_versions_a_run(open_page: OpenPage, store_dir: Path) -> None:
    text = samples.sacct("01_hyak_default_fixedwidth.txt").read_text()
    at = _upload(open_page("views/upload.py"), text, run="hyak march")
    _no_trouble(at)
    assert "2,292 rows in fixed-width format" in texts(at)
    assert len(at.get("plotly_chart")) == 2
    at.button(key="store").click().run()
    _no_trouble(at)
    assert "as version 1" in texts(at)
    store = LocalStore(store_dir)
    name = "ARTIFACTS/SACCT/user-example-com-hyak-march.parquet"
    meta, data = store.get_object("mlch-for-air", name)
    assert meta.custom["version"] == 1
    assert len(parquet_to_frame(data)) == 2292
    # Storing the same run again asks first, then keeps version 1 and adds version 2.
    at.button(key="store").click().run()
    assert "already stored (version 1)" in texts(at)
    assert store.head_object("mlch-for-air", name).custom["version"] == 1
    at.button(key="confirm").click().run()
    _no_trouble(at)
    assert "as version 2" in texts(at)
    assert store.head_object("mlch-for-air", name).custom["version"] == 2
    versions = [o.name for o in store.iter_objects("mlch-for-air", prefix=f".versions/{name}/")]
    assert len(versions) == 2


def test_upload_shows_warnings_with_line_numbers(open_page: OpenPage) -> None:
    text = "JobID|State|Elapsed\n1|COMPLETED|00:01:00\n2|FAILED\n3|COMPLETED|00:02:00\n"
    at = _upload(open_page("views/upload.py"), text)
    _no_trouble(at)
    assert "2 rows in parsable2 format" in texts(at)
    warnings = at.dataframe[0].value
    assert warnings["line"].tolist() == [3]


def test_upload_refuses_prose_with_a_clear_message(open_page: OpenPage, store_dir: Path) -> None:
    store = LocalStore(store_dir)
    before = {(b.name, o.name, o.hash) for b in store.list_buckets() for o in store.iter_objects(b.name)}
    at = _upload(open_page("views/upload.py"), "Dear admin,\nmy job failed yesterday.\n", run="x")
    assert not at.exception
    assert len(at.error) == 1
    assert "The sacct input was not accepted" in at.error[0].value
    assert "header" in at.error[0].value.lower()
    assert {(b.name, o.name, o.hash) for b in store.list_buckets() for o in store.iter_objects(b.name)} == before


def test_upload_refuses_input_over_the_limit(open_page: OpenPage, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("UPLOAD_LIMIT_MB", "1")
    line = "1|COMPLETED|00:01:00\n"
    at = _upload(open_page("views/upload.py"), "JobID|State|Elapsed\n" + line * 60_000)
    assert not at.exception
    assert "MB" in at.error[0].value and "limit" in at.error[0].value.lower()


def test_upload_refuses_a_bad_run_name(open_page: OpenPage) -> None:
    at = _upload(open_page("views/upload.py"), "JobID|State\n1|COMPLETED\n", run="../../etc")
    at.button(key="store").click().run()
    assert not at.exception
    assert "run name" in at.error[0].value


def test_management_says_what_each_platforms_jobs_cost_so_far(open_page: OpenPage, store_dir: Path) -> None:
    from core.sacct import parse_sacct
    from core.serialize import frame_to_parquet

    # Job 3470110, the Mahti job of the newest Management object (the one the page opens on), stored again in a newer
    # run as a GPU job: the newest stored record of a job is the one billed.
    text = ("JobID|Partition|State|Elapsed|AllocCPUS|NNodes|AllocTRES\n"
            "3470110|gpumedium|COMPLETED|02:00:00|128|1|cpu=128,gres/gpu:a100=4,mem=400G,node=1\n")
    LocalStore(store_dir).put_object("mlch-for-air", "ARTIFACTS/SACCT/user-example-com-mahti-gpu.parquet",
                                     frame_to_parquet(parse_sacct(text).frame),
                                     metadata={"version": 1, "platform": "mahti"})
    at = open_page("views/management.py")
    assert not at.exception and not at.error
    spent = next(d.value for d in at.dataframe if "with a sacct record" in d.value.columns).set_index("platform")
    # 4 A100s × 100 GPU BU × 2 h = 800 CSC GPU BU, in its own pool; no CPU job of the pipeline was billed.
    assert spent.loc["mahti", "with a sacct record"] >= 1
    assert spent.loc["mahti", "CSC GPU BU"] == 800 and pd.isna(spent.loc["mahti", "CSC CPU BU"])
    assert list(spent.columns[2:]) == ["CSC CPU BU", "CSC GPU BU", "LUMI core-hours", "LUMI GPU-hours"]
