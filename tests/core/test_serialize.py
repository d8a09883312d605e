import json
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import UnsafePickleError
from core.models import Orchestration
from core.serialize import dump_management, frame_to_parquet, load_management, parquet_to_frame

ORCH = {"name": "multi-cloud-hpc-integration",
        "platforms": {"mahti": {"jobs": [{"path": "/users/csc/ray.sh", "id": "3459879",
                                          "status": {"running": True}}]}}}


@pytest.mark.parametrize("compression", [None, "snappy", "zstd"])
def test_parquet_round_trip_keeps_dtypes_and_index(compression: str | None) -> None:
    df = pd.DataFrame({
        "job-id": pd.array(["1", "2", None], dtype="string"),
        "alloc-cpus": pd.array([1, None, 3], dtype="Int64"),
        "elapsed-seconds": [1.5, np.nan, 3.0],
    }, index=pd.Index(["start", "run", "store"], name="stage"))
    back = parquet_to_frame(frame_to_parquet(df, compression=compression))
    pd.testing.assert_frame_equal(back, df)


def test_garbage_is_not_parquet() -> None:
    with pytest.raises(ValueError, match="not a parquet object"):
        parquet_to_frame(b"hello")


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_seed_pickles_load_in_every_protocol(protocol: int) -> None:
    assert load_management(pickle.dumps(ORCH, protocol=protocol)) == ORCH


def test_json_management_round_trip() -> None:
    data = dump_management(Orchestration.model_validate(ORCH))
    content = load_management(data)
    assert content["platforms"]["mahti"]["jobs"][0]["status"]["running"] is True
    assert json.loads(data)["name"] == ORCH["name"]


class _Exploit:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.path}",))


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_malicious_pickle_is_refused_and_never_executed(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"name": "x", "platforms": _Exploit(str(marker))}, protocol=protocol)
    with pytest.raises(UnsafePickleError, match="system"):
        load_management(payload)
    assert not marker.exists()
    assert isinstance(UnsafePickleError("x"), ValueError)


def test_non_dict_and_garbage_are_refused() -> None:
    with pytest.raises(ValueError, match="holds a list"):
        load_management(pickle.dumps([1, 2]))
    with pytest.raises(ValueError, match="neither JSON nor a pickle"):
        load_management(b"PAR1 not a management object")
    with pytest.raises(ValueError, match="not a readable pickle"):
        load_management(b"\x80\x04garbage")


def test_split_float_columns_are_byte_stream_split_smaller_and_exact() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(3)
    start = np.round(1.7e9 + rng.uniform(0, 30 * 86_400, 50_000))
    frame = pd.DataFrame({"start-time": start, "cpu-efficiency": rng.uniform(0, 1, 50_000),
                          "gpus": rng.choice([0.0, 4.0], 50_000), "partition": rng.choice(["small", "gpu"], 50_000)})
    plain = frame_to_parquet(frame)
    split = frame_to_parquet(frame, split_floats={"start-time", "cpu-efficiency", "partition", "absent"})
    pd.testing.assert_frame_equal(parquet_to_frame(split), frame)
    chunks = pq.ParquetFile(pa.BufferReader(split)).metadata.row_group(0)
    encodings = {chunks.column(i).path_in_schema: chunks.column(i).encodings for i in range(chunks.num_columns)}
    assert "BYTE_STREAM_SPLIT" in encodings["start-time"] and "BYTE_STREAM_SPLIT" in encodings["cpu-efficiency"]
    assert "BYTE_STREAM_SPLIT" not in encodings["gpus"] and "BYTE_STREAM_SPLIT" not in encodings["partition"]
    assert len(split) < 0.85 * len(plain)


def test_ratios_are_written_as_32_bit_floats() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(5)
    ids = pd.Series([f"{10_000_000 + i}" for i in range(50_000)], dtype="string")
    frame = pd.DataFrame({"job-id": ids, "cpu-efficiency": rng.uniform(0, 1, 50_000),
                          "elapsed-seconds": np.round(rng.exponential(3600, 50_000))})
    frame.loc[7, "cpu-efficiency"] = np.nan
    plain = frame_to_parquet(frame, split_floats={"cpu-efficiency", "elapsed-seconds"})
    narrow = frame_to_parquet(frame, split_floats={"cpu-efficiency", "elapsed-seconds"},
                              single_floats={"cpu-efficiency", "elapsed-seconds-absent", "job-id"})
    back = parquet_to_frame(narrow)
    assert back["cpu-efficiency"].dtype == "float32"
    np.testing.assert_allclose(back["cpu-efficiency"].astype("float64"), frame["cpu-efficiency"], rtol=1e-7)
    assert np.isnan(back.loc[7, "cpu-efficiency"])
    pd.testing.assert_frame_equal(back.drop(columns="cpu-efficiency"), frame.drop(columns="cpu-efficiency"))
    chunks = pq.ParquetFile(pa.BufferReader(narrow)).metadata.row_group(0)
    columns = {chunks.column(i).path_in_schema: chunks.column(i) for i in range(chunks.num_columns)}
    assert columns["cpu-efficiency"].physical_type == "FLOAT"
    assert columns["elapsed-seconds"].physical_type == "DOUBLE" and columns["job-id"].physical_type == "BYTE_ARRAY"
    assert len(narrow) < 0.85 * len(plain)
