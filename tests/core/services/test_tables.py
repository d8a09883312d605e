"""Tables as Slurm users read them: one formatting path, for styled and for big tables."""

from __future__ import annotations

import pandas as pd

from core.services import tables
from core.units import iec_size


def test_aligned_durations_read_as_slurm_and_sort_as_numbers() -> None:
    seconds = pd.Series([36000, 32400, None, 86400, 86399, 864000, 7.6])
    text = tables.aligned_durations(seconds)
    assert text.tolist() == ["   10:00:00", "   09:00:00", "", " 1-00:00:00", "   23:59:59", "10-00:00:00",
                             "   00:00:08"]
    known = seconds.notna()
    assert text[known].sort_values().index.tolist() == seconds[known].sort_values().index.tolist()
    assert tables.aligned_durations(pd.Series([None, None], dtype="float64")).tolist() == ["", ""]


def test_a_big_tables_sizes_are_in_the_unit_iec_size_gives_its_largest_value() -> None:
    sizes = pd.Series([512.0, 3 * 1024**2, None, 1.5 * 1024**3])
    grid = tables.grid_column("size", sizes, "UTC")
    assert grid.number_format == "%.2f GiB" == f"%.2f {iec_size(sizes.max()).split()[1]}"
    assert grid.values.tolist()[3] == 1.5 and pd.isna(grid.values[2])
    assert grid.values.sort_values().index.tolist() == sizes.sort_values().index.tolist()  # sorts as the bytes
    assert tables.grid_column("size", pd.Series([12.0, 100.0]), "UTC").number_format == "%.0f B"
    assert tables.grid_column("size", pd.Series([None], dtype="float64"), "UTC").number_format == "%.0f B"


def test_a_big_tables_cells_read_as_a_styled_tables_do() -> None:
    moments = tables.grid_column("time", pd.Series([1716556020.0]), "Europe/Helsinki").values
    assert moments[0].strftime("%Y-%m-%dT%H:%M:%S") == tables.cell_text("time", 1716556020.0, "Europe/Helsinki")
    durations = tables.grid_column("duration", pd.Series([90061.0, 5.0]), "UTC")
    assert durations.right and [v.strip() for v in durations.values] == [
        tables.cell_text("duration", v, "UTC") for v in (90061.0, 5.0)]
    assert tables.grid_column("percent", pd.Series([0.5]), "UTC").number_format == "percent"
    assert tables.grid_column("text", pd.Series(["x"]), "UTC").number_format is None
