"""Value conversions: state words in any case."""

from __future__ import annotations

import pytest

from core.sacct import parse_sacct


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
