"""Missing values as a Slurm user reads them: an empty cell (or what Slurm means), never the words None, nan or <NA>.

Streamlit's grid draws a missing value as its ``placeholder`` (the word "None" unless the table sets one) and any
other cell as the text its Styler gives, else the value itself: :func:`seen` reads a table the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Dataframe

from tests.dashboard.conftest import seed_public_runs

OpenPage = Callable[..., AppTest]
#: What a table shows for a missing value when it says nothing else, and what str() makes of one.
NO_VALUE_WORDS = {"None", "nan", "NaN", "<NA>", "NaT"}


def seen(table: Dataframe) -> pd.DataFrame:
    """Every cell of ``table`` as the grid draws it."""
    data = table.value
    placeholder = table.proto.placeholder if table.proto.HasField("placeholder") else "None"
    styler = table.proto.arrow_data.styler
    shown = pa.ipc.open_stream(styler.display_values).read_pandas() if styler.display_values else data
    out = shown.astype(str).reset_index(drop=True)
    missing = data.isna().reset_index(drop=True)
    return out.mask(missing.to_numpy(), placeholder)


def _page(open_page: OpenPage, page: str, **params: str) -> AppTest:
    at = open_page(page, params=params)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _no_value_words(at: AppTest) -> dict[str, int]:
    """Per table (its first columns), how many cells read as a word for "no value"."""
    found = {}
    for table in at.dataframe:
        cells = seen(table)
        count = int(cells.isin(NO_VALUE_WORDS).to_numpy().sum())
        if count:
            found[", ".join(map(str, cells.columns[:4]))] = count
    return found


def test_no_table_of_any_page_shows_a_missing_value_as_a_word(open_page: OpenPage, store_dir: Path) -> None:
    seed_public_runs(store_dir, ["hyak-default", "torchx-hetjob"])  # the newest run has no Cluster field
    pages = [
        ("views/overview.py", {}),
        ("views/job.py", {"job": "3459879", "platform": "mahti", "object": "MANAGEMENT/1.json"}),
        ("views/management.py", {"object": "MANAGEMENT/3.json", "platform": "lumi"}),
        ("views/management.py", {"object": "MANAGEMENT/1.json"}),
        ("views/sacct.py", {"view": "Table"}),
        ("views/sacct.py", {"view": "Table", "rows": "All sacct rows"}),
        ("views/sacct.py", {"view": "Platforms"}),
        ("views/pipeline.py", {"object": "MANAGEMENT/3.json"}),
        ("views/logs.py", {}),
        ("views/history.py", {}),
    ]
    tables = 0
    for page, params in pages:
        at = _page(open_page, page, **params)
        tables += len(at.dataframe)
        assert _no_value_words(at) == {}, (page, params)
    assert tables >= 20  # the pages did show their tables


def test_overview_newest_runs_leave_an_unprinted_cluster_empty(open_page: OpenPage, store_dir: Path) -> None:
    seed_public_runs(store_dir, ["torchx-hetjob"])  # sacct printed no Cluster
    at = _page(open_page, "views/overview.py")
    runs = next(t for t in at.dataframe if "cluster" in t.value.columns)
    row = runs.value.index[runs.value["run"].str.endswith("torchx-hetjob")][0]
    assert pd.isna(runs.value.at[row, "cluster"])  # still missing, not a text
    assert seen(runs).at[int(row), "cluster"] == ""


def test_step_rows_leave_the_jobs_fields_empty_and_say_whose_they_are(open_page: OpenPage) -> None:
    at = _page(open_page, "views/job.py", job="3459879", platform="mahti", object="MANAGEMENT/1.json")
    rows = next(t for t in at.dataframe if "JobID" in t.value.columns and "Partition" in t.value.columns)
    cells = seen(rows)
    steps = cells["JobID"].str.contains(".", regex=False)
    assert steps.sum() == 3 and (~steps).sum() == 1
    for field in ("Partition", "User"):
        assert cells.loc[~steps, field].ne("").all()  # the job's own row prints them
        assert cells.loc[steps, field].eq("").all(), cells[["JobID", field]]
        helps = json.loads(rows.proto.columns)
        assert "job's" in helps[field]["help"], helps.get(field)
