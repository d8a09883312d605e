"""core.services.charts: what each figure plots."""

from __future__ import annotations

import pandas as pd

from core.services import charts


def test_efficiency_chart_plots_known_values_including_zero_and_leaves_unknown_values_out() -> None:
    jobs = pd.DataFrame({"job-id": ["1", "2", "3"], "cpu-efficiency": [0.5, None, 0.0],
                         "time-efficiency": [None, None, None], "memory-efficiency": [None, 0.25, None],
                         "run": ["r", "r", "r"]})
    fig = charts.efficiency(jobs)
    plotted = {trace.name: sorted(zip(trace.customdata[:, 0], trace.y, strict=True)) for trace in fig.data}
    # A real 0 % is a point; an unknown value is no point at all (not a 0), and a metric with no value has no box.
    # Each box says how many jobs it counts.
    assert plotted == {"CPU eff. (2 jobs)": [("1", 50.0), ("3", 0.0)], "Mem eff. (1 job)": [("2", 25.0)]}
