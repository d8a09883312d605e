"""Fixtures for the services tests: settings and an empty LocalStore in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings, load_settings
from core.store.local import LocalStore


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(tmp_path / "store")})


@pytest.fixture()
def store(settings: Settings) -> LocalStore:
    return LocalStore(settings.local_store_path)
