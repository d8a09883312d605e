"""``hpc-monitor collect`` run as cron runs it: a process, a sacct on PATH, settings from the environment; killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from core.services import collect, history
from core.settings import Settings, load_settings
from core.store.base import ObjectStore
from core.store.local import LocalStore
from tests.conftest import OpenStack, by_profile
from tests.core.services.test_collect import at, three_months
from tests.core.test_cli import hpc_monitor, one_error_line
from tests.fake_slurm import FakeSlurm

SPAN = ["--cluster", "testcluster", "--since", "2026-01-20", "--until", "2026-03-06"]


@pytest.fixture()
def slurm(tmp_path: Path) -> FakeSlurm:
    fake = FakeSlurm(tmp_path / "slurm")
    three_months(fake)
    return fake


def env_of(slurm: FakeSlurm, store: Path, **more: str) -> dict[str, str]:
    return {"STORE": "local", "LOCAL_STORE_PATH": str(store), "SACCT_TIMEZONE": "UTC",
            "PATH": slurm.path(os.environ["PATH"]), **more}


def settings_of(store: Path) -> Settings:
    return load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(store)})


def contents(store: ObjectStore, settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every stored sacct row and job, in one order, to compare two histories."""
    months = history.list_months(store, settings)
    rows = pd.concat([history.read_month_rows(store, settings, m.cluster, m.month) for m in months],
                     ignore_index=True)
    jobs = history.history_jobs(store, settings, months)
    rows = rows.drop(columns=[history.COLLECTED_AT]).sort_values(["job-id", "step"]).reset_index(drop=True)
    return rows, jobs.sort_values("job-id").reset_index(drop=True)


def check_whole(store: ObjectStore, settings: Settings) -> None:
    """Every month readable, no job twice, each job table computed from its month's rows."""
    for month in history.list_months(store, settings):
        rows = history.read_month_rows(store, settings, month.cluster, month.month)
        assert not rows.duplicated(["job-id", "step"]).any(), month
        if month.jobs is not None:
            jobs = history.read_month_jobs(store, collect.forwarder_bucket(settings), month.jobs.name)
            assert jobs["job-id"].is_unique


def test_collect_twice_from_cron_stores_once_and_says_what_it_did(slurm: FakeSlurm, tmp_path: Path) -> None:
    env = env_of(slurm, tmp_path / "store")
    first = hpc_monitor(["collect", "--since", "2026-02-25", "--until", "2026-03-06"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Collected testcluster: 9 sacct calls (")  # the cluster from scontrol
    assert "6 new jobs, 0 updated, 2 months written" in first.stdout
    assert "up to 2026-03-06T00:00:00 (UTC), 2 unfinished jobs to pull again." in first.stdout
    again = hpc_monitor(["collect", "--until", "2026-03-06T00:10"], env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 new jobs, 0 updated, 0 months written" in again.stdout and "2 sacct calls" in again.stdout


def test_collect_from_a_file_and_stdin_merges_the_same_jobs_once(slurm: FakeSlurm, tmp_path: Path) -> None:
    env = env_of(slurm, tmp_path / "store")
    text = subprocess.run([str(slurm.bin / "sacct"), "--parsable2", "--starttime", "2026-01-01T00:00:00",
                           "--endtime", "2026-04-01T00:00:00"], capture_output=True, check=True).stdout
    (tmp_path / "may.txt").write_bytes(text)
    first = hpc_monitor(["collect", "--from", str(tmp_path / "may.txt")], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (f"Merged {tmp_path / 'may.txt'} into the history: 22 new jobs, 0 updated, "
                                    "3 months written.")
    again = hpc_monitor(["collect", "--from", "-"], env, tmp_path, text)
    assert again.stdout.strip() == "Merged standard input into the history: 0 new jobs, 0 updated, 0 months written."
    no_cluster = text.replace(b"testcluster", b"")
    refused = one_error_line(hpc_monitor(["collect", "--from", "-"], env, tmp_path, no_cluster))
    assert "give --cluster" in refused
    named = hpc_monitor(["collect", "--from", "-", "--cluster", "Other1"], env, tmp_path, no_cluster)
    assert "22 new jobs" in named.stdout
    assert {m.cluster for m in history.list_months(LocalStore(tmp_path / "store"), settings_of(tmp_path / "store"))
            } == {"testcluster", "other1"}


def test_sacct_missing_slurmdbd_down_and_bad_dates_are_one_line_and_store_nothing(slurm: FakeSlurm,
                                                                                    tmp_path: Path) -> None:
    env = env_of(slurm, tmp_path / "store", PATH="/nonexistent")
    line = one_error_line(hpc_monitor(["collect", "--cluster", "testcluster"], env, tmp_path))
    assert line.startswith("hpc-monitor: error: Could not collect: sacct was not found on PATH")
    slurm.dbd_down()
    env = env_of(slurm, tmp_path / "store")
    line = one_error_line(hpc_monitor(["collect", *SPAN], env, tmp_path))
    assert line.startswith("hpc-monitor: error: Could not collect: slurmdbd is not reachable (sacct said: sacct: "
                           "error: slurm_persist_conn_open_without_init")
    line = one_error_line(hpc_monitor(["collect", "--cluster", "c", "--since", "May 1"], env, tmp_path))
    assert line == "hpc-monitor: error: Could not collect: --since 'May 1' is not a date (YYYY-MM-DD or " \
                   "YYYY-MM-DDTHH:MM:SS)"
    assert not (tmp_path / "store").exists() or LocalStore(tmp_path / "store").list_buckets() == []


@pytest.mark.swift
def test_collect_into_swift_keeps_no_local_state_and_a_refusing_store_is_one_line(
        slurm: FakeSlurm, openstack: OpenStack, tmp_path: Path) -> None:
    alice = openstack.users[0]
    prefix = f"col{uuid.uuid4().hex[:8]}"
    env = {**openstack.info.env_for(alice), "BUCKET_PREFIX": prefix, "SACCT_TIMEZONE": "UTC",
           "PATH": slurm.path(os.environ["PATH"])}
    work = tmp_path / "work"
    work.mkdir()
    done = hpc_monitor(["collect", "--cluster", "testcluster", "--since", "2026-02-25", "--until", "2026-03-06"],
                       env, work)
    assert done.returncode == 0, done.stderr
    assert list(work.iterdir()) == []  # the watermark and the history are in Swift only
    swift = openstack.store_for(alice)
    settings = load_settings(None, {**env, "STORE": "local"})
    months = history.list_months(swift, settings)
    assert [m.month for m in months] == ["2026-02", "2026-03"] and all(m.jobs for m in months)
    assert collect.read_state(swift, settings, collect.CollectOptions(cluster="testcluster")).until == \
        at("2026-03-06T00:00:00")
    again = hpc_monitor(["collect", "--cluster", "testcluster", "--until", "2026-03-06T00:10"], env, work)
    assert "0 new jobs, 0 updated, 0 months written" in again.stdout
    slurm.reset_calls()
    wrong = {**env, "CSC_PASSWORD": "not-the-password-18"}
    line = one_error_line(hpc_monitor(["collect", "--cluster", "testcluster"], wrong, work))
    assert line.startswith("hpc-monitor: error: Could not collect: Keystone refused the credentials of user alice")
    assert "not-the-password-18" not in line and slurm.calls() == []


def forked(run: Callable[[], int]) -> int:
    """The pid of a child of this process running ``run`` (its exit status is what ``run`` returns).

    A fork of the test process starts with the command's modules imported, as a cron job's process is once it has
    started: each kill point costs the command's own work, not a new interpreter's. The child writes nothing to
    this process's streams and never returns into the tests.
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 70
        try:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            code = run()
        finally:
            os._exit(code)
    return pid


def killed_after_put(n: int, args: list[str], env: dict[str, str], cwd: Path) -> Callable[[], int]:
    """``hpc-monitor ARGS``, killing its own process with SIGKILL right after its n-th write to storage."""
    def run() -> int:
        put, writes = LocalStore.put_object, []

        def put_then_die(self: LocalStore, *put_args: Any, **kwargs: Any) -> None:
            put(self, *put_args, **kwargs)
            writes.append(put_args[1])
            if len(writes) == n:
                os.kill(os.getpid(), signal.SIGKILL)

        LocalStore.put_object = put_then_die  # type: ignore[method-assign]
        return hpc_monitor(args, env, cwd).returncode
    return run


def exit_status(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_collection_killed_after_any_write_then_run_again_loses_and_duplicates_nothing(
        slurm: FakeSlurm, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    whole = hpc_monitor(["collect", *SPAN, "--window-days", "4"], env_of(slurm, reference), tmp_path)
    assert whole.returncode == 0, whole.stderr
    expected = contents(LocalStore(reference), settings_of(reference))
    # 12 windows merged every 7: writes 1-6 are the first merge's months and watermark; after the first month's rows,
    # between a month's rows and its job table (the fast profile: this one), after the watermark.
    for n in by_profile(fast=(3,), full=(1, 3, 6)):
        store = tmp_path / f"store{n}"
        run = killed_after_put(n, ["collect", *SPAN, "--window-days", "4"], env_of(slurm, store), tmp_path)
        assert exit_status(forked(run)) == -signal.SIGKILL
        check_whole(LocalStore(store), settings_of(store))
        watermark = collect.read_state(LocalStore(store), settings_of(store),
                                       collect.CollectOptions(cluster="testcluster")).until
        # Cron runs the same line again: from the watermark once there is one, else from --since as before.
        since = SPAN if watermark is None else ["--cluster", "testcluster", "--until", "2026-03-06"]
        rerun = hpc_monitor(["collect", *since, "--window-days", "4"], env_of(slurm, store), tmp_path)
        assert rerun.returncode == 0, rerun.stderr
        rows, jobs = contents(LocalStore(store), settings_of(store))
        pd.testing.assert_frame_equal(rows, expected[0], check_like=True)
        pd.testing.assert_frame_equal(jobs, expected[1], check_like=True)


def test_kill_minus_9_at_any_moment_of_a_running_collect_then_again_gives_the_whole_history(
        slurm: FakeSlurm, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    assert hpc_monitor(["collect", *SPAN, "--window-days", "2"], env_of(slurm, reference), tmp_path).returncode == 0
    expected = contents(LocalStore(reference), settings_of(reference))
    store = tmp_path / "store"
    args = ["collect", *SPAN, "--window-days", "2"]
    # After some windows were pulled: before, during and after the first merge (the fast profile: during it).
    for calls in by_profile(fast=(9,), full=(3, 9, 15)):
        slurm.reset_calls()
        pid = forked(lambda: hpc_monitor(args, env_of(slurm, store), tmp_path).returncode)
        deadline, ended = time.monotonic() + 120, 0
        while len(slurm.calls()) < calls and not ended and time.monotonic() < deadline:
            ended = os.waitpid(pid, os.WNOHANG)[0]
            time.sleep(0.02)
        assert not ended and not os.waitpid(pid, os.WNOHANG)[0], "the collection ended before it was killed"
        os.kill(pid, signal.SIGKILL)
        exit_status(pid)
        if (store / "store.db").exists():
            check_whole(LocalStore(store), settings_of(store))
    state = collect.read_state(LocalStore(store), settings_of(store), collect.CollectOptions(cluster="testcluster"))
    again = SPAN if state.until is None else ["--cluster", "testcluster", "--until", "2026-03-06"]
    done = hpc_monitor(["collect", *again, "--window-days", "2"], env_of(slurm, store), tmp_path)
    assert done.returncode == 0, done.stderr
    rows, jobs = contents(LocalStore(store), settings_of(store))
    pd.testing.assert_frame_equal(rows, expected[0], check_like=True)
    pd.testing.assert_frame_equal(jobs, expected[1], check_like=True)


def test_the_window_and_overlap_come_from_the_settings_and_the_options_win(slurm: FakeSlurm, tmp_path: Path) -> None:
    env = env_of(slurm, tmp_path / "store", COLLECT_WINDOW_DAYS="3", COLLECT_OVERLAP_MINUTES="120")
    first = hpc_monitor(["collect", "--cluster", "testcluster", "--since", "2026-02-25", "--until", "2026-03-06"],
                        env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "3 sacct calls" in first.stdout  # 9 days in windows of 3
    slurm.reset_calls()
    hpc_monitor(["collect", "--cluster", "testcluster", "--until", "2026-03-06T01:00", "--window-days", "1"], env,
                tmp_path)
    windowed = [c for c in slurm.calls() if "--starttime" in c]
    assert [c[c.index("--starttime") + 1] for c in windowed] == ["2026-03-05T22:00:00"]  # two hours of overlap


def test_jobs_stored_prints_the_history_in_the_format_of_jobs_on_sacct_output(slurm: FakeSlurm,
                                                                              tmp_path: Path) -> None:
    env = env_of(slurm, tmp_path / "store")
    assert hpc_monitor(["collect", *SPAN, "--window-days", "30"], env, tmp_path).returncode == 0
    stored = hpc_monitor(["jobs", "--stored", "--cluster", "testcluster", "--since", "2026-03-01", "--format",
                          "json"], env, tmp_path)
    assert stored.returncode == 0, stored.stderr
    rows = json.loads(stored.stdout)
    assert [r["job_id"] for r in rows] == ["1009", "2009", "3000", "3001"]
    text = subprocess.run([str(slurm.bin / "sacct"), "--parsable2", "--jobs", "1009,2009,3000,3001"],
                          capture_output=True, check=True).stdout
    direct = hpc_monitor(["jobs", "-", "--format", "json"], env, tmp_path, text)
    assert rows == json.loads(direct.stdout)  # the same figures whether stored or straight from sacct
    assert hpc_monitor(["jobs", "--stored", "--cluster", "elsewhere", "--format", "json"], env,
                       tmp_path).stdout.strip() == "[]"
    line = one_error_line(hpc_monitor(["jobs", "-", "--since", "2026-03-01"], env, tmp_path, text))
    assert line == "hpc-monitor: error: --cluster and --since choose jobs of the stored history: add --stored"
