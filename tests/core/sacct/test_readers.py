"""Format detection and readers: delimiters, trailing delimiters, values with line breaks, appended tables."""

from __future__ import annotations

import pandas as pd
import pytest

from core.sacct import parse_sacct

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
