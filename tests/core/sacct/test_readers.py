"""Format detection and readers: delimiters, trailing delimiters, values with line breaks, appended tables."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.sacct import NULL_TOKENS, parse_sacct

FIELDS = ["JobID", "JobName", "State", "Elapsed"]


def records(frame: pd.DataFrame) -> list[list[object]]:
    return frame[["job-id", "job-name", "state", "elapsed-seconds"]].astype(object).values.tolist()


EXPECTED = [["23000233", "train", "COMPLETED", 60.0], ["23000234", "eval|x", "FAILED", 5.0]]


@pytest.mark.parametrize("delim", ["^|^", "\t", ";", "|", "::"], ids=["reportseff", "tab", "semicolon", "bar", "two"])
@pytest.mark.parametrize("trailing", [False, True], ids=["parsable2", "parsable"])
def test_any_delimiter_is_detected_from_the_header(delim: str, trailing: bool) -> None:
    end = delim if trailing else ""
    name = "eval|x" if delim != "|" else "eval"
    text = (delim.join(FIELDS) + end + "\n"
            + delim.join(["23000233", "train", "COMPLETED", "00:01:00"]) + end + "\n"
            + delim.join(["23000234", name, "FAILED", "00:00:05"]) + end + "\n")
    parsed = parse_sacct(text)
    assert parsed.format == ("parsable" if trailing else "parsable2")
    expected = [EXPECTED[0], [*EXPECTED[1][:1], name, *EXPECTED[1][2:]]]
    assert records(parsed.frame) == expected
    assert parsed.warnings == []


@pytest.mark.parametrize("given", [None, "^|^", "|"], ids=["detected", "given", "given-inner-bar"])
@pytest.mark.parametrize("trailing", [False, True], ids=["parsable2", "parsable"])
def test_headerless_output_with_a_field_list_and_any_delimiter(given: str | None, trailing: bool) -> None:
    # reportseff runs `sacct -P -n --delimiter=^|^`: no header, values never carry the delimiter's carets.
    end = "^|^" if trailing else ""
    text = ("23000233^|^train^|^COMPLETED^|^00:01:00" + end + "\n"
            "23000234^|^eval|x^|^FAILED^|^00:00:05" + end + "\n")
    parsed = parse_sacct(text.encode(), fields=FIELDS, delimiter=given)
    assert records(parsed.frame) == EXPECTED  # never a job id like "^23000233^" or "23000233^"
    assert parsed.format == ("parsable" if trailing else "parsable2")
    if given == "|":
        assert [w.line for w in parsed.warnings] == [1] and "'^|^'" in parsed.warnings[0].message
    else:
        assert parsed.warnings == []


def test_a_delimiter_given_that_splits_no_line_gives_way_to_the_one_that_does() -> None:
    text = "1|train|COMPLETED|00:01:00\n2|eval|FAILED|00:00:05\n"
    parsed = parse_sacct(text, fields=FIELDS, delimiter=";")
    assert records(parsed.frame) == [["1", "train", "COMPLETED", 60.0], ["2", "eval", "FAILED", 5.0]]
    assert [w.line for w in parsed.warnings] == [1] and "'|', not ';'" in parsed.warnings[0].message


def test_a_header_wins_over_a_different_delimiter_given_and_says_so() -> None:
    text = "JobID;State\n1;COMPLETED\n"
    parsed = parse_sacct(text, delimiter="|")
    assert parsed.frame[["job-id", "state"]].values.tolist() == [["1", "COMPLETED"]]
    assert [w.line for w in parsed.warnings] == [1] and "';'" in parsed.warnings[0].message


def test_parsable_data_without_its_trailing_delimiter_is_read_as_parsable2() -> None:
    # `--parsable` data whose lines lost their final "|" must not shift every value by one column.
    text = "1|train|COMPLETED|00:01:00\n2|eval|FAILED|00:00:05\n"
    parsed = parse_sacct(text, fields=FIELDS, delimiter="|")
    assert parsed.format == "parsable2"
    assert records(parsed.frame) == [["1", "train", "COMPLETED", 60.0], ["2", "eval", "FAILED", 5.0]]


@pytest.mark.parametrize("trailing", ["", "|"], ids=["parsable2", "parsable"])
def test_a_value_with_a_line_break_is_read_as_one_record_and_named(trailing: str) -> None:
    t = trailing
    text = (f"JobID|JobName|State|Elapsed{t}\n1|a|COMPLETED|00:00:01{t}\n\n2|multi\nline|FAILED|00:00:02{t}\n"
            f"3|c|RUNNING|00:00:03{t}\n4|x\ny\nz|PENDING|00:00:04{t}\n5|short|{t}\n6|f|TIMEOUT|00:00:06{t}\n")
    parsed = parse_sacct(text)
    assert records(parsed.frame) == [
        ["1", "a", "COMPLETED", 1.0], ["2", "multi\nline", "FAILED", 2.0], ["3", "c", "RUNNING", 3.0],
        ["4", "x\ny\nz", "PENDING", 4.0], ["6", "f", "TIMEOUT", 6.0]]
    assert [w.line for w in parsed.warnings] == [4, 7, 10]
    assert "lines 4-5" in parsed.warnings[0].message and "lines 7-9" in parsed.warnings[1].message
    assert "line skipped" in parsed.warnings[2].message


def test_a_line_break_in_the_first_headerless_record_does_not_hide_the_format() -> None:
    text = "1|multi\nline|FAILED|00:00:02|\n3|c|RUNNING|00:00:03|\n"
    parsed = parse_sacct(text, fields=FIELDS)
    assert parsed.format == "parsable"
    assert records(parsed.frame) == [["1", "multi\nline", "FAILED", 2.0], ["3", "c", "RUNNING", 3.0]]
    assert [w.line for w in parsed.warnings] == [1]


def test_a_line_break_with_a_multibyte_delimiter_in_a_large_input() -> None:
    body = "".join(f"{i}^|^job{i}^|^COMPLETED^|^00:00:01\n" for i in range(5000))
    text = "JobID^|^JobName^|^State^|^Elapsed\n" + body + "5000^|^two\nlines^|^FAILED^|^00:00:02\n" + body
    parsed = parse_sacct(text.encode())
    f = parsed.frame
    assert len(f) == 10001 and f["job-name"].iloc[5000] == "two\nlines" and f["state"].iloc[5000] == "FAILED"
    assert [w.line for w in parsed.warnings] == [5002]


A = ("       JobID      State \n------------ ---------- \n         101  COMPLETED \n         102     FAILED \n")
B = ("       JobID    Elapsed \n------------ ---------- \n         201   00:01:00 \n         202   00:02:00 \n")
B_SAME = ("       JobID    Elapsed \n------------ ---------- \n         101   00:01:00 \n         102   00:02:00 \n")


def test_two_fixed_width_tables_of_other_jobs_are_both_read() -> None:
    parsed = parse_sacct(A + B)
    f = parsed.frame
    assert parsed.format == "fixed-width" and parsed.warnings == []
    assert f["job-id"].tolist() == ["101", "102", "201", "202"]
    assert f["state"].tolist()[:2] == ["COMPLETED", "FAILED"] and f["state"].isna().tolist()[2:] == [True, True]
    assert f["elapsed-seconds"].isna().tolist()[:2] == [True, True]
    assert f["elapsed-seconds"].tolist()[2:] == [60.0, 120.0]


def test_two_fixed_width_tables_of_the_same_jobs_are_joined_side_by_side() -> None:
    f = parse_sacct(A + "\n" + B_SAME).frame
    assert f[["job-id", "state", "elapsed-seconds"]].values.tolist() == [
        ["101", "COMPLETED", 60.0], ["102", "FAILED", 120.0]]


def test_a_second_fixed_width_table_without_job_ids_is_added_with_a_warning() -> None:
    other = "    Elapsed \n---------- \n  00:01:00 \n  00:02:00 \n  00:03:00 \n"
    parsed = parse_sacct(A + other)
    assert len(parsed.frame) == 5
    assert [w.line for w in parsed.warnings] == [5] and "no JobID" in parsed.warnings[0].message


# --- fields: --long, unknown fields, a field asked for twice -----------------------------------------------------

LONG = ("JobID JobIDRaw JobName Partition MaxVMSize MaxVMSizeNode MaxVMSizeTask AveVMSize MaxRSS MaxRSSNode "
        "MaxRSSTask AveRSS MaxPages MaxPagesNode MaxPagesTask AvePages MinCPU MinCPUNode MinCPUTask AveCPU NTasks "
        "AllocCPUS Elapsed State ExitCode AveCPUFreq ReqCPUFreqMin ReqCPUFreqMax ReqCPUFreqGov ReqMem "
        "ConsumedEnergy MaxDiskRead MaxDiskReadNode MaxDiskReadTask AveDiskRead MaxDiskWrite MaxDiskWriteNode "
        "MaxDiskWriteTask AveDiskWrite ReqTRES AllocTRES TRESUsageInAve TRESUsageInMax TRESUsageInMaxNode "
        "TRESUsageInMaxTask TRESUsageInMin TRESUsageInMinNode TRESUsageInMinTask TRESUsageInTot TRESUsageOutMax "
        "TRESUsageOutMaxNode TRESUsageOutMaxTask TRESUsageOutAve TRESUsageOutTot").split()
LONG_JOB = {"JobID": "4242", "JobIDRaw": "4242", "JobName": "train", "Partition": "small", "AllocCPUS": "4",
            "Elapsed": "01:00:00", "State": "COMPLETED", "ExitCode": "0:0", "ReqCPUFreqMin": "Unknown",
            "ReqCPUFreqMax": "Unknown", "ReqCPUFreqGov": "Unknown", "ReqMem": "8G",
            "ReqTRES": "billing=4,cpu=4,mem=8G,node=1", "AllocTRES": "billing=4,cpu=4,mem=8G,node=1"}
LONG_BATCH = {"JobID": "4242.batch", "JobIDRaw": "4242.batch", "JobName": "batch", "MaxVMSize": "1234567K",
              "MaxVMSizeNode": "c1", "MaxVMSizeTask": "0", "MaxRSS": "2097152K", "MaxRSSNode": "c1", "MaxRSSTask": "0",
              "AveRSS": "2097152K", "MaxPages": "12", "MinCPU": "00:59:00", "AveCPU": "00:59:00", "NTasks": "1",
              "AllocCPUS": "4", "Elapsed": "01:00:00", "State": "COMPLETED", "ExitCode": "0:0", "AveCPUFreq": "2.60G",
              "ConsumedEnergy": "0", "MaxDiskRead": "10.50M", "AveDiskWrite": "1.25M",
              "TRESUsageInAve": "cpu=00:59:00,energy=0,fs/disk=11010048,mem=2G,pages=12,vmem=1205.63M"}


def long_output(parsable: bool) -> str:
    if parsable:
        return "".join("|".join(row.get(f, "") for f in LONG) + "|\n"
                       for row in ({f: f for f in LONG}, LONG_JOB, LONG_BATCH))

    def cell(value: str, width: int) -> str:
        return (value if len(value) <= width else value[:width - 1] + "+").rjust(width)

    widths = {f: max(10, len(f)) for f in LONG} | {"JobID": 12, "JobIDRaw": 12}
    rows = [" ".join(cell(row.get(f, ""), widths[f]) for f in LONG) + " "
            for row in ({f: f for f in LONG}, LONG_JOB, LONG_BATCH)]
    return "\n".join([rows[0], " ".join("-" * widths[f] for f in LONG) + " ", *rows[1:]]) + "\n"


@pytest.mark.parametrize("parsable", [False, True], ids=["fixed-width", "parsable"])
def test_long_output(parsable: bool) -> None:
    parsed = parse_sacct(long_output(parsable))
    f = parsed.frame
    assert parsed.format == ("parsable" if parsable else "fixed-width") and len(f) == 2
    # The 10-wide columns cut the TRES lists: each field cut is said once, at its line, with how to get it whole.
    cut = {w.message.split(":")[0]: w.line for w in parsed.warnings}
    assert cut == ({} if parsable else {"ReqTRES": 3, "AllocTRES": 3, "TRESUsageInAve": 4}), parsed.warnings
    assert all("sacct -P" in w.message for w in parsed.warnings)
    job, batch = f.iloc[0], f.iloc[1]
    assert (job["job-id"], job["step"], batch["job-id"], batch["step"]) == ("4242", "", "4242", "batch")
    assert job["req-mem"] == 8 * 1024**3 and pd.isna(job["max-rss"]) and pd.isna(job["req-cpu-freq-min"])
    assert batch["max-rss"] == 2097152 * 1024 and batch["max-vm-size"] == 1234567 * 1024
    assert batch["ave-cpu-seconds"] == 3540 and batch["min-cpu"] == 3540 and batch["n-tasks"] == 1
    assert batch["ave-cpu-freq-khz"] == pytest.approx(2.6e9) and batch["max-disk-read"] == pytest.approx(10.5 * 2**20)
    assert batch["max-rss-node"] == "c1" and batch["state"] == "COMPLETED"
    assert (batch["tres-usage-in-ave"] or "").startswith("cpu=00:59:00")


@pytest.mark.parametrize("text", [
    "JobID|State|Foo|Elapsed\n1|COMPLETED|x|00:00:01\n",
    "       JobID      State        Foo    Elapsed \n------------ ---------- ---------- ---------- \n"
    "           1  COMPLETED          x   00:00:01 \n",
], ids=["parsable2", "fixed-width"])
def test_an_unknown_field_is_kept_as_text_with_a_warning_naming_the_header(text: str) -> None:
    parsed = parse_sacct(text)
    assert parsed.frame[["job-id", "state", "foo", "elapsed-seconds"]].values.tolist() == [["1", "COMPLETED", "x", 1.0]]
    assert [w.line for w in parsed.warnings] == [1] and "Foo" in parsed.warnings[0].message


def test_an_unknown_field_in_a_headerless_field_list_is_named() -> None:
    parsed = parse_sacct("1|COMPLETED|x\n", fields=["JobID", "State", "Bar"])
    assert parsed.frame["bar"].tolist() == ["x"]
    assert [w.line for w in parsed.warnings] == [1] and "Bar" in parsed.warnings[0].message


def test_a_field_asked_for_twice_in_headerless_output_is_read_from_its_first_column() -> None:
    parsed = parse_sacct("1|COMPLETED|FAILED\n", fields=["JobID", "State", "state"])
    assert parsed.frame["state"].tolist() == ["COMPLETED"]
    assert [w.line for w in parsed.warnings] == [1] and "more than once" in parsed.warnings[0].message


@pytest.mark.parametrize("brk", ["\u2028", "\r", "\x0b"], ids=["line-separator", "lone-cr", "vertical-tab"])
def test_a_multibyte_delimiter_with_unusual_line_breaks(brk: str) -> None:
    text = brk.join(["JobID^|^State^|^Elapsed", "1^|^COMPLETED^|^00:00:01", "2^|^FAILED^|^00:00:02", ""])
    parsed = parse_sacct(text.encode())
    assert parsed.frame[["job-id", "state", "elapsed-seconds"]].values.tolist() == [
        ["1", "COMPLETED", 1.0], ["2", "FAILED", 2.0]]


@pytest.mark.parametrize("layout", ["fixed-width", "reportseff"])
def test_input_holding_the_stand_in_bytes_is_still_read(layout: str) -> None:
    # The bytes that stand in for a multi-byte delimiter or split lines, all present in a job name.
    noise = "\x1f\x01\x02\x03\t\x1e"  # \x1e is a line break for Python: the name is cut there
    if layout == "fixed-width":
        text = f"     JobID    JobName \n---------- ---------- \n         1    a{noise}b \n"
    else:
        text = f"JobID^|^JobName\n1^|^a{noise}b\n"
    parsed = parse_sacct(text.encode())
    assert parsed.frame["job-id"].tolist()[0] == "1"
    assert parsed.frame["job-name"].tolist()[0].startswith("a\x1f\x01\x02\x03")


# --- properties ---------------------------------------------------------------------------------------------------

DELIMITERS = ["|", "^|^", "\t", ";", "::", "#"]


@st.composite
def delimited_runs(draw: st.DrawFn) -> tuple[str, list[list[str]]]:
    delim = draw(st.sampled_from(DELIMITERS))
    name_chars = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                               blacklist_characters=set(delim) | {"\x85"})
    rows = draw(st.lists(st.tuples(
        st.integers(1, 10**8).map(str),
        # Names that are sacct's "no value" words ("None", "Unknown") are read as null, by design.
        st.text(name_chars, min_size=1, max_size=12).filter(lambda s: s.strip() == s and s not in NULL_TOKENS),
        st.sampled_from(["COMPLETED", "failed", "Running", "CANCELLED by 0"]),
        st.integers(0, 10**6),
    ), min_size=1, max_size=30))
    return delim, [[job, name, state, f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"]
                   for job, name, state, secs in rows]


@settings(deadline=None)
@given(delimited_runs(), st.booleans(), st.booleans())
def test_any_delimiter_round_trips(run: tuple[str, list[list[str]]], header: bool, trailing: bool) -> None:
    delim, rows = run
    end = delim if trailing else ""
    lines = [delim.join(row) + end for row in rows]
    if header:
        lines.insert(0, delim.join(FIELDS) + end)
    text = "\n".join(lines) + "\n"
    parsed = parse_sacct(text.encode(), fields=None if header else FIELDS)
    f = parsed.frame
    assert f["job-id"].tolist() == [row[0] for row in rows]
    assert f["job-name"].tolist() == [row[1] for row in rows]
    assert f["state"].tolist() == [row[2].split()[0].upper() for row in rows]
    assert parsed.format == ("parsable" if trailing else "parsable2")


@pytest.mark.parametrize("brk", ["\u2028", "\u2029", "\x85", "\r", "\x0b", "\x1e"])
def test_an_unusual_line_break_far_into_a_large_input_still_splits_its_lines(brk: str) -> None:
    # The input is searched a window at a time: a break past the first windows is found all the same.
    rows = [f"{i}|COMPLETED|00:00:01" for i in range(40_000)]  # about 1 MB
    text = "JobID|State|Elapsed\n" + "\n".join(rows[:-1]) + brk + rows[-1] + "\n"
    frame = parse_sacct(text.encode()).frame
    assert len(frame) == 40_000 and frame["job-id"].iloc[-1] == "39999"
    assert frame["elapsed-seconds"].iloc[-2] == 1.0
