"""Property: whatever numbers and names are stored (SACCT runs, TIMES and Management objects with extreme and
missing values), every page renders: the page, or one message naming the object; never an exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit import cache_data
from streamlit.testing.v1 import AppTest

from core.demo import demo_orchestration
from core.serialize import dump_management, frame_to_parquet
from core.store.local import LocalStore
from tests.conftest import by_profile
from tests.dashboard.conftest import APP, shown

FORWARDER, PIPELINE, SUBMITTER = "mlch-for-air", "mlch-pipe-user-example-com", "mlch-sub-air-user-example-com"
RUN_OBJECT = "ARTIFACTS/SACCT/aa-extreme.parquet"
TIMES_OBJECT = "TIMES/aa-extreme.parquet"
MANAGEMENT_OBJECT = "MANAGEMENT/aa-extreme.json"
JOB = "21538077"
PAGES = ("views/overview.py", "views/times.py", "views/sacct.py", "views/management.py", "views/job.py",
         "views/buckets.py")

EXTREME = st.one_of(st.none(), st.sampled_from([0.0, -1.0, 1e20, 4e18, 2.0**63, float("inf"), float("-inf"),
                                                 float("nan"), 1e-300]),
                    st.floats(allow_nan=True, allow_infinity=True))
TEXT = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["", "None", "**x**", ":material/home:", "$1$"]))


@st.composite
def sacct_runs(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, Any]]:
    rows = draw(st.integers(0, 3))
    frame = pd.DataFrame({
        "job-id": pd.Series([JOB] + [draw(st.sampled_from([JOB, f"{JOB}.batch", "7"])) for _ in range(rows)],
                            dtype="string"),
        "step": pd.Series([""] + [draw(st.sampled_from(["", "batch", "0"])) for _ in range(rows)], dtype="string"),
        "state": pd.Series([draw(st.sampled_from(["COMPLETED", "FAILED", "RUNNING", "", "?"])) for _ in
                            range(rows + 1)], dtype="string"),
        "job-name": pd.Series([draw(TEXT) for _ in range(rows + 1)], dtype="string"),
        "cluster": pd.Series([draw(st.sampled_from(["mahti", "puhti", None, "x"])) for _ in range(rows + 1)],
                             dtype="string"),
    })
    for column in ("submit-time", "start-time", "end-time", "elapsed-seconds", "timelimit-seconds",
                   "total-cpu-seconds", "max-rss", "req-mem"):
        frame[column] = pd.Series([draw(EXTREME) for _ in range(rows + 1)], dtype="float64")
    frame["alloc-cpus"] = pd.array([draw(st.one_of(st.none(), st.integers(-5, 2**62))) for _ in range(rows + 1)],
                                   dtype="Int64")
    meta: dict[str, Any] = {"version": draw(st.one_of(st.integers(-5, 10**30), st.sampled_from([10**30]))),
                            "rows": draw(st.integers(-5, 10**30)),
                            "platform": draw(st.sampled_from(["mahti", "puhti", "x", ""]))}
    return frame, meta


@st.composite
def times_runs(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 4))
    stage = st.one_of(st.sampled_from(["start", "config", "run", "store"]), st.text(max_size=8))
    index: list[Any] = [draw(stage if draw(st.booleans()) else st.integers(-3, 3)) for _ in range(rows)]
    if index and not all(isinstance(i, str) for i in index):  # a stage index of numbers, not text
        index = [i if isinstance(i, int) else len(i) for i in index]
    return pd.DataFrame({c: [draw(EXTREME) for _ in range(rows)] for c in ("begin", "end", "total")},
                        index=pd.Index(index), dtype="float64")


@st.composite
def management_objects(draw: st.DrawFn) -> bytes:
    data = json.loads(dump_management(demo_orchestration()))
    platform = data["platforms"]["puhti"]
    for job in platform["jobs"]:
        job["id"] = draw(st.one_of(st.sampled_from([JOB, "None", "", "1e20", str(10**30), "-1"]), st.text(max_size=6)))
    data["platforms"][draw(st.sampled_from(["puhti", "", "$x$", "a" * 300, str(10**30)]))] = platform
    return json.dumps(data).encode()


def st_cache_clear() -> None:
    """Each example's objects are read afresh (their etags may repeat an earlier example's)."""
    cache_data.clear()


def _assert_page_or_named_message(at: AppTest, page: str, objects: tuple[str, ...]) -> None:
    assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
    for error in at.error:
        assert any(name in shown(str(error.value)) for name in objects), f"{page}: {error.value}"


@settings(max_examples=by_profile(fast=1, full=3), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(run=sacct_runs(), times=times_runs(), management=management_objects())
def test_every_page_survives_any_stored_value(store_dir: Path,
                                              run: tuple[pd.DataFrame, dict[str, Any]], times: pd.DataFrame,
                                              management: bytes) -> None:
    store = LocalStore(store_dir)
    frame, meta = run
    store.put_object(FORWARDER, RUN_OBJECT, frame_to_parquet(frame), metadata=meta)
    store.put_object(PIPELINE, TIMES_OBJECT, frame_to_parquet(times))
    store.put_object(SUBMITTER, MANAGEMENT_OBJECT, management)
    objects = (RUN_OBJECT, TIMES_OBJECT, MANAGEMENT_OBJECT)
    st_cache_clear()
    visits: list[tuple[str, dict[str, str]]] = [(page, {}) for page in PAGES if page not in ("views/sacct.py",
                                                                                             "views/job.py")]
    visits += [("views/job.py", {"job": JOB}), ("views/times.py", {"runs": "aa-extreme"}),
               ("views/management.py", {"object": MANAGEMENT_OBJECT})]
    visits += [("views/sacct.py", {"runs": "aa-extreme", "view": view}) for view in ("Elapsed", "Table", "Timeline")]
    for page, params in visits:
        at = AppTest.from_file(APP, default_timeout=60)
        for key, value in params.items():
            at.query_params[key] = value
        at.switch_page(page)
        at.run()
        _assert_page_or_named_message(at, f"{page} {params}", objects)
