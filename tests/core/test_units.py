import math

import pytest

from core.units import iec_size, parse_size


@pytest.mark.parametrize(("text", "binary", "expected"), [
    ("2.2M", True, round(2.2 * 1024**2)), ("10G", True, 10 * 1024**3), ("1.0T", True, 1024**4),
    ("4k", True, 4096), ("37", True, 37), ("100K", False, 100_000), (".97k", False, 970), ("2.42k", False, 2420),
    ("1.0M", False, 1_000_000), ("abc", True, None), ("", True, None), (None, True, None),
])
def test_parse_size(text: str | None, binary: bool, expected: int | None) -> None:
    assert parse_size(text, binary=binary) == expected


def test_sizes_read_as_sacct_and_seff_print_them() -> None:
    assert iec_size(1536) == "1.50 KiB"
    assert iec_size(10 * 1024**3) == "10.00 GiB"
    assert iec_size(1294440 * 1024) == "1.23 GiB"  # MaxRSS 1294440K, as sacct --units=G prints 1.23G
    assert iec_size(374.88 * 1024**2) == "374.88 MiB"  # seff's "Memory Utilized: 374.88 MB"
    assert iec_size(1023) == "1023 B" and iec_size(1024) == "1.00 KiB" and iec_size(12) == "12 B"
    assert iec_size(None) == "" and iec_size(math.nan) == ""
    assert iec_size(None, unknown="—") == "—"
