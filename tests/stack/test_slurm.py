"""The real Slurm the suite starts: loopback only, memory enforced, fake GPUs offered."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from stack.slurm import SlurmInfo
from tests.slurm_fixture import GroundTruth

pytestmark = pytest.mark.slurm


def _listening(pids: set[int]) -> list[str]:
    """Local addresses of the TCP sockets these processes listen on (``ss -ltnp``)."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        owners = {int(pid) for pid in re.findall(r"pid=(\d+)", line)}
        if owners & pids:
            found.append(line.split()[3])
    return found


def test_every_daemon_listens_on_loopback_only(slurm_cluster: SlurmInfo) -> None:
    pids = set(json.loads((slurm_cluster.directory / "pids.json").read_text()).values())
    addresses = _listening(pids)
    # slurmctld, slurmd, slurmdbd and MariaDB each listen (munge only on its socket file).
    ports = {int(a.rsplit(":", 1)[1]) for a in addresses}
    assert {slurm_cluster.ports[name] for name in ("slurmctld", "slurmd", "slurmdbd", "mariadb")} <= ports
    assert addresses and all(a.startswith("127.0.0.1:") for a in addresses), addresses


def test_node_offers_two_gpus_and_memory_is_enforced(slurm_cluster: SlurmInfo) -> None:
    node = slurm_cluster.run(["scontrol", "show", "node", "localhost"]).stdout
    assert "Gres=gpu:fake:2" in node
    assert re.search(r"State=(IDLE|MIXED|ALLOCATED)\b", node), node
    assert slurm_cluster.memory_enforced == os.access("/sys/fs/cgroup/memory", os.W_OK)


def test_jobs_end_as_they_should(slurm_jobs: GroundTruth) -> None:
    """Slurm itself reports what each job did (states and exit codes of the text output)."""
    out = slurm_jobs.sacct("-X", "-n", "-P", "-o", "JobID,State,ExitCode,AllocTRES")
    printed = {line.split("|")[0]: line.split("|")[1:] for line in out.splitlines()}
    for job in slurm_jobs.jobs.values():
        state, exit_code, tres = printed[job.job_id]
        assert (state.split()[0], exit_code) == (job.state, job.exit_code), job.name
        assert ("gres/gpu=1" in tres) == (job.gpus == 1), job.name
