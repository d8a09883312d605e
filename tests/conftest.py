"""Shared fixtures.

``openstack`` (session scope): a real Keystone + Swift started once per test session by the project's own ``stack``
package on free loopback ports (Keystone tokens live ``TOKEN_TTL`` seconds, so expiry can be tested for real). It
offers ``auth_url``, ``proxy_url``, ``users`` (alice in demo-a, bob in demo-b), ``credentials(user)``,
``settings_for(user)``, ``store_for(user)`` and ``directory``. Services start only when a test asks for the fixture,
and a failure to start them fails those tests: nothing is skipped.

``slurm_cluster`` (session scope): a real single-node Slurm with accounting (``stack.slurm``) on loopback, and
``slurm_jobs`` (session scope): the ground-truth jobs of ``tests/slurm_fixture.py`` run on it once, their truth and
``sacct`` on them (see that module). A test that uses ``openstack`` or ``slurm_cluster``, directly or through
another fixture, is marked ``swift`` or ``slurm`` at collection (:func:`pytest_collection_modifyitems`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest
from hypothesis import settings as hypothesis_settings

if TYPE_CHECKING:  # imported where used: pytest's main process (and `--collect-only`) starts without them
    from core.auth import Credentials
    from core.settings import Settings
    from core.store.swift import SwiftStore
    from stack import StackInfo, User
    from stack.slurm import SlurmInfo
    from tests.slurm_fixture import GroundTruth

# Property tests: "fast" (the default, and `make test-fast`) runs Hypothesis' default 100 examples per property that
# sets no count of its own; "ci" (`make test`) runs 500; HYPOTHESIS_PROFILE=local runs 10,000.
hypothesis_settings.register_profile("fast", deadline=None)
hypothesis_settings.register_profile("ci", max_examples=500, deadline=None)
hypothesis_settings.register_profile("local", max_examples=10_000, deadline=None)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "fast")
T = TypeVar("T")
hypothesis_settings.load_profile(PROFILE)


def by_profile(*, fast: T, full: T) -> T:
    """What a test repeats by design (examples of a property that opens every page, points at which a process is
    killed): ``full`` under `make test` (profiles "ci" and "local"), ``fast`` under the fast profile, which still
    reaches every page and every kind of fault once."""
    return fast if PROFILE == "fast" else full


#: A test that uses one of these fixtures (itself or through another fixture) gets the marker: the fast path
#: (`make test-fast`) leaves out every test that starts a real service, however it reaches it.
FIXTURE_MARKERS = {"openstack": "swift", "slurm_cluster": "slurm"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the real services its fixtures start (see :data:`FIXTURE_MARKERS`)."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in names and item.get_closest_marker(marker) is None:
                item.add_marker(marker)

#: Keystone token lifetime for the test stack: keystoneauth renews tokens with under 120 s left, so a lifetime a
#: little above that makes real expiry testable in a few minutes.
TOKEN_TTL = 140


@dataclass(frozen=True)
class OpenStack:
    """The running test stack and ways to reach it as each user."""

    info: StackInfo

    @property
    def auth_url(self) -> str:
        return self.info.auth_url

    @property
    def proxy_url(self) -> str:
        return self.info.proxy_url

    @property
    def users(self) -> tuple[User, ...]:
        return self.info.users

    @property
    def directory(self) -> Path:
        return self.info.directory

    def credentials(self, user: User) -> Credentials:
        from pydantic import SecretStr

        from core.auth import Credentials

        return Credentials(auth_url=self.auth_url, username=user.username, password=SecretStr(user.password),
                           project_name=user.project)

    def settings_for(self, user: User) -> Settings:
        from core.settings import load_settings

        return load_settings(None, self.info.env_for(user))

    def store_for(self, user: User) -> SwiftStore:
        from core.store.swift import SwiftStore

        return SwiftStore.from_credentials(self.credentials(user))

    @property
    def swift_port(self) -> int:
        """The port Swift's proxy listens on (where a fault proxy in front of it forwards to)."""
        return int(self.proxy_url.rsplit(":", 1)[1])

    def storage_via(self, store: SwiftStore, port: int) -> tuple[str, str]:
        """``store``'s storage URL, rewritten to go through ``port`` (a fault proxy in front of Swift), and token."""
        url, token = store.current_token()
        return url.replace(f":{self.swift_port}/", f":{port}/"), token


@pytest.fixture(scope="session")
def openstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenStack]:
    from stack import start, stop

    directory = tmp_path_factory.mktemp("openstack")
    try:
        info = start(directory, token_expiration=TOKEN_TTL)
        yield OpenStack(info)
    finally:
        stop(directory)


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmInfo]:
    from tests.slurm_fixture import cluster_session

    yield from cluster_session(tmp_path_factory.mktemp("slurm"))


@pytest.fixture(scope="session")
def slurm_jobs(slurm_cluster: SlurmInfo, tmp_path_factory: pytest.TempPathFactory) -> GroundTruth:
    from tests.slurm_fixture import run_jobs

    return run_jobs(slurm_cluster, tmp_path_factory.mktemp("slurm-jobs"))
