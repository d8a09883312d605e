"""``store``: each ObjectStore backend in turn (LocalStore in a temporary folder, then the real Swift as alice);
``bucket``: a fresh bucket name per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.store.base import ObjectStore
from core.store.local import LocalStore


@pytest.fixture(params=["local", pytest.param("swift", marks=pytest.mark.swift)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalStore(tmp_path / "store")
    else:
        openstack = request.getfixturevalue("openstack")
        yield openstack.store_for(openstack.users[0])


@pytest.fixture()
def bucket() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
