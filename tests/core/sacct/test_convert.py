"""Value conversions: state words in any case, durations."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.sacct import durations_to_seconds, parse_sacct


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
    # Read from a slice too: the byte reader must honour the array's offset.
    array = pa.array(["00:00:01"] * skip + values, pa.string()).slice(skip)
    got = [None if np.isnan(v) else float(v) for v in durations_to_seconds(array)]
    assert got == _durations_by_regex(values)
