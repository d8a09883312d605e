import math

import pytest

from core.units import human_bytes, parse_size


@pytest.mark.parametrize(("text", "binary", "expected"), [
    ("2.2M", True, round(2.2 * 1024**2)), ("10G", True, 10 * 1024**3), ("1.0T", True, 1024**4),
    ("4k", True, 4096), ("37", True, 37), ("100K", False, 100_000), (".97k", False, 970), ("2.42k", False, 2420),
    ("1.0M", False, 1_000_000), ("abc", True, None), ("", True, None), (None, True, None),
])
def test_parse_size(text: str | None, binary: bool, expected: int | None) -> None:
    assert parse_size(text, binary=binary) == expected


def test_human_forms() -> None:
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(10 * 1024**3) == "10.0 GiB"
    assert human_bytes(12) == "12 B"
    assert human_bytes(None) == "—" and human_bytes(math.nan) == "—"
