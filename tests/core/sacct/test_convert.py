"""Value conversions: state words in any case, durations, sizes, timestamps."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.sacct import (
    NULL_TOKENS,
    durations_to_seconds,
    parse_sacct,
    size_scopes,
    sizes_to_numbers,
    timestamps_to_epoch,
)
from core.sacct.bounds import LARGEST_NUMBER


@pytest.mark.parametrize(("printed", "state"), [
    ("completed", "COMPLETED"), ("COMPLEteD", "COMPLETED"), ("Running", "RUNNING"),
    ("cancelled by 10304007", "CANCELLED"), ("out_of_memory", "OUT_OF_MEMORY"), ("FAILED", "FAILED"),
    ("node_fail", "NODE_FAIL"), ("Some_Future_State", "SOME_FUTURE_STATE"),
])
def test_state_words_in_any_case_are_read_whole_in_upper_case(printed: str, state: str) -> None:
    f = parse_sacct(f"JobID|State\n1|{printed}\n").frame
    assert f["state"].tolist() == [state]


def test_state_words_in_any_case_in_fixed_width_are_expanded_too() -> None:
    text = ("       JobID      State \n------------ ---------- \n         123  completed \n"
            "         124 cancelled+ \n")
    assert parse_sacct(text).frame["state"].tolist() == ["COMPLETED", "CANCELLED"]


def _durations_by_regex(values: list[str | None]) -> list[float | None]:
    """The published reading of a duration, ``[D-][HH:]MM:SS[.mmm]``, written out in Python."""
    out: list[float | None] = []
    for v in values:
        m = re.fullmatch(r"(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)", v or "")
        out.append(None if m is None else
                   int(m[1] or 0) * 86400.0 + int(m[2] or 0) * 3600.0 + int(m[3]) * 60.0 + float(m[4]))
    return out


@settings(deadline=None)
@given(st.lists(st.one_of(
    st.none(),
    st.text(alphabet="0123456789:-.x ", max_size=13),
    st.builds(lambda d, h, m, s: f"{d}-{h:02d}:{m:02d}:{s:02d}", st.integers(0, 999), st.integers(0, 99),
              st.integers(0, 99), st.integers(0, 99)),
    st.builds(lambda m, s, ms: f"{m:02d}:{s:02d}.{ms:03d}", st.integers(0, 99), st.integers(0, 99),
              st.integers(0, 999)),
    st.builds(lambda h, m, s: f"{h:02d}:{m:02d}:{s:02d}", st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)),
), max_size=40), st.integers(0, 3))
def test_durations_read_from_their_bytes_equal_the_published_reading(values: list[str | None], skip: int) -> None:
    # Every layout the byte reader knows, with other values between them (each layout is read as a group of rows).
    # Read from a slice too: the byte reader must honour the array's offset.
    array = pa.array(["00:00:01"] * skip + values, pa.string()).slice(skip)
    got = [None if np.isnan(v) else float(v) for v in durations_to_seconds(array)]
    assert got == _durations_by_regex(values)


_SIZE_TEXT = st.one_of(
    st.none(),
    st.text(alphabet="0123456789.KMGTPEnckx-+e ", max_size=12),
    st.builds(lambda n, unit, scope: f"{n}{unit}{scope}", st.integers(0, 10**16),
              st.sampled_from(["", "K", "M", "G", "T", "P", "E"]), st.sampled_from(["", "c", "n"])),
    st.builds(lambda n, d, unit, scope: f"{n:.{d}f}{unit}{scope}", st.floats(0, 1e9), st.integers(0, 6),
              st.sampled_from(["", "K", "M", "G", "T", "P", "E"]), st.sampled_from(["", "c", "n"])),
    st.sampled_from(["", "Unknown", "UNLIMITED", "INVALID", "None", "16?", ".5K", "5.", ".", "0", "00.000M",
                     "4000Mc", "4000Mn", "4000cM", "5KK", "5cc", "5nc", "1e5", "+5", "-5", "１２K", "5 K", "K", "c"]),
)


def _sizes_by_pattern(a: pa.Array, base: float) -> np.ndarray:
    """The reading sizes had before they were read from their bytes: the whole pattern matched in Arrow's RE2."""
    valid = pc.match_substring_regex(a, r"^(?P<n>\d*\.?\d+)(?P<u>[KMGTPE]?)(?P<scope>[nc]?)$")
    a = pc.if_else(valid, a, pa.scalar(None, pa.string()))
    unscoped = pc.utf8_rtrim(a, characters="nc")
    last = pc.utf8_slice_codeunits(unscoped, -1)
    letters = pa.array(["K", "M", "G", "T", "P", "E"])
    power = pc.cast(pc.add(pc.fill_null(pc.index_in(last, value_set=letters), -1), 1), pa.float64())
    number = pc.cast(pc.utf8_rtrim(unscoped, characters="KMGTPE"), pa.float64())
    return np.asarray(pc.multiply(number, pc.power(base, power)).to_numpy(zero_copy_only=False), dtype="float64")


@settings(max_examples=300, deadline=None)
@given(st.lists(_SIZE_TEXT, max_size=40), st.integers(0, 3), st.sampled_from([1024.0, 1000.0]))
def test_sizes_read_from_their_bytes_equal_the_pattern_reading(values: list[str | None], skip: int,
                                                               base: float) -> None:
    # From a slice too: the byte reader must honour the array's offset.
    array = pa.array(["1K"] * skip + values, pa.string()).slice(skip)
    got = sizes_to_numbers(array, binary=base == 1024.0)
    expected = _sizes_by_pattern(array, base)
    differ = [(v, g, e) for v, g, e in zip(values, got, expected, strict=True)
              if not (g == e or (np.isnan(g) and np.isnan(e)))]
    assert np.array_equal(got, expected, equal_nan=True), differ


@pytest.mark.parametrize(("printed", "binary", "value"), [
    ("4000M", True, 4000 * 2**20), ("4000Mc", True, 4000 * 2**20), ("4000Mn", True, 4000 * 2**20),
    ("1.5K", True, 1536.0), ("2928.27M", True, 2928.27 * 2**20), ("3T", True, 3 * 2**40), ("7E", True, 7 * 2**60),
    ("12", True, 12.0), ("2.40G", False, 2.4e9), ("100", False, 100.0), ("Unknown", True, None),
    ("INVALID", True, None), ("UNLIMITED", True, None), ("", True, None), ("16?", True, None), ("5KK", True, None),
    ("5cM", True, None),
    # Values too long for any size, each byte's kind counted: 2**8 or 2**16 letters or points is no number.
    ("x" * 2**8 + "5K", True, None), ("." * 2**8 + "5", True, None), ("1." + "x" * (2**8 - 1) + "5", True, None),
    ("0" * 2**8 + "1.5K", True, 1536.0), ("0" * 2**8 + "1.5.5K", True, None), ("0" * 250 + "1.5K", True, 1536.0),
    ("x" * 2**16 + "5K", True, None), ("." * 2**16 + "5", True, None), ("0" * 2**16 + "1.5K", True, 1536.0),
])
def test_sizes_with_unit_and_per_cpu_or_per_node_suffixes(printed: str, binary: bool, value: float | None) -> None:
    got = sizes_to_numbers(pa.array([printed, None]), binary=binary)
    assert np.isnan(got[1])
    assert (np.isnan(got[0]) if value is None else got[0] == value), (printed, got[0])


@pytest.mark.parametrize(("printed", "seconds"), [
    ("1-02:03:04", 93784.0), ("10-00:00:00", 864000.0), ("365-23:59:59", 365 * 86400 + 86399.0),
    ("00:05:12", 312.0), ("46:15.162", 2775.162), ("05:12", 312.0), ("2:03", 123.0), ("1-2:03:04", 93784.0),
    ("UNLIMITED", None), ("Partition_Limit", None), ("INVALID", None), ("Unknown", None), ("", None),
    ("1-02:03:04.5", 93784.5), ("00:60:00", 3600.0), ("0a:00:00", None), ("1-02-03:04", None),
])
def test_durations_in_every_layout_sacct_prints(printed: str, seconds: float | None) -> None:
    got = durations_to_seconds(pa.array(["00:00:01", printed, None]))
    assert got[0] == 1.0 and np.isnan(got[2])
    assert (np.isnan(got[1]) if seconds is None else got[1] == seconds), (printed, got[1])


@pytest.mark.parametrize("zone", ["UTC", "Europe/Helsinki"])
def test_numbers_cut_by_fixed_width_are_empty_and_the_others_read_as_printed_whole(zone: str) -> None:
    # A cut value is left out of its column's conversion: the whole values beside it read as they do in -P output.
    rows = [["JobID", "Submit", "Elapsed", "MaxRSS", "TotalCPU"],
            ["123", "2024-01-15T12:00:0+", "00:01:00", "1234567K", "46:15.162"],
            ["124", "2024-07-15T12:00:00", "10000-00:+", "123456789+", "19-12:02:+"],
            ["125", "Unknown", "1-02:03:04", "5.5Gc", "Unknown"]]
    widths = [12, 19, 10, 10, 10]
    lines = [" ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    text = "\n".join([lines[0], " ".join("-" * w for w in widths), *lines[1:]]) + "\n"
    whole = ("JobID|Submit|Elapsed|MaxRSS|TotalCPU\n123||00:01:00|1234567K|46:15.162\n"
             "124|2024-07-15T12:00:00|||\n125|Unknown|1-02:03:04|5.5Gc|Unknown\n")
    parsed, expected = parse_sacct(text, timezone=zone), parse_sacct(whole, timezone=zone).frame
    columns = ["submit-time", "elapsed-seconds", "max-rss", "total-cpu-seconds"]
    pd.testing.assert_frame_equal(parsed.frame[columns], expected[columns], check_exact=True)
    assert sorted(w.line for w in parsed.warnings) == [3, 4, 4, 4]


@settings(deadline=None)
@given(st.lists(st.one_of(
    st.text(alphabet="0123456789_+.abé", max_size=12),
    st.sampled_from(["", "Unknown", "None", "123", "123.batch", "123_4.extern", "123+0.0", "1.2.3", ".", "5.", "é.ü"]),
), min_size=1, max_size=40))
def test_job_ids_split_at_their_first_point_as_python_splits_them(ids: list[str]) -> None:
    # The job and step are cut from the ids' bytes (multi-byte characters too); a "no value" id has no job.
    text = "JobID|State\n" + "".join(f"{v}|COMPLETED\n" for v in ids)
    frame = parse_sacct(text).frame
    expected_jobs = [None if v in NULL_TOKENS else v.split(".", 1)[0] for v in ids]
    expected_steps = ["" if v in NULL_TOKENS or "." not in v else v.split(".", 1)[1] for v in ids]
    assert [None if pd.isna(v) else v for v in frame["job-id"]] == expected_jobs
    assert frame["step"].tolist() == expected_steps


_STAMPS = ["2024-01-15T12:00:00", "2024-07-15T12:00:00", "2024-10-27T03:30:00", "2024-03-31T03:30:00",
           "2024-02-29T23:59:59", "Unknown", "None", "", "2024-13-01T00:00:00", "2024-07-15 12:00:00", "x" * 19]


@settings(deadline=None)
@given(st.lists(st.sampled_from(_STAMPS), max_size=60), st.sampled_from(["UTC", "Europe/Helsinki"]))
def test_timestamps_of_a_column_equal_each_value_read_alone(values: list[str], zone: str) -> None:
    # Values that repeat are read once per distinct value, others per row: either way as each reads alone.
    got = timestamps_to_epoch(pa.array(values, pa.string()), ZoneInfo(zone))
    alone = [timestamps_to_epoch(pa.array([v], pa.string()), ZoneInfo(zone))[0] for v in values]
    assert np.array_equal(got, np.array(alone, dtype=float), equal_nan=True)


def test_timestamps_when_clocks_go_back_or_forward() -> None:
    # Helsinki: 2024-10-27 03:00-04:00 happens twice (the later, standard time, is taken); 2024-03-31 03:00-04:00
    # never happens (moved forward to 04:00 EEST).
    got = timestamps_to_epoch(pa.array(["2024-10-27T03:30:00", "2024-03-31T03:30:00"] * 3), ZoneInfo("Europe/Helsinki"))
    assert got.tolist() == [pd.Timestamp("2024-10-27T01:30:00Z").timestamp(),
                            pd.Timestamp("2024-03-31T01:00:00Z").timestamp()] * 3


@settings(max_examples=100, deadline=None)
@given(st.lists(_SIZE_TEXT, min_size=1, max_size=20), st.integers(1, 3))
def test_requested_memory_and_its_scope_read_as_each_value_alone(values: list[str | None], repeats: int) -> None:
    # Repeated requests are read once per distinct value: the same figures as each value read alone.
    printed = [v or "" for v in values] * repeats
    frame = parse_sacct("JobID|ReqMem\n" + "".join(f"{i}|{v}\n" for i, v in enumerate(printed))).frame
    alone = [(sizes_to_numbers(pa.array([v]), binary=True)[0], size_scopes(pa.array([v]))[0].as_py())
             for v in printed]
    alone = [(n if n <= LARGEST_NUMBER else np.nan, scope) for n, scope in alone]  # beyond: no Slurm records it
    got = list(zip(frame["req-mem"].tolist(), frame["req-mem-scope"].astype(object).tolist(), strict=True))
    assert all((g[0] == e[0] or (np.isnan(g[0]) and np.isnan(e[0]))) and (g[1] if isinstance(g[1], str) else None)
               == e[1] for g, e in zip(got, alone, strict=True)), (got, alone)


@settings(deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(_STAMPS)), max_size=60))
def test_utc_timestamps_equal_their_calendar_reading(values: list[str | None]) -> None:
    # Read row by row in UTC: the published layout, anything else (a "no value" word, a space for T) empty.
    got = timestamps_to_epoch(pa.array(values, pa.string()), ZoneInfo("UTC"))
    read = pd.to_datetime(pd.Series(values, dtype=object), format="%Y-%m-%dT%H:%M:%S", errors="coerce")
    expected = [np.nan if pd.isna(t) else t.value / 1e9 for t in read]
    assert np.array_equal(got, np.array(expected, dtype=float), equal_nan=True)


def test_a_long_timestamp_column_reads_as_its_short_columns() -> None:
    # A whole table's column is read once per distinct value (less memory), a block's row by row: same seconds.
    values = [*_STAMPS, None]
    long = timestamps_to_epoch(pa.array(values * 30_000, pa.string()), ZoneInfo("UTC"))
    assert len(long) == len(values) * 30_000 > 2**18
    assert np.array_equal(long, np.tile(timestamps_to_epoch(pa.array(values, pa.string()), ZoneInfo("UTC")), 30_000),
                          equal_nan=True)


@settings(deadline=None)
@given(st.lists(st.one_of(st.sampled_from(NULL_TOKENS), st.sampled_from(["Unknowx", "none", "(nulL)", "N/A", "é" * 2]),
                          st.text(alphabet="NoeUnk()é ", max_size=16)), min_size=1, max_size=40))
def test_no_value_words_are_empty_in_text_counts_and_ids_and_nothing_else_is(values: list[str]) -> None:
    # Only whole "no value" words are empty (a word as long as one, or in another case, is kept).
    text = "JobID|JobName|NTasks\n" + "".join(f"{v}|{v}|{v}\n" for v in values)
    frame = parse_sacct(text).frame
    empty = [v in NULL_TOKENS for v in values]
    assert [pd.isna(v) for v in frame["job-name"]] == empty
    assert [pd.isna(v) for v in frame["job-id"]] == empty
    assert [v for v in frame["job-name"] if not pd.isna(v)] == [v for v in values if v not in NULL_TOKENS]
    assert frame["n-tasks"].isna().all()


def test_no_value_words_of_a_long_column_are_empty_as_in_a_short_one() -> None:
    # A whole fixed-width table's column (more rows than a block of delimited input) is looked up whole.
    values = [v for v in NULL_TOKENS if " " not in v and len(v) <= 10] + ["Unknowx", "(nulL)", "batch", "gpu"]
    rows = values * 30_000
    text = f"{'JobID':>10} {'JobName':>10}\n{'-' * 10} {'-' * 10}\n" + "".join(
        f"{i:>10} {v:>10}\n" for i, v in enumerate(rows))
    names = parse_sacct(text).frame["job-name"]
    assert len(names) == len(rows) > 2**18
    assert [pd.isna(v) for v in names] == [v in NULL_TOKENS for v in rows]
    assert [v for v in names if not pd.isna(v)] == [v for v in rows if v not in NULL_TOKENS]
