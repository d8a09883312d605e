"""Numbers no Slurm records are left empty with a warning when text is parsed and when a stored run is read."""

from __future__ import annotations

import math

import pandas as pd

from core.sacct import parse_sacct
from core.sacct.bounds import out_of_range
from core.serialize import frame_to_parquet
from core.services.runs import load_described_run
from core.store.local import LocalStore
from tests.samples import sacct


def test_a_json_submit_time_no_slurm_records_is_left_empty_with_a_warning() -> None:
    text = sacct("13_slurmdog_json_slurm23.02.txt").read_text().replace(
        '"submission": 1741662974', '"submission": 4000000000000000000', 1)
    parsed = parse_sacct(text)
    assert parsed.frame["submit-time"].isna().sum() >= 1
    assert parsed.frame["submit-time"].dropna().lt(7_258_118_400).all()
    assert any("submit-time" in w.message and "outside what Slurm records" in w.message for w in parsed.warnings)


def test_values_in_range_are_kept_and_the_frame_is_the_same_object() -> None:
    frame = pd.DataFrame({"job-id": ["1"], "elapsed-seconds": [60.0], "submit-time": [1.7e9], "max-rss": [2.0**30]})
    assert out_of_range(frame) == (frame, [])


def test_a_stored_run_with_inf_and_1e20_is_read_with_those_values_empty(tmp_path: object) -> None:
    store = LocalStore(tmp_path)  # type: ignore[arg-type]
    frame = pd.DataFrame({"job-id": ["1", "2"], "state": ["COMPLETED", "FAILED"],
                          "elapsed-seconds": [math.inf, 60.0], "submit-time": [1e20, 1.7e9]})
    store.put_object("b", "ARTIFACTS/SACCT/r.parquet", frame_to_parquet(frame))
    read, _ = load_described_run(store, "b", "ARTIFACTS/SACCT/r.parquet")
    assert read["elapsed-seconds"].isna().tolist() == [True, False]
    assert read["submit-time"].isna().tolist() == [True, False]
