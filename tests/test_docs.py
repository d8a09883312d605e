"""docs/ARCHITECTURE.md stays the map of the code: every page and every service is placed in it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")


def test_every_page_is_in_the_table_with_its_service() -> None:
    rows = [line for line in ARCHITECTURE.splitlines() if line.startswith("| `")]
    for page in sorted((ROOT / "dashboard" / "views").glob("*.py")):
        if page.name == "__init__.py":
            continue
        row = next((r for r in rows if r.startswith(f"| `{page.name}`")), None)
        assert row is not None, f"docs/ARCHITECTURE.md has no row for dashboard/views/{page.name}"


def test_every_service_is_named() -> None:
    services = sorted(p.name for p in (ROOT / "core" / "services").glob("*.py") if p.name != "__init__.py")
    missing = [name for name in services if f"`{name}`" not in ARCHITECTURE]
    assert missing == [], f"docs/ARCHITECTURE.md does not say which page uses {missing}"

