"""Management's status chart colours jobs by their status from one fixed palette, never one colour per job."""

from __future__ import annotations

import json
from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from core.services.palette import PHASE_COLOURS

OpenPage = Callable[..., AppTest]


def test_status_chart_has_one_colour_per_status_from_the_fixed_palette(open_page: OpenPage) -> None:
    at = open_page("views/management.py")  # the newest object: run 3, eight jobs under way
    assert not at.exception
    jobs = sum(len(d.value) for d in at.dataframe if "status" in d.value.columns and "job id" in d.value.columns)
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    colours = {trace["name"]: trace["marker"]["color"] for trace in figure["data"]}
    statuses = {s for d in at.dataframe if "job id" in d.value.columns for s in d.value["status"]}
    assert set(colours) == statuses and len(statuses) < jobs == 8
    assert colours == {status: PHASE_COLOURS[status] for status in statuses}
    assert colours["running"] == "#1f77b4" and colours["pending"] == "#ff9f1c" and colours["complete"] == "#2ca02c"
