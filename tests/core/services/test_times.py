"""core.services.times: run times on one axis, each run starting at zero."""

from __future__ import annotations

from core.demo import seed_demo
from core.services import charts, times
from core.settings import Settings
from core.store.local import LocalStore


def test_times_offsets_start_each_run_at_zero(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    runs = times.list_runs(store, settings)
    frame = times.load_runs(store, settings, runs)
    timed = frame[frame["total"] > 0]
    assert (timed.groupby("run")["offset"].min() == 0).all()
    assert (frame["offset"] >= 0).all()
    fig = charts.times_timeline(frame)
    assert fig.layout.xaxis.title.text == "seconds since the run started"
