"""core.services.times: run times on one axis, each run starting at zero."""

from __future__ import annotations

from core.demo import seed_demo
from core.services import charts, times
from core.settings import Settings
from core.store.local import LocalStore


def test_times_offsets_start_each_run_at_zero(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    objects = times.run_objects(store, settings)  # what the Times page reads, as it reads them
    bucket = times.pipeline_bucket(settings)
    frame = times.combine_runs({run: times.read_run(store, bucket, objects[run].name, settings.read_limits)
                                for run in sorted(objects)})
    timed = frame[frame["total"] > 0]
    assert (timed.groupby("run")["offset"].min() == 0).all()
    assert (frame["offset"] >= 0).all()
    fig = charts.times_timeline(frame)
    assert fig.layout.xaxis.title.text == "h since the run started"
