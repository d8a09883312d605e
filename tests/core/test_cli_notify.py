"""``hpc-monitor notify`` as a user runs it: in-process with the process environment, and as two concurrent processes
against the real Swift, each item reaching the real receivers once."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.cli import main
from core.settings import ENV_NAMES
from tests.conftest import OpenStack
from tests.core.services.test_notify import receivers_env, sacct_text
from tests.core.test_cli import ROOT, hpc_monitor
from tests.receivers import refused_port, smtp_receiver, webhook_receiver


def in_process(args: list[str], env: dict[str, str], cwd: Path, monkeypatch: pytest.MonkeyPatch,
               stdin: bytes = b"") -> tuple[int, str, str]:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(cwd)
    out, err = io.StringIO(), io.StringIO()
    status = main(args, stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {"STORE": "local", "LOCAL_STORE_PATH": str(tmp_path / "store"), "DASHBOARD_URL": "https://monitor.example.org",
            "NOTIFY_CLAIM_SETTLE_SECONDS": "0.3", "NOTIFY_RETRY_SECONDS": "0", "NOTIFY_TIMEOUT_SECONDS": "3"}


def test_notify_dry_run_then_send_then_nothing_new(env: dict[str, str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    text = sacct_text(datetime.now(UTC)).encode()
    assert in_process(["upload-sacct", "-", "--run", "mahti-week", "--platform", "mahti"], env, tmp_path,
                      monkeypatch, text)[0] == 0
    status, out, err = in_process(["notify"], env, tmp_path, monkeypatch)
    assert status == 1 and out == ""
    assert err.strip() == ("hpc-monitor: error: no channel to send to: set NOTIFY_WEBHOOK_URL, or NOTIFY_SMTP_HOST "
                           "and NOTIFY_EMAIL_TO (--dry-run shows what would be sent)")
    with webhook_receiver() as hook, smtp_receiver(tmp_path) as box:
        full = {**env, **receivers_env(hook, box)}
        status, out, err = in_process(["notify", "--dry-run"], full, tmp_path, monkeypatch)
        assert status == 0 and err == "" and hook.requests == [] and box.messages == []
        assert out.count("--- would send to webhook (1 item)") == 3 and out.count("--- would send to email") == 3
        assert "Job page: https://monitor.example.org/job?job=5001&run=user-example-com-mahti-week" in out
        assert out.rstrip().endswith("6 messages would be sent, 0 items sent before.")
        status, out, err = in_process(["notify"], full, tmp_path, monkeypatch)
        assert status == 0 and err == ""
        assert "Sent to webhook: FAILED: job 5001 (train-a) in user-example-com-mahti-week on mahti" in out
        assert out.rstrip().endswith("6 messages sent, 0 items sent before.")
        status, out, err = in_process(["notify"], full, tmp_path, monkeypatch)
        assert (status, out.strip(), err) == (0, "0 messages sent, 6 items sent before.", "")
        status, out, err = in_process(["notify", "--digest"], full, tmp_path, monkeypatch)
        assert status == 0 and out.count("Sent to ") == 4, err
    assert len(hook.payloads()) == 5 and len(box.messages) == 5


def test_notify_to_a_refused_receiver_reports_one_line_each_and_fails(env: dict[str, str], tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    text = sacct_text(datetime.now(UTC)).encode()
    in_process(["upload-sacct", "-", "--run", "w", "--platform", "mahti"], env, tmp_path, monkeypatch, text)
    secret = "T0/B0/very-secret-token"
    bad = {**env, "NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{refused_port()}/{secret}", "NOTIFY_ATTEMPTS": "2"}
    status, out, err = in_process(["notify"], bad, tmp_path, monkeypatch)
    lines = err.strip().splitlines()
    assert status == 1 and "Traceback" not in err and secret not in err + out
    assert lines[:3] == ["hpc-monitor: not sent (1 item): webhook at 127.0.0.1: cannot connect (Connection refused) "
                         "after 2 attempts"] * 3
    assert lines[3] == "hpc-monitor: error: 3 messages not delivered; their items stay unsent for the next run"


@pytest.mark.swift
def test_two_notify_processes_at_once_on_swift_send_each_item_once(openstack: OpenStack, tmp_path: Path) -> None:
    alice = openstack.users[0]
    prefix = f"ntf{uuid.uuid4().hex[:8]}"
    base = {**openstack.info.env_for(alice), "BUCKET_PREFIX": prefix, "DASHBOARD_URL": "https://monitor.example.org",
            "NOTIFY_RETRY_SECONDS": "0",
            # A claim PUT must land within half of this: Swift on a shared 2-CPU machine can take over a second.
            "NOTIFY_CLAIM_SETTLE_SECONDS": "4"}
    stored = hpc_monitor(["upload-sacct", "-", "--run", "mahti-week", "--platform", "mahti"], base, tmp_path,
                         sacct_text(datetime.now(UTC)).encode())
    assert stored.returncode == 0, stored.stderr
    clean = {k: v for k, v in os.environ.items() if k.upper() not in ENV_NAMES}
    with webhook_receiver() as hook, smtp_receiver(tmp_path) as box:
        env = {**clean, "PYTHONPATH": str(ROOT), **base, **receivers_env(hook, box)}
        processes = [subprocess.Popen([sys.executable, "-m", "core.cli", "notify"], cwd=tmp_path, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(*p.communicate(timeout=300), p.returncode) for p in processes]
        assert [r[2] for r in results] == [0, 0], results
        again = hpc_monitor(["notify"], {**base, **receivers_env(hook, box)}, tmp_path)
    assert again.returncode == 0 and again.stdout.strip() == "0 messages sent, 6 items sent before."
    sent = sum(r[0].count("Sent to ") for r in results)
    assert sent == 6, results
    subjects = [p["text"].splitlines()[0] for p in hook.payloads()]
    assert len(subjects) == len(set(subjects)) == 3
    assert sorted(m["Subject"].strip() for m in box.mails()) == sorted(subjects)
    assert alice.password not in "".join(r[0] + r[1] for r in results)
