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
