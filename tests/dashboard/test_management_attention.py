"""Management: each platform tab starts with what needs attention, the object's last change is shown, the chart
lists platforms in the tabs' order, and workspace rows show their project."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import texts

OpenPage = Callable[..., AppTest]


def test_tabs_start_with_failed_jobs_and_the_last_change(open_page: OpenPage) -> None:
    at = open_page("views/management.py")
    at.selectbox(key="management-object").set_value("MANAGEMENT/1.json").run()  # run 1, which had failures
    assert not at.exception
    assert [t.label for t in at.tabs] == ["puhti", "mahti", "roihu", "lumi"]
    # The chart's platform axis is in the tabs' order.
    chart = at.get("plotly_chart")[0].proto
    assert '"categoryarray":["puhti","mahti","roihu","lumi"]' in chart.spec.replace(" ", "")
    assert "last changed" in texts(at) and "min ago" in texts(at)
    assert not at.error
    # mahti's sweep (hyperparam.sh) had a failed task and roihu's featurize.sh ran out of memory; the demo objects
    # were just written, so nothing is stuck.
    assert [w.value for w in at.warning] == ["1 failed: job 3462001", "1 failed: job 812360"]
    assert len([s for s in at.success if s.value == "Nothing needs attention on this platform."]) == 2
    spaces = [d.value for d in at.dataframe if "project" in getattr(d.value, "columns", [])]
    assert "Ray experiments" in set(spaces[0]["project"])


def test_a_stale_object_marks_active_jobs_as_stuck(open_page: OpenPage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUCK_AFTER_MINUTES", "0.001")
    at = open_page("views/management.py")
    warnings = [w.value for w in at.warning]
    # The newest object, run 3: puhti's train-resnet running and eval pending; mahti's Ray cluster running and
    # sweep.sh started but not submitted; roihu's train-gnn and lumi's finetune pending (lumi's export.sh is new).
    assert warnings == [
        "2 active jobs, but the object has not changed for over 0.001 min: job 21545020, 21545033",
        "2 active jobs, but the object has not changed for over 0.001 min: job 3470110, without id",
        "1 active job, but the object has not changed for over 0.001 min: job 815577",
        "1 active job, but the object has not changed for over 0.001 min: job 7351200",
    ]
