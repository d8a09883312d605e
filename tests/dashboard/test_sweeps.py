"""An array's summary and sweep advice on the SACCT page (the Sweeps view, kept in the URL) and on its job page."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.sacct import parse_sacct
from core.serialize import frame_to_parquet
from core.store.local import LocalStore
from tests.core.sacct.test_sweeps import array_text
from tests.dashboard.conftest import shown, texts

OpenPage = Callable[..., AppTest]
RUN = "user-example-com-sweep-lr"


def _store(store_dir: Path) -> None:
    LocalStore(store_dir).put_object("mlch-for-air", f"ARTIFACTS/SACCT/{RUN}.parquet",
                                     frame_to_parquet(parse_sacct(array_text()).frame),
                                     metadata={"version": 1, "platform": "mahti"})


def test_sacct_sweeps_view_shows_the_array_summary_and_advice(open_page: OpenPage, store_dir: Path) -> None:
    _store(store_dir)
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value([RUN]).run()
    at.segmented_control(key="sacct-view").set_value("Sweeps").run()
    assert not at.exception, at.exception
    picker = at.selectbox(key="sacct-sweep")
    assert picker.value == f"{RUN}/array/700"
    assert picker.options == [f"array 700 (sweep-lr) in {RUN}: 40 tasks", f"jobs named prep in {RUN}: 3 tasks"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Tasks"] == "40" and metrics["Failed, timed out or out of memory"] == "2"
    advice = [shown(s.value) for s in at.success]
    assert advice[0].startswith("--time=00:56:00: covers 95% of the 38 tasks that completed or timed out")
    assert advice[1].startswith("--mem=6G: covers 95% of the 40 finished tasks with a peak")
    failed = at.dataframe[-1].value
    assert failed[["JobID", "State", "ExitCode"]].values.tolist() == [["700_37", "FAILED", "3:0"],
                                                                      ["700_38", "OUT_OF_MEMORY", "0:125"]]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["name"] for t in spec["data"]} == {"COMPLETED", "FAILED", "OUT_OF_MEMORY"}
    assert spec["layout"]["title"]["text"] == "Runtime of the 40 tasks with an Elapsed"
    assert at.query_params["view"] == "Sweeps"
    picker.set_value(f"{RUN}/name/prep").run()
    assert at.query_params["sweep"] == f"{RUN}/name/prep"
    assert {m.label: m.value for m in at.metric}["Tasks"] == "3"
    assert "No task failed." in texts(at)


def test_job_page_of_an_array_shows_its_summary_and_a_task_links_to_it(open_page: OpenPage, store_dir: Path) -> None:
    _store(store_dir)
    at = open_page("views/job.py", params={"job": "700", "run": RUN})
    assert not at.exception, at.exception
    assert "Array: 40 tasks" in [s.value for s in at.subheader]
    assert any(shown(s.value).startswith("--time=00:56:00") for s in at.success)
    task = open_page("views/job.py", params={"job": "700_3", "run": RUN})
    assert not task.exception
    link = next(p for p in task.get("page_link") if "task of array 700" in p.proto.label)
    assert (link.proto.page, link.proto.query_string) == ("job", f"job=700&run={RUN}")
