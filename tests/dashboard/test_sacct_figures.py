"""SACCT and Upload figures users can trust: job identity, filters, finished-only efficiency, units, colours."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.sacct import parse_sacct
from core.serialize import frame_to_parquet, parquet_to_frame
from core.services.palette import PHASE_COLOURS, STATE_COLOURS
from core.store.local import LocalStore
from tests import samples
from tests.dashboard.conftest import seed_public_runs, shown_table, texts

OpenPage = Callable[..., AppTest]
BUCKET = "mlch-for-air"


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _figure(at: AppTest, index: int = 0) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(at.get("plotly_chart")[index].proto.spec)
    return spec


def _values(array: Any) -> list[Any]:
    """A Plotly array as a list (Plotly sends numeric arrays as base64 ``bdata``)."""
    if isinstance(array, dict) and "bdata" in array:
        return list(np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).tolist())
    return list(array)


def _store_run(store_dir: Path, run: str, text: str, platform: str = "other") -> None:
    frame = parse_sacct(text).frame
    LocalStore(store_dir).put_object(BUCKET, f"ARTIFACTS/SACCT/user-example-com-{run}.parquet",
                                     frame_to_parquet(frame), metadata={"version": 1, "platform": platform})


def test_the_same_job_id_in_two_runs_is_two_jobs(open_page: OpenPage, store_dir: Path) -> None:
    text = "JobID|JobName|State|Elapsed|AllocCPUS|TotalCPU\n6000200|train|COMPLETED|1-02:00:00|1|1-00:00:00\n"
    _store_run(store_dir, "week-1", text)
    _store_run(store_dir, "week-2", text)
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["user-example-com-week-1", "user-example-com-week-2"]).run()
    assert _metrics(at)["Jobs"] == "2"
    at.segmented_control(key="sacct-view").set_value("Elapsed").run()
    assert not at.exception
    bars = [bar for trace in _figure(at)["data"] for bar in zip(_values(trace["x"]), _values(trace["y"]), strict=True)]
    # One 26 h bar per run, never one 52 h bar.
    assert sorted(y for _, y in bars) == [26.0, 26.0]
    assert len({x for x, _ in bars}) == 2 and all("6000200" in x for x, _ in bars)


def _select(at: AppTest, label: str, values: list[str]) -> None:
    next(m for m in at.multiselect if m.label == label).set_value(values).run()


def _state_bars(at: AppTest) -> dict[str, int]:
    return {_values(trace["x"])[0]: int(_values(trace["y"])[0]) for trace in _figure(at)["data"]}


def _rows_of(at: AppTest, store_dir: Path) -> pd.DataFrame:
    """The stored sacct rows of the runs the page shows, read straight from the store."""
    store = LocalStore(store_dir)
    return pd.concat([parquet_to_frame(store.get_object(BUCKET, f"ARTIFACTS/SACCT/{run}.parquet")[1])
                      for run in at.multiselect[0].value], ignore_index=True)


def test_every_figure_counts_the_same_filtered_jobs(open_page: OpenPage, store_dir: Path) -> None:
    at = open_page("views/sacct.py")
    stored = _rows_of(at, store_dir)
    job_rows = stored[stored["step"].fillna("") == ""]
    completed = int((job_rows["state"] == "COMPLETED").sum())
    assert 0 < completed < len(job_rows)
    _select(at, "State", ["COMPLETED"])
    assert not at.exception
    bars = _state_bars(at)
    # The headline and the chart count the same jobs: all COMPLETED (before: "Jobs 728" beside failed bars).
    assert set(bars) == {"COMPLETED"}
    assert _metrics(at)["Jobs"] == f"{bars['COMPLETED']:,}" == f"{completed:,}"
    assert "State, Partition, Job name and the days select jobs" in texts(at)
    _select(at, "State", [])
    _select(at, "Row kind", ["batch"])
    # Row kind picks rows, not jobs: the jobs stay (before: "Jobs 0" beside a chart of 854 jobs).
    batch = int((stored["step"] == "batch").sum())
    assert _metrics(at)["Jobs"] == f"{sum(_state_bars(at).values()):,}" == f"{len(job_rows):,}"
    assert _metrics(at)["Steps"] == f"{batch:,}"
    at.segmented_control(key="sacct-view").set_value("Table").run()
    at.radio[0].set_value("All sacct rows").run()
    rows = at.dataframe[-1].value
    assert len(rows) == batch and rows["JobID"].str.endswith(".batch").all()


def test_headline_says_what_it_counts_and_skips_unfinished_jobs(open_page: OpenPage, store_dir: Path) -> None:
    seed_public_runs(store_dir, ["cedar-queue", "alpine-4-months"])
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["user-example-com-cedar-queue"]).run()  # 386 PENDING, 186 RUNNING rows
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["Jobs"] == "448"
    assert metrics["Median CPU eff."] == "—"
    assert "448 jobs, 0 of them finished" in texts(at)
    at.multiselect[0].set_value(["user-example-com-alpine-4-months"]).run()
    shown = texts(at)
    # 36 jobs, one RUNNING: 35 finished; TotalCPU, Elapsed and AllocCPUS are printed for every job row.
    assert "36 jobs, 35 of them finished" in shown
    # Three of the 35 were cancelled before they started (Elapsed 0): nothing to measure; one more ran 45 s, too
    # short to judge (ADVICE_MIN_MINUTES, as the findings).
    assert "median CPU eff. of 31 finished jobs that ran at least 5 min (1 shorter left out, as the findings do)" \
        in shown
    at.segmented_control(key="sacct-view").set_value("Efficiency").run()
    assert "can pass 100 %" in texts(at)


def test_job_table_reads_like_sacct_and_sorts_as_numbers(open_page: OpenPage, store_dir: Path) -> None:
    seed_public_runs(store_dir, ["habrok-gpu"])
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["user-example-com-habrok-gpu"]).run()
    at.segmented_control(key="sacct-view").set_value("Table").run()
    assert not at.exception
    data = at.dataframe[-1].value
    shown = shown_table(at, -1)
    assert {"JobID", "State", "Elapsed", "TotalCPU", "CPU eff.", "MaxRSS × NTasks", "Submit"} <= set(data.columns)
    assert not any("-" in c and c.islower() for c in data.columns)  # no kebab-case headers
    assert pd.api.types.is_float_dtype(data["Elapsed"]) and pd.api.types.is_float_dtype(data["MaxRSS × NTasks"])
    where = data.index[data["JobID"] == "4034541"][0]
    # SOURCES-sacct.md fact 1: Elapsed 03:34:13, CPUTime 1-04:33:44 (8 CPUs × 12853 s); a job without MaxRSS is empty.
    assert data.loc[where, "Elapsed"] == 12853
    assert shown.loc[where, "Elapsed"] == "03:34:13"
    assert shown.loc[where, "CPUTime"] == "1-04:33:44"
    assert shown.loc[where, "MaxRSS × NTasks"] == ""
    batch = data.index[data["JobID"] == "7965768"][0]
    assert shown.loc[batch, "MaxRSS × NTasks"] == "1.23 GiB"  # 1294440K (fact 3)
    assert shown.loc[batch, "Memory allocated"] == "10.00 GiB"  # AllocTRES mem=10G


def test_elapsed_chart_shows_the_longest_finished_jobs_longest_first(open_page: OpenPage, store_dir: Path) -> None:
    # 400 jobs of 1..400 minutes; the 40 longest are still RUNNING.
    lines = [f"{7000000 + i}|{'RUNNING' if i > 360 else 'COMPLETED'}|{i // 60:02d}:{i % 60:02d}:00"
             for i in range(1, 401)]
    _store_run(store_dir, "many", "JobID|State|Elapsed\n" + "\n".join(lines) + "\n")
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["user-example-com-many"]).run()
    at.segmented_control(key="sacct-view").set_value("Elapsed").run()
    figure = _figure(at)
    assert {trace["name"] for trace in figure["data"]} == {"COMPLETED"}
    order = figure["layout"]["xaxis"]["categoryarray"]
    hours = {x: y for trace in figure["data"] for x, y in zip(_values(trace["x"]), _values(trace["y"]), strict=True)}
    assert len(order) == 300 and order[0] == "7000360" and order[-1] == "7000061"
    assert [hours[x] for x in order] == sorted(hours.values(), reverse=True)
    assert "the longest 300 of 360" in figure["layout"]["title"]["text"]
    at.segmented_control(key="sacct-view").set_value("States").run()
    assert _figure(at)["layout"]["yaxis"]["tickformat"] == ",d"


def test_a_state_keeps_its_colour_on_the_management_page(open_page: OpenPage) -> None:
    at = open_page("views/management.py")  # the newest object: run 3, under way
    assert not at.exception
    colours = {trace["name"]: trace["marker"]["color"] for trace in _figure(at)["data"]}
    assert colours["running"] == STATE_COLOURS["RUNNING"]
    assert colours["pending"] == STATE_COLOURS["PENDING"] and colours["complete"] == STATE_COLOURS["COMPLETED"]
    at.selectbox(key="management-object").set_value("MANAGEMENT/1.json").run()  # run 1, with its failures
    colours = {trace["name"]: trace["marker"]["color"] for trace in _figure(at)["data"]}
    assert colours["failed"] == STATE_COLOURS["FAILED"]
    assert len(set(PHASE_COLOURS.values())) == len(PHASE_COLOURS)


def test_upload_counts_warnings_and_lines_apart(open_page: OpenPage) -> None:
    text = "JobID|State|State|Elapsed|Elapsed\n1|COMPLETED|COMPLETED|00:01:00|00:01:00\n2|FAILED\n"
    at = open_page("views/upload.py")
    at.text_area(key="upload_text").input(text)
    at.button(key="parse").click().run()
    assert not at.exception
    assert [e.label for e in at.expander if "warning" in e.label] == ["3 warnings on 2 lines"]


def test_findings_view_lists_notes_worst_first_with_a_csv(open_page: OpenPage, store_dir: Path) -> None:
    seed_public_runs(store_dir, ["alpine-4-months"])
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["user-example-com-alpine-4-months"]).run()
    at.segmented_control(key="sacct-view").set_value("Findings").run()
    assert not at.exception and not at.error
    notes = at.dataframe[1].value  # after the runs table
    shown = shown_table(at, 1)
    # Fact 3: 12051616's batch step ran out of memory at 2565880K of its 3840M: the worst finding.
    assert notes.loc[0, "JobID"] == "12051616" and notes.loc[0, "Finding"] == "out of memory"
    assert shown.loc[0, "Ask next time"].startswith("--mem=6G")
    assert "ran at least 5 min" in texts(at)
    assert any(b.label == "Findings as CSV" for b in at.get("download_button"))
    per_run = at.dataframe[2].value
    assert per_run.loc[0, "Run"] == "user-example-com-alpine-4-months" and per_run.loc[0, "Failed"] == 17
    failed = at.dataframe[3].value
    assert failed[["State", "ExitCode", "Jobs"]].values.tolist()[0] == ["TIMEOUT", "0:0", 12]


def test_thresholds_come_from_the_settings(open_page: OpenPage, monkeypatch: object, store_dir: Path) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("ADVICE_MIN_MINUTES", "100000")
    seed_public_runs(store_dir, ["alpine-4-months"])
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["user-example-com-alpine-4-months"]).run()
    at.segmented_control(key="sacct-view").set_value("Findings").run()
    notes = at.dataframe[1].value
    # Only the out-of-memory note is left: no job ran 100000 minutes.
    assert notes["Finding"].tolist() == ["out of memory"]


def test_upload_preview_shows_findings(open_page: OpenPage) -> None:
    from tests.samples import FIELDS_07

    at = open_page("views/upload.py")
    at.text_area(key="upload_text").input(samples.sacct("07_slurmdog_parsable2_noheader_alpine.txt").read_text())
    at.text_input(key="upload_fields").input(",".join(FIELDS_07))
    at.button(key="parse").click().run()
    assert not at.exception and not at.error
    rows, shown = at.dataframe[0].value, shown_table(at, 0)
    # Fact 1: 11965642 TIMEOUT, Elapsed 12:00:26 (43226 s), ReqMem 3840M; headers in Slurm's words.
    assert rows.loc[0, "JobID"] == "11965642" and rows.loc[0, "Elapsed"] == 43226
    assert (shown.loc[0, "Elapsed"], shown.loc[0, "ReqMem"], shown.loc[0, "MaxRSS"]) == ("12:00:26", "3.75 GiB", "")
    label = next(e.label for e in at.expander if "findings" in e.label)
    notes = at.dataframe[-1].value  # the findings table closes the preview
    assert label == f"{len(notes):,} findings" and len(notes) > 1
    assert notes.loc[0, "JobID"] == "12051616" and notes.loc[0, "Finding"] == "out of memory"
    # The run as a whole: failures by state and exit code (SOURCES-sacct.md fact 5), idle core-hours, unused memory.
    summary = next(t.value for t in at.text if t.value.startswith("Idle core-hours"))
    # 35 finished jobs, of which 3 were cancelled before they started (Elapsed 0): no CPU time is theirs to idle.
    assert "over 32 finished jobs with TotalCPU" in summary
    assert "17 failed: TIMEOUT (exit 0:0) ×12, FAILED (exit 9:0) ×4, FAILED (exit 1:0) ×1" in summary
    assert summary.endswith("1 ran out of memory.")


def test_used_cpu_hours_allocated_core_hours_and_billing_units(open_page: OpenPage, store_dir: Path) -> None:
    text = ("JobID|Partition|State|Elapsed|AllocCPUS|NNodes|ReqMem|TotalCPU\n"
            "1|small|COMPLETED|02:00:00|4|1|8G|04:00:00\n"
            "2|gpu|COMPLETED|01:00:00|10|1|64G|01:00:00\n")
    _store_run(store_dir, "puhti-week", text, platform="puhti")
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["user-example-com-puhti-week"]).run()
    assert not at.exception
    metrics = _metrics(at)
    # Used: 4 h + 1 h of TotalCPU; allocated: 2 h × 4 + 1 h × 10 core-hours (the seed showed only the first).
    assert metrics["CPU-hours used"] == "5.0" and metrics["Core-hours allocated"] == "18.0"
    # Puhti small: (4 cores × 1 BU + 8 GiB × 0.1 BU) × 2 h = 9.6 CPU BU; the GPU job printed no AllocTRES, so its GPU
    # count is unknown and it is not billed (said, not guessed).
    assert metrics["CSC CPU BU"] == "9.6" and "CSC GPU BU" not in metrics
    assert "CSC CPU BU: 9.6 over 1 job; 1 job not billed" in texts(at)


def test_a_table_too_big_to_style_still_reads_days_and_sorts_as_numbers(open_page: OpenPage, store_dir: Path) -> None:
    elapsed = ["09:00:00", "10:00:00", "23:59:59", "1-00:00:00", "10-00:00:00", "2-03:04:05", "00:00:07"]
    seconds = [32400, 36000, 86399, 86400, 864000, 183845, 7]
    jobs = 16_000
    lines = ["JobID|JobName|Partition|State|ExitCode|AllocCPUS|NNodes|NTasks|Elapsed|Timelimit|TotalCPU|ReqMem|"
             "MaxRSS|Submit|Start|End"]
    lines += [f"{7000000 + i}|job{i}|small|COMPLETED|0:0|1|1|1|{elapsed[i % 7]}|10-00:00:00|00:00:01|1G|100M|"
              "2024-05-01T10:00:00|2024-05-01T10:00:00|2024-05-01T11:00:00" for i in range(jobs)]
    _store_run(store_dir, "big", "\n".join(lines) + "\n")
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["user-example-com-big"]).run()
    at.segmented_control(key="sacct-view").set_value("Table").run()
    assert not at.exception and not at.error
    table = at.dataframe[-1]
    data = table.value
    assert len(data) == jobs and data.size > pd.options.styler.render.max_elements  # no Styler: Streamlit formats
    assert not table.proto.arrow_data.styler.display_values
    config = json.loads(table.proto.columns)
    assert config["Elapsed"]["type_config"]["type"] == "text" and config["Elapsed"]["alignment"] == "right"
    # Read as sacct prints them, days and all (before: a clock running past 24 h, "240:00:00").
    assert [data["Elapsed"][i].strip() for i in range(7)] == elapsed
    assert data["Timelimit"][0] == "10-00:00:00"
    # A header click sorts the texts: that order is the order of the seconds.
    order = sorted(range(7), key=lambda i: data["Elapsed"][i])
    assert order == sorted(range(7), key=lambda i: seconds[i]) == [6, 0, 1, 2, 3, 5, 4]
    assert data["Elapsed"].map(len).nunique() == 1
    # Sizes stay numbers, in the binary unit iec_size gives the column's largest value (MaxRSS 100M: MiB, as the
    # styled table prints "100.00 MiB"), and memory in GiB in its own column.
    assert pd.api.types.is_float_dtype(data["MaxRSS × NTasks"])
    assert config["MaxRSS × NTasks"]["type_config"]["format"] == "%.2f MiB"
    assert data["MaxRSS × NTasks"][0] == 100.0
    assert config["Memory allocated"]["type_config"]["format"] == "%.2f GiB"


def test_roihu_runs_are_billed_at_roihus_rates(open_page: OpenPage, store_dir: Path) -> None:
    text = ("JobID|Partition|State|Elapsed|AllocCPUS|NNodes|ReqMem|TotalCPU\n"
            "1|small|COMPLETED|02:00:00|4|1|16G|04:00:00\n"
            "2|medium|COMPLETED|01:00:00|768|2|0|01:00:00\n")
    _store_run(store_dir, "roihu-week", text, platform="roihu")
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["user-example-com-roihu-week"]).run()
    assert not at.exception
    # docs.csc.fi's example: max(0.75 × 4 cores, 0.375 × 16 GiB) × 2 h = 12 BU; medium: 2 nodes × 288 × 1 h = 576.
    assert _metrics(at)["CSC CPU BU"] == "588.0"
    assert "CSC CPU BU: 588.0 over 2 jobs." in texts(at)


def test_gpu_jobs_are_billed_per_pool_with_gpu_columns_and_the_idle_gpu_first(open_page: OpenPage,
                                                                              store_dir: Path) -> None:
    text = ("JobID|JobName|Partition|State|Elapsed|AllocCPUS|NNodes|ReqMem|TotalCPU|AllocTRES|TRESUsageInAve\n"
            "1|cpu|small|COMPLETED|02:00:00|4|1|8G|04:00:00|cpu=4,mem=8G,node=1|\n"
            "2|idle|gpu|COMPLETED|02:00:00|10|1|64G|10:00:00|cpu=10,gres/gpu:v100=1,gres/gpu=1,mem=64G,node=1|\n"
            "2.batch|batch||COMPLETED|02:00:00|10|1||10:00:00||gres/gpuutil=0,gres/gpumem=0\n"
            "3|busy|gpu|COMPLETED|01:00:00|10|1|64G|10:00:00|cpu=10,gres/gpu:v100=2,gres/gpu=2,mem=64G,node=1|\n"
            "3.batch|batch||COMPLETED|01:00:00|10|1||10:00:00||gres/gpuutil=180\n")  # 2 V100s at 90 % each
    _store_run(store_dir, "puhti-gpu", text, platform="puhti")
    at = open_page("views/sacct.py")
    at.multiselect[0].set_value(["user-example-com-puhti-gpu"]).run()
    assert not at.exception
    metrics = _metrics(at)
    # CPU: (4 + 0.8) × 2 = 9.6 CPU BU. GPU: (60 + 10 + 6.4) × 2 = 152.8 and (120 + 10 + 6.4) × 1 = 136.4 GPU BU.
    assert metrics["CSC CPU BU"] == "9.6" and metrics["CSC GPU BU"] == "289.2"
    at.segmented_control(key="sacct-view").set_value("Findings").run()
    first = next(d.value for d in at.dataframe if "Finding" in d.value.columns).iloc[0]
    assert (first["JobID"], first["Finding"]) == ("2", "idle GPUs")
    assert first["Billed at stake"] == pytest.approx(152.8) and first["Billing unit"] == "CSC GPU BU"
    at.segmented_control(key="sacct-view").set_value("Table").run()
    table = at.dataframe[-1].value.set_index("JobID")
    assert table.loc["2", "GPUs"] == 1 and table.loc["1", "GPUs"] == 0 and table.loc["3", "GPU-hours"] == 2.0
    assert table.loc["2", "GPU use"] == 0.0 and table.loc["3", "GPU use"] == pytest.approx(0.9)
    assert pd.isna(table.loc["1", "GPU use"])  # not recorded, not 0 %
    assert table.loc["3", "Billed"] == pytest.approx(136.4) and table.loc["3", "Billing unit"] == "CSC GPU BU"
    assert pd.api.types.is_numeric_dtype(table["Billed"]) and pd.api.types.is_numeric_dtype(table["GPU-hours"])
