"""sacct parsing: every format, every odd case, and the hand-checked facts of the real samples."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import SacctParseError
from core.sacct import column_name, job_metrics, kebab, parse_sacct, to_parsable2
from tests import samples

FIELDS_06, FIELDS_07 = samples.FIELDS_06, samples.FIELDS_07


def sample(name: str) -> bytes:
    return samples.sacct(name).read_bytes()


def row(frame: pd.DataFrame, job: str, step: str = "") -> pd.Series:
    hits = frame[(frame["job-id"] == job) & (frame["step"] == step)]
    assert len(hits) == 1, (job, step, len(hits))
    return hits.iloc[0]


# --- names --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "column"), [
    ("AveCPU", "ave-cpu-seconds"), ("AveCPUFreq", "ave-cpu-freq-khz"), ("AveDiskRead", "ave-disk-read-bytes"),
    ("Submit", "submit-time"), ("Elapsed", "elapsed-seconds"), ("TotalCPU", "total-cpu-seconds"),
    ("CPUTime", "cpu-time-seconds"), ("PlannedCPU", "planned-cpu-seconds"), ("MaxRSS", "max-rss"),
    ("ExitCode", "exit-code"), ("JobIDRaw", "job-id-raw"), ("TRESUsageInMax", "tres-usage-in-max"),
    ("MaxVMSizeNode", "max-vm-size-node"), ("NTasks", "n-tasks"), ("NNodes", "n-nodes"), ("reqmem", "req-mem"),
    ("ALLOCCPUS", "alloc-cpus"), ("ConsumedEnergyRaw", "consumed-energy-raw"),
])
def test_column_names_follow_the_seed(field: str, column: str) -> None:
    assert column_name(field) == column


def test_kebab_matches_the_seed_on_its_own_examples() -> None:
    assert kebab("AllocCPUS") == "alloc-cpus" and kebab("JobName") == "job-name"


# --- formats ------------------------------------------------------------------------------------------------------


def test_fixed_width_hyak_counts_and_facts() -> None:
    parsed = parse_sacct(sample("01_hyak_default_fixedwidth.txt"))
    f = parsed.frame
    assert parsed.format == "fixed-width" and len(f) == 2292
    assert (f["step"] == "").sum() == 753 and (f["step"] != "").sum() == 1539
    job = row(f, "16290213")
    assert (job["alloc-cpus"], job["state"], job["exit-code"]) == (30, "TIMEOUT", "0:0")
    batch = row(f, "16290213", "batch")  # "16290213.ba+" expanded
    assert (batch["state"], batch["exit-code"]) == ("CANCELLED", "0:15")
    assert row(f, "16321582")["state"] == "CANCELLED"  # "CANCELLED+" expanded
    assert row(f, "16313407", "interactive")["exit-code"] == "0:9"  # ".in+" expanded


def test_fixed_width_array_steps_that_lost_their_dot_are_steps() -> None:
    f = parse_sacct(sample("01_hyak_default_fixedwidth.txt")).frame
    # Lines 1292-1293 print "16325776_10+" for the batch and extern steps of array task 16325776_10.
    assert set(f[f["job-id"] == "16325776_10"]["step"]) == {"", "batch", "extern"}
    assert ((f["job-id"].str.startswith("16325776_")) & (f["step"] == "")).sum() == 63
    assert not f["job-id"].str.endswith("+").any()


def test_fixed_width_columns_are_cut_by_bytes() -> None:
    f = parse_sacct(sample("01_hyak_default_fixedwidth.txt")).frame
    job = row(f, "16346031")  # JobName "—N" (U+2014, 3 bytes) on line 2020
    assert job["job-name"] == "—N"
    assert (job["partition"], job["account"], job["alloc-cpus"], job["state"], job["exit-code"]) == (
        "compute", "stf", job["alloc-cpus"], "FAILED", "2:0")
    assert job["partition"] == "compute" and not pd.isna(job["alloc-cpus"])


def test_fixed_width_tables_pasted_side_by_side() -> None:
    parsed = parse_sacct(sample("04_csc_mahti_fixedwidth_split.txt"), timezone="Europe/Helsinki")
    f = parsed.frame
    assert len(f) == 4 and "job-id" not in f.columns
    assert f["timelimit-seconds"].iloc[0] == 600 and f["elapsed-seconds"].iloc[0] == 309
    assert f["cpu-time-seconds"].iloc[0] == 79104 and f["total-cpu-seconds"].iloc[0] == pytest.approx(295.666)
    assert f["total-cpu-seconds"].iloc[2] == pytest.approx(0.001)
    assert pd.isna(f["timelimit-seconds"].iloc[2])  # blank on step rows: null, not 0
    assert f["ave-cpu-seconds"].iloc[3] == 294
    assert f["ave-rss"].iloc[3] == 383872 * 1024  # bytes are 1024-based
    assert f["ave-disk-read-bytes"].iloc[3] == pytest.approx(98.40 * 1024**2)
    assert f["ave-cpu-freq-khz"].iloc[1] == pytest.approx(2.60e9)  # other suffixes are 1000-based
    assert f["ave-pages"].iloc[3] == 1886
    # 2024-05-24T13:07:00 in Helsinki (UTC+3 in May) is 10:07:00 UTC.
    assert f["start-time"].iloc[3] == pd.Timestamp("2024-05-24T10:07:00Z").timestamp()
    assert pd.isna(f["ave-cpu-seconds"].iloc[0]) and f["consumed-energy-raw"].iloc[0] == 0


def test_parsable_with_trailing_delimiter_and_het_jobs() -> None:
    parsed = parse_sacct(sample("05_torchx_hetjob_parsable.txt"))
    f = parsed.frame
    assert parsed.format == "parsable" and len(f) == 7
    assert list(f[f["step"] == ""]["job-id"]) == ["176+0", "176+1", "176+2"]
    assert list(f[f["job-id"] == "176+1"]["step"]) == ["", "0"]
    assert pd.isna(row(f, "176+0")["account"]) and row(f, "176+0")["partition"] == "compute"
    metrics = job_metrics(f)
    assert set(metrics["parent-job-id"]) == {"176"}


def test_headerless_parsable_with_custom_multibyte_delimiter() -> None:
    parsed = parse_sacct(sample("06_hbjobinfo_parsable_snowman_noheader.txt"), fields=FIELDS_06)
    f = parsed.frame
    assert parsed.format == "parsable" and len(f) == 242 and parsed.warnings == []
    assert (f["step"] == "").sum() == 100
    assert f["state"].value_counts().to_dict() == {
        "COMPLETED": 182, "FAILED": 17, "CANCELLED": 19, "RUNNING": 9, "TIMEOUT": 7, "PENDING": 7, "NODE_FAIL": 1}
    first = row(f, "4034541")
    assert first["timelimit-seconds"] == 19 * 3600 + 50 * 60
    assert first["elapsed-seconds"] == 12853 and first["cpu-time-seconds"] == 102824
    assert first["req-mem"] == 199 * 1024**3
    assert pd.isna(row(f, "4047445")["start-time"]) and pd.isna(row(f, "4047445")["node-list"])
    batch = row(f, "7965768", "batch")
    assert batch["system-cpu"] == pytest.approx(1388.357) and batch["max-rss"] == 1294440 * 1024
    assert batch["max-disk-write"] == pytest.approx(220162.18 * 1024**2)
    assert row(f, "7336818")["timelimit-seconds"] == 864000
    pending = row(f, "7219441")
    assert pending["state"] == "PENDING" and pd.isna(pending["start-time"]) and pending["n-nodes"] == 3


def test_headerless_parsable2_alpine() -> None:
    parsed = parse_sacct(sample("07_slurmdog_parsable2_noheader_alpine.txt"), fields=FIELDS_07)
    f = parsed.frame
    assert parsed.format == "parsable2" and len(f) == 102
    assert (f["step"] == "").sum() == 36
    first = row(f, "11965642")
    assert first["total-cpu-seconds"] == pytest.approx(4.410) and first["elapsed-seconds"] == 43226
    assert first["req-mem"] == 3840 * 1024**2 and pd.isna(first["n-tasks"])
    oom = row(f, "12051616", "batch")
    assert (oom["state"], oom["exit-code"], oom["max-rss"]) == ("OUT_OF_MEMORY", "0:125", 2565880 * 1024)
    assert row(f, "12051616")["state"] == "CANCELLED"
    assert set(f[f["job-id"] == "13707683"]["step"]) == {"", "extern", "0"}


def test_parsable2_with_header_and_commas_inside_fields() -> None:
    f = parse_sacct(sample("08_tdhock_parsable2_manyfields.txt")).frame
    assert row(f, "32641375")["alloc-tres"] == "billing=1,cpu=1,mem=7996M,node=1"
    assert row(f, "32641375")["elapsed-seconds"] == 3629
    assert row(f, "32641375", "extern")["max-rss"] == 502 * 1024


def test_array_records_and_long_durations() -> None:
    f = parse_sacct(sample("09_tdhock_parsable2_multiuser.txt")).frame
    assert len(f) == 572 and (f["step"] == "").sum() == 448
    assert row(f, "30145936")["elapsed-seconds"] == 3_464_503
    assert row(f, "30016111_1")["elapsed-seconds"] == 1_929_948
    assert row(f, "30166062_[1]")["state"] == "PENDING"
    assert f["max-rss"].isna().all()  # empty everywhere: null, never 0
    assert f["state"].value_counts().to_dict() == {"PENDING": 386, "RUNNING": 186}


def test_json_slurm_23() -> None:
    parsed = parse_sacct(sample("13_slurmdog_json_slurm23.02.txt"))
    f = parsed.frame
    assert parsed.format == "json" and len(f) == 3
    job = row(f, "12078642_6")
    assert job["elapsed-seconds"] == 326 and job["end-time"] - job["start-time"] == 326
    assert job["timelimit-seconds"] == 90 * 60 and job["state"] == "COMPLETED"
    assert job["total-cpu-seconds"] == pytest.approx(1218.048632)
    assert job["req-mem-scope"] == "cpu" and job["req-mem"] == 3840 * 1024**2
    assert row(f, "12078642_6", "batch")["max-rss"] == 3462881280
    assert job_metrics(f).loc[0, "parent-job-id"] == "12078642"


# --- odd cases ----------------------------------------------------------------------------------------------------


def test_null_tokens_are_null_never_zero() -> None:
    text = ("JobID|State|Start|Timelimit|MaxRSS|AllocCPUS\n"
            "1|PENDING|Unknown|UNLIMITED||\n2|RUNNING|None|Partition_Limit|INVALID|Unknown\n")
    f = parse_sacct(text).frame
    assert f[["start-time", "timelimit-seconds", "max-rss", "alloc-cpus"]].isna().all().all()


def test_duration_forms() -> None:
    text = "JobID|Elapsed|TotalCPU\n1|2-03:04:05|04:55.666\n2|00:05:09|00:00.001\n3|12:34|1-00:00:00\n"
    f = parse_sacct(text).frame
    assert list(f["elapsed-seconds"]) == [2 * 86400 + 3 * 3600 + 4 * 60 + 5, 309, 12 * 60 + 34]
    assert list(f["total-cpu-seconds"]) == pytest.approx([295.666, 0.001, 86400])


def test_state_word_only() -> None:
    f = parse_sacct("JobID|State\n1|CANCELLED by 10304007\n2|COMPLETED\n").frame
    assert list(f["state"]) == ["CANCELLED", "COMPLETED"]


def test_time_zone_is_applied_including_dst() -> None:
    text = "JobID|Submit\n1|2024-01-15T12:00:00\n2|2024-07-15T12:00:00\n"
    utc = parse_sacct(text).frame["submit-time"]
    helsinki = parse_sacct(text, timezone="Europe/Helsinki").frame["submit-time"]
    assert list(utc - helsinki) == [2 * 3600, 3 * 3600]  # EET in winter, EEST in summer
    assert utc.iloc[0] == pd.Timestamp("2024-01-15T12:00:00Z").timestamp()
    with pytest.raises(SacctParseError, match="time zone"):
        parse_sacct(text, timezone="Mars/Base")


def test_byte_fields_are_1024_based_other_fields_1000_based() -> None:
    f = parse_sacct("JobID|MaxRSS|ReqMem|AveCPUFreq|MaxDiskRead\n1|2G|4000Mc|2.5M|1K\n").frame
    assert f["max-rss"].iloc[0] == 2 * 1024**3
    assert f["req-mem"].iloc[0] == 4000 * 1024**2 and f["req-mem-scope"].iloc[0] == "cpu"
    bare = parse_sacct("JobID|ReqMem\n1|4000M\n2|2Gn\n").frame["req-mem-scope"]
    assert pd.isna(bare.iloc[0]) and bare.iloc[1] == "node"  # no suffix: no scope, not an empty string
    assert f["ave-cpu-freq-khz"].iloc[0] == 2.5e6
    assert f["max-disk-read"].iloc[0] == 1024


def test_truncated_numbers_become_null_with_a_warning() -> None:
    text = ("       JobID    Elapsed  AllocCPUS      State \n"
            "------------ ---------- ---------- ---------- \n"
            "         123   00:01:00          4  COMPLETED \n"
            "         124 10000-00:+   1234567+ OUT_OF_ME+ \n")
    parsed = parse_sacct(text)
    f = parsed.frame
    assert pd.isna(f["elapsed-seconds"].iloc[1]) and pd.isna(f["alloc-cpus"].iloc[1])
    assert f["state"].iloc[1] == "OUT_OF_MEMORY"
    assert {w.line for w in parsed.warnings} == {4}
    assert f["alloc-cpus"].iloc[0] == 4


def test_wrong_field_count_skips_only_that_line() -> None:
    text = "JobID|State|Elapsed\n1|COMPLETED|00:00:01\n2|FAILED\n3|RUNNING|00:00:03|extra\n4|PENDING|00:00:00\n"
    parsed = parse_sacct(text)
    assert list(parsed.frame["job-id"]) == ["1", "4"]
    assert [w.line for w in parsed.warnings] == [3, 4]
    assert "expected 3 fields" in parsed.warnings[0].message


@pytest.mark.parametrize(("bad", "says"), [
    (b"", "the input is empty"),
    (b"   \n\n", "the input is empty"),
    (b"Hello, this is a README about my job.\nIt ran fine.\n", "a header line of field names"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "got binary data"),
    (b"\xfa\xfb not utf-8", "byte 0 is not UTF-8"),
    (b"\xff\xfe\xfa not utf-8", "starts with a UTF-16 byte order mark but byte 12 is not UTF-16"),
    ("JobID|State\n".encode("utf-16-le")[:-1], "looks like UTF-16 text but byte 22 is not UTF-16"),
    ("JobID|State\n".encode("utf-32"), "got binary data"),
    (bytes(range(256)) * 16, "got binary data"),
    (b'{"meta": {}}', "JSON without a 'jobs' list"),
    (b"{not json", "line 1: not valid JSON"),
])
def test_not_sacct_raises_a_clear_error(bad: bytes, says: str) -> None:
    with pytest.raises(SacctParseError) as info:
        parse_sacct(bad)
    # Clear: it says what is wrong with this input, on one line, and what sacct output looks like.
    message = str(info.value)
    assert says in message and "\n" not in message
    assert "expected" in message


def test_headerless_without_fields_says_what_was_expected() -> None:
    with pytest.raises(SacctParseError, match="field list"):
        parse_sacct(sample("07_slurmdog_parsable2_noheader_alpine.txt"))


@settings(deadline=None)
@given(st.one_of(st.text(max_size=400), st.binary(max_size=400),
                 st.text(alphabet="JobIDStae|-: \n0123456789.+_KMGCANCELLEDby", max_size=400).map(
                     lambda t: "JobID|State|Elapsed|MaxRSS\n" + t)))
def test_any_input_gives_a_result_or_a_parse_error(data: str | bytes) -> None:
    try:
        parsed = parse_sacct(data)
    except SacctParseError:
        return
    text = data if isinstance(data, str) else data.decode("utf-8")  # parsed, so it was UTF-8
    lines = len(text.splitlines()) or 1
    # Every row and every warning comes from a line of the input (a --json document holds many jobs on one line).
    assert parsed.format == "json" or len(parsed.frame) <= lines
    assert all(1 <= w.line <= lines for w in parsed.warnings)


# --- round trip and metrics ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kwargs"), [
    ("07_slurmdog_parsable2_noheader_alpine.txt", {"fields": FIELDS_07}),
    ("06_hbjobinfo_parsable_snowman_noheader.txt", {"fields": FIELDS_06, "timezone": "Europe/Amsterdam"}),
    ("01_hyak_default_fixedwidth.txt", {}),
    ("08_tdhock_parsable2_manyfields.txt", {}),
])
def test_round_trip_through_parsable2(name: str, kwargs: dict) -> None:
    first = parse_sacct(sample(name), **kwargs).frame
    zone = kwargs.get("timezone", "UTC")
    again = parse_sacct(to_parsable2(first, timezone=zone), timezone=zone).frame
    pd.testing.assert_frame_equal(again.reset_index(drop=True), first.reset_index(drop=True), check_dtype=False)


def test_job_metrics_against_hand_computed_values() -> None:
    f = parse_sacct(sample("07_slurmdog_parsable2_noheader_alpine.txt"), fields=FIELDS_07).frame
    m = job_metrics(f).set_index("job-id")
    job = m.loc["12051616"]
    assert job["cpu-efficiency"] == pytest.approx(176.346 / (3878 * 1))
    assert job["memory-efficiency"] == pytest.approx(2565880 * 1024 / (3840 * 1024**2))
    assert pd.isna(job["time-efficiency"])  # no Timelimit in this output: null, not 0
    assert job["steps"] == 2


def test_job_metrics_formulas_with_per_cpu_memory_and_steps_total() -> None:
    text = ("JobID|AllocCPUS|NNodes|Elapsed|Timelimit|ReqMem|MaxRSS|NTasks|TotalCPU|Submit|Start\n"
            "10|4|1|01:00:00|02:00:00|1Gc||||2024-01-01T00:00:00|2024-01-01T00:10:00\n"
            "10.batch|4|1|01:00:00|||1G|1|01:00:00||\n"
            "10.0|4|1|00:30:00|||512M|4|02:00:00||\n"
            "11|2|1|00:00:00|UNLIMITED|2G|||||\n")
    parsed = parse_sacct(text)
    assert parsed.warnings == []
    m = job_metrics(parsed.frame).set_index("job-id")
    ten = m.loc["10"]
    assert ten["total-cpu-seconds"] == 3 * 3600  # sum of the steps when the job row has none
    assert ten["cpu-efficiency"] == pytest.approx(3 * 3600 / (3600 * 4))
    assert ten["time-efficiency"] == pytest.approx(0.5)
    assert ten["memory-efficiency"] == pytest.approx(max(1024**3 * 1, 512 * 1024**2 * 4) / (4 * 1024**3))
    assert ten["queue-wait-seconds"] == 600
    eleven = m.loc["11"]
    assert all(math.isnan(eleven[c]) for c in ("cpu-efficiency", "time-efficiency", "memory-efficiency"))


def test_cpu_efficiency_uses_ncpus_when_alloccpus_was_not_asked_for() -> None:
    text = "JobID|NCPUS|Elapsed|TotalCPU|State\n7|4|00:10:00|00:20:00|COMPLETED\n"
    jobs = job_metrics(parse_sacct(text).frame)
    assert jobs.loc[0, "alloc-cpus"] == 4
    assert jobs.loc[0, "cpu-efficiency"] == pytest.approx(0.5)


def test_line_endings_bom_and_blank_lines_keep_line_numbers() -> None:
    text = "\ufeffJobID|State|Elapsed\r\n1|COMPLETED|00:01:00\r\n\r\n2|FAILED\r\n3|RUNNING|00:00:05\r\n"
    parsed = parse_sacct(text.encode("utf-8"))
    assert parsed.frame["job-id"].tolist() == ["1", "3"]
    assert parsed.frame["state"].tolist() == ["COMPLETED", "RUNNING"]
    assert [(w.line, "expected 3 fields" in w.message) for w in parsed.warnings] == [(4, True)]


def test_text_that_is_not_utf8_deep_inside_names_the_byte() -> None:
    good = b"JobID|State\n" + b"".join(b"%d|COMPLETED\n" % i for i in range(5000))
    bad = good + b"5001|COMPL\xffETED\n"
    with pytest.raises(SacctParseError, match=f"byte {len(good) + 10} is not UTF-8"):
        parse_sacct(bad)
    assert len(parse_sacct(good).frame) == 5000


def test_delimited_input_read_in_blocks_gives_the_same_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.sacct.convert
    import core.sacct.raw

    text = sample("09_tdhock_parsable2_multiuser.txt") + b"1|0:0|BROKEN\n"  # plus one line with a field missing
    whole = parse_sacct(text)
    monkeypatch.setattr(core.sacct.raw, "BLOCK_SIZE", 1024)  # about 30 blocks
    blocks = parse_sacct(text)
    pd.testing.assert_frame_equal(blocks.frame, whole.frame)
    assert [(w.line, w.message) for w in blocks.warnings] == [(w.line, w.message) for w in whole.warnings]
    assert [w.line for w in blocks.warnings] == [574]


def test_multibyte_text_read_in_small_blocks_is_checked_whole_per_block(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.sacct.raw

    text = "JobID|JobName|State\n" + "".join(f"{i}|é😀ñ_{i}|COMPLETED\n" for i in range(200))
    whole = parse_sacct(text.encode("utf-8"))
    monkeypatch.setattr(core.sacct.raw, "BLOCK_SIZE", 128)  # blocks of a few whole lines: no character cut in two
    blocks = parse_sacct(text.encode("utf-8"))
    pd.testing.assert_frame_equal(blocks.frame, whole.frame)
    assert blocks.frame["job-name"].iloc[-1] == "é😀ñ_199"
    bad = text.encode("utf-8") + b"200|\xf0\x9f\x98|COMPLETED\n"  # a character cut short in the last block
    with pytest.raises(SacctParseError, match=f"byte {len(text.encode('utf-8')) + 4} is not UTF-8"):
        parse_sacct(bad)


def test_blocks_converted_on_the_pool_while_reading_give_the_same_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.sacct.convert
    import core.sacct.raw

    text = sample("09_tdhock_parsable2_multiuser.txt") + b"1|0:0|BROKEN\n"
    whole = parse_sacct(text)
    monkeypatch.setattr(core.sacct.raw, "BLOCK_SIZE", 1024)
    monkeypatch.setattr(core.sacct.convert, "_PARALLEL_ROWS", 1)  # every block's columns go to the thread pool
    pooled = parse_sacct(text)
    pd.testing.assert_frame_equal(pooled.frame, whole.frame)
    assert [(w.line, w.message) for w in pooled.warnings] == [(w.line, w.message) for w in whole.warnings]


TRUNCATED = (b"       JobID    Elapsed  AllocCPUS      State \n"
             b"------------ ---------- ---------- ---------- \n"
             b"         123   00:01:00          4  COMPLETED \n"
             b"\n"
             b"   123.batch 10000-00:+   1234567+ OUT_OF_ME+ \n"
             b"         124   00:00:0\xc3\xa9          4    RUNNING \n")


@pytest.mark.parametrize("text", [sample("01_hyak_default_fixedwidth.txt"), TRUNCATED], ids=["hyak", "truncated"])
@pytest.mark.parametrize("newline", [b"\r\n", b"\x0b", "\u2028".encode()], ids=["crlf", "vertical-tab", "u2028"])
def test_fixed_width_with_a_bom_and_other_line_breaks_reads_the_same(text: bytes, newline: bytes) -> None:
    plain = parse_sacct(text)
    odd = parse_sacct(b"\xef\xbb\xbf" + text.replace(b"\n", newline) + newline + b"   " + newline)
    assert odd.format == plain.format == "fixed-width"
    pd.testing.assert_frame_equal(odd.frame, plain.frame)
    assert odd.warnings == plain.warnings
    if text is TRUNCATED:
        assert [w.line for w in odd.warnings] == [5, 5]  # the cut numbers, named by line (after a blank one)


@pytest.mark.parametrize("odd", ["", "2024-07-15 12:00:00", "2024-07-15T12:00", "2024-07-15T12:00:00Z", "x" * 19])
def test_timestamps_outside_sacct_layout_are_null(odd: str) -> None:
    text = f"JobID|Submit\n1|2024-01-15T12:00:00\n2|Unknown\n3|2024-07-15T12:00:00\n4|{odd}\n"
    stamps = parse_sacct(text, timezone="Europe/Helsinki").frame["submit-time"]
    winter, summer = pd.Timestamp("2024-01-15T10:00:00Z"), pd.Timestamp("2024-07-15T09:00:00Z")
    assert [None if math.isnan(v) else v for v in stamps] == [winter.timestamp(), None, summer.timestamp(), None]


@pytest.mark.parametrize("brk", ["\x0b", "\r", "\u2028"], ids=["vertical-tab", "lone-cr", "line-separator"])
def test_fixed_width_with_unusual_line_breaks_splits_them_as_lines(brk: str) -> None:
    text = ("       JobID      State \n------------ ---------- \n"
            f"         123  COMPLETED {brk}         124     FAILED \n         125    RUNNING \n")
    parsed = parse_sacct(text.encode("utf-8"))
    assert parsed.frame[["job-id", "state"]].values.tolist() == [
        ["123", "COMPLETED"], ["124", "FAILED"], ["125", "RUNNING"]]
    assert parsed.warnings == []


@pytest.mark.parametrize("text", [
    "JobID|State|state\n1|COMPLETED|FAILED\n",
    "JobID|State|State|\n1|COMPLETED|FAILED|\n",
    "       JobID      State      State \n------------ ---------- ---------- \n           1  COMPLETED     FAILED \n",
], ids=["parsable2", "parsable", "fixed-width"])
def test_a_field_asked_for_twice_is_read_from_its_first_column_with_a_warning(text: str) -> None:
    parsed = parse_sacct(text)
    assert parsed.frame[["job-id", "state"]].values.tolist() == [["1", "COMPLETED"]]
    assert [(w.line, "State appears more than once" in w.message) for w in parsed.warnings] == [(1, True)]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
@pytest.mark.parametrize("name", ["01_hyak_default_fixedwidth.txt", "09_tdhock_parsable2_multiuser.txt",
                                  "13_slurmdog_json_slurm23.02.txt"])
def test_utf16_exports_with_or_without_a_byte_order_mark_parse_as_utf8_does(name: str, codec: str) -> None:
    text = sample(name).decode("utf-8")
    expected = parse_sacct(text.encode("utf-8"))
    parsed = parse_sacct(text.encode(codec))  # "utf-16" writes a byte order mark, -le and -be none
    assert parsed.format == expected.format
    pd.testing.assert_frame_equal(parsed.frame, expected.frame)
    assert parsed.warnings == expected.warnings


def test_utf16_text_keeps_non_ascii_job_names() -> None:
    text = "JobID|JobName|State|Elapsed\n1|träning-ääkköset|COMPLETED|00:01:00\n"
    for codec in ("utf-16-le", "utf-16-be"):
        assert parse_sacct(text.encode(codec)).frame["job-name"].tolist() == ["träning-ääkköset"]
