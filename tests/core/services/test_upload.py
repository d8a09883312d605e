"""core.services.upload: run names, the size limit, parsing, the run's platform and versioned storing of an upload."""

from __future__ import annotations

import pytest

from core.errors import Conflict, InputTooLarge, InvalidInput
from core.serialize import parquet_to_frame
from core.services import findings as findings_service
from core.services import upload
from core.settings import Settings
from core.store.local import LocalStore
from tests import samples


def test_upload_names_sizes_versions(store: LocalStore, settings: Settings) -> None:
    assert upload.run_name("  mahti ray  2024 ") == "mahti-ray-2024"
    for bad in ("", "../x", "a/b", "-x", "x" * 81):
        with pytest.raises(InvalidInput, match="run name"):
            upload.run_name(bad)
    with pytest.raises(InputTooLarge, match="UPLOAD_LIMIT_MB"):
        upload.check_size(settings.upload_limit_bytes + 1, settings)
    parsed = upload.parse_upload(samples.sacct("09_tdhock_parsable2_multiuser.txt").read_bytes(), settings)
    first = upload.store_run(store, settings, "cedar", parsed)
    assert first.version == 1 and first.object == "ARTIFACTS/SACCT/user-example-com-cedar.parquet"
    with pytest.raises(Conflict):
        upload.store_run(store, settings, "cedar", parsed)
    second = upload.store_run(store, settings, "cedar", parsed, replace=True)
    assert second.version == 2 and upload.current_version(store, settings, "cedar") == 2
    assert len(parquet_to_frame(store.get_object("mlch-for-air", first.object)[1])) == 572
    jobs = upload.preview_jobs(parsed)
    assert jobs is not None and len(jobs) == 448


def test_cluster_field_decides_the_platform_and_is_stored(store: LocalStore, settings: Settings) -> None:
    parsed = upload.parse_upload(samples.sacct("07_slurmdog_parsable2_noheader_alpine.txt").read_bytes(),
                                 settings, fields="JobID,User,Group,State,Cluster,AllocCPUS,REQMEM,TotalCPU,Elapsed,"
                                 "MaxRSS,ExitCode,NNodes,NTasks".split(","))
    assert upload.run_platform(parsed, "mahti-like-name", settings) == upload.RunPlatform("other", "alpine")
    # A choice on the page does not override what sacct printed.
    stored = upload.store_run(store, settings, "alpine", parsed, platform="lumi")
    meta = store.head_object(stored.bucket, stored.object).custom
    assert meta["platform"] == "other" and meta["cluster"] == "alpine" and meta["rows"] == 102


def test_without_cluster_the_chosen_platform_is_stored(store: LocalStore, settings: Settings) -> None:
    parsed = upload.parse_upload(samples.sacct("05_torchx_hetjob_parsable.txt").read_bytes(), settings)
    assert upload.run_platform(parsed, "lumi-hetjob", settings) == upload.RunPlatform("lumi", None)
    assert upload.run_platform(parsed, "hetjob", settings) == upload.RunPlatform("other", None)
    stored = upload.store_run(store, settings, "hetjob", parsed, platform="puhti")
    meta = store.head_object(stored.bucket, stored.object).custom
    assert meta["platform"] == "puhti" and "cluster" not in meta
    with pytest.raises(InvalidInput, match="platform 'nowhere'"):
        upload.store_run(store, settings, "hetjob2", parsed, platform="nowhere")


@pytest.mark.parametrize(("typed", "delimiter"), [
    ("", None), ("  ", None), (";", ";"), (" ^|^ ", "^|^"), ("\\t", "\t"), ("TAB", "\t"), ("\t", "\t"),
])
def test_a_typed_delimiter_is_what_sacct_was_given(typed: str, delimiter: str | None) -> None:
    assert upload.parse_delimiter(typed) == delimiter


def test_a_preview_is_bounded_and_stores_what_was_parsed(store: LocalStore, settings: Settings,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = upload.parse_upload(samples.sacct("07_slurmdog_parsable2_noheader_alpine.txt").read_bytes(),
                                 settings, fields="JobID,User,Group,State,Cluster,AllocCPUS,REQMEM,TotalCPU,Elapsed,"
                                 "MaxRSS,ExitCode,NNodes,NTasks".split(","))
    monkeypatch.setattr(upload, "PREVIEW_ROWS", 10)
    shown = upload.preview(parsed, settings)
    jobs = upload.preview_jobs(parsed)
    assert jobs is not None
    assert len(shown.rows) == 10 and shown.rows.equals(parsed.frame.head(10))
    assert shown.jobs == len(jobs) and len(shown.charts) == 2
    assert shown.findings.equals(findings_service.findings(jobs, settings))
    assert shown.run.rows == 102 and shown.run.format == parsed.format
    # What Store writes is the whole table, with the same metadata as storing the table itself.
    assert upload.run_platform(shown.run, "mahti-x", settings) == upload.run_platform(parsed, "mahti-x", settings)
    stored = upload.store_run(store, settings, "prepared", shown.run, platform="lumi")
    direct = upload.store_run(store, settings, "direct", parsed, platform="lumi")
    meta, data = store.get_object(stored.bucket, stored.object)
    assert parquet_to_frame(data).equals(parsed.frame)
    assert meta.custom == {**store.head_object(direct.bucket, direct.object).custom}


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_export_is_parsed_and_stored_like_its_utf8(store: LocalStore, settings: Settings, codec: str) -> None:
    text = samples.sacct("09_tdhock_parsable2_multiuser.txt").read_text(encoding="utf-8")
    parsed = upload.parse_upload(text.encode(codec), settings, source="windows-export.txt")
    assert parsed.format == "parsable2" and len(parsed.frame) == 572
    stored = upload.store_run(store, settings, "cedar", parsed)
    frame = parquet_to_frame(store.get_object("mlch-for-air", stored.object)[1])
    expected = upload.parse_upload(text.encode("utf-8"), settings).frame
    for column in ("job-id", "state", "elapsed-seconds"):
        assert frame[column].tolist() == expected[column].tolist()


def test_reading_an_upload_says_when_it_parsed_and_previews_it(settings: Settings) -> None:
    data = samples.sacct("09_tdhock_parsable2_multiuser.txt").read_bytes()
    heard: list[str] = []
    shown = upload.read_upload(data, settings, source="cedar.txt", progress=heard.append)
    assert heard == ["Parsed 572 rows (parsable2); charting the jobs…"]
    assert shown.run.rows == 572 and shown.jobs == 448
    assert shown.run.data == upload.prepare_run(upload.parse_upload(data, settings)).data
