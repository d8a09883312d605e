"""``hpc-monitor`` run as a user runs it: a separate process, settings from the environment, stdin and files."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core.errors import SacctParseError
from core.sacct import parse_sacct
from core.serialize import parquet_to_frame
from core.settings import ENV_NAMES
from core.store.local import LocalStore
from tests import samples
from tests.conftest import OpenStack

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = samples.sacct("09_tdhock_parsable2_multiuser.txt")



def hpc_monitor(
    args: list[str], env: dict[str, str], cwd: Path, stdin: bytes = b""
) -> subprocess.CompletedProcess[str]:
    """``hpc-monitor ARGS`` in ``cwd`` with only ``env`` as settings (no developer .env, no setting of the shell)."""
    clean = {k: v for k, v in os.environ.items() if k.upper() not in ENV_NAMES}
    result = subprocess.run([sys.executable, "-m", "core.cli", *args], input=stdin, capture_output=True, cwd=cwd,
                            env={**clean, "PYTHONPATH": str(ROOT), **env}, check=False, timeout=300)
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(),
                                       result.stderr.decode())


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hpc-monitor: error: "), result.stderr
    return lines[0]


@pytest.fixture()
def local(tmp_path: Path) -> dict[str, str]:
    return {"STORE": "local", "LOCAL_STORE_PATH": str(tmp_path / "store")}


@pytest.mark.swift
def test_upload_from_stdin_and_file_stores_versions_on_swift_and_ls_shows_them(
    openstack: OpenStack, tmp_path: Path
) -> None:
    alice = openstack.users[0]
    prefix = f"cli{uuid.uuid4().hex[:8]}"
    env = {**openstack.info.env_for(alice), "BUCKET_PREFIX": prefix}
    bucket, name = f"{prefix}-for-air", "ARTIFACTS/SACCT/user-example-com-cedar-may.parquet"

    first = hpc_monitor(["upload-sacct", "-", "--run", "cedar may", "--platform", "Mahti"], env, tmp_path,
                        SAMPLE.read_bytes())
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"Stored {bucket}/{name} as version 1 (572 rows, parsable2, no warnings)."
    swift = openstack.store_for(alice)
    meta, data = swift.get_object(bucket, name)
    assert meta.custom["version"] == 1 and meta.custom["platform"] == "mahti" and meta.custom["rows"] == 572
    assert len(parquet_to_frame(data)) == 572

    again = hpc_monitor(["upload-sacct", str(SAMPLE), "--run", "cedar-may"], env, tmp_path)
    line = one_error_line(again)
    assert line.startswith("hpc-monitor: error: Could not store the run: run 'cedar-may' is already stored")
    assert "--new-version" in line and swift.head_object(bucket, name).custom["version"] == 1

    newer = hpc_monitor(["upload-sacct", str(SAMPLE), "--run", "cedar-may", "--new-version"], env, tmp_path)
    assert newer.returncode == 0 and "as version 2 " in newer.stdout
    assert swift.head_object(bucket, name).custom["version"] == 2

    listed = hpc_monitor(["ls", f"{bucket}/ARTIFACTS/SACCT/"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [r[2] for r in rows] == [name] and rows[0][0].strip().endswith("KiB")
    buckets = hpc_monitor(["ls"], env, tmp_path)
    assert any(line.startswith(f"{bucket}\t") for line in buckets.stdout.splitlines()), buckets.stdout
    assert alice.password not in listed.stdout + listed.stderr + buckets.stdout + buckets.stderr


@pytest.mark.swift
def test_wrong_password_and_swift_down_end_in_one_line_without_the_secret(openstack: OpenStack, tmp_path: Path) -> None:
    alice = openstack.users[0]
    wrong = {**openstack.info.env_for(alice), "CSC_PASSWORD": "not-the-password-31"}
    line = one_error_line(hpc_monitor(["upload-sacct", str(SAMPLE), "--run", "r"], wrong, tmp_path))
    assert line.startswith("hpc-monitor: error: Could not store the run: ") and alice.username in line
    assert "not-the-password-31" not in line

    from stack import free_port

    down = {**openstack.info.env_for(alice), "CSC_AUTH_URL": f"http://127.0.0.1:{free_port()}/v3"}
    line = one_error_line(hpc_monitor(["ls"], down, tmp_path))
    assert line.startswith("hpc-monitor: error: Could not list buckets: ") and alice.password not in line


def test_input_that_is_not_sacct_gets_the_pages_message(local: dict[str, str], tmp_path: Path) -> None:
    text = b"Hello, this is a README about my job.\nIt ran fine.\n"
    with pytest.raises(SacctParseError) as expected:
        parse_sacct(text)
    line = one_error_line(hpc_monitor(["upload-sacct", "-", "--run", "r"], local, tmp_path, text))
    assert line == f"hpc-monitor: error: The sacct input was not accepted: {expected.value}"
    stored = LocalStore(tmp_path / "store") if (tmp_path / "store").exists() else None
    assert stored is None or not any(".parquet" in o.name for b in stored.list_buckets()
                                     for o in stored.iter_objects(b.name))


def test_bad_names_files_and_platforms_are_refused_before_reading(local: dict[str, str], tmp_path: Path) -> None:
    cases = {
        ("upload-sacct", "-", "--run", "../up"): "a run name is 1-80 letters",
        ("upload-sacct", str(tmp_path / "missing.txt"), "--run", "r"): "cannot read ",
        ("upload-sacct", str(tmp_path), "--run", "r"): "cannot read ",
        ("upload-sacct", str(SAMPLE), "--run", "r", "--platform", "mars"): "platform 'mars' is not one of",
        ("ls", "no such bucket/x"): "Could not list no such bucket/x: ",
    }
    for args, expected in cases.items():
        assert expected in one_error_line(hpc_monitor(list(args), local, tmp_path)), args
    gone = one_error_line(hpc_monitor(["ls", "mlch-gone/LOGS/"], local, tmp_path))
    assert gone == "hpc-monitor: error: Could not list mlch-gone/LOGS/: no such bucket"  # the bucket named once
    usage = hpc_monitor(["upload-sacct", str(SAMPLE)], local, tmp_path)
    assert usage.returncode == 2 and "--run" in usage.stderr
    zone = one_error_line(hpc_monitor(["ls"], {**local, "SACCT_TIMEZONE": "Mars/Base"}, tmp_path))
    assert zone.startswith("hpc-monitor: error: ") and "SACCT_TIMEZONE" in zone


def test_input_over_the_limit_is_refused_and_nothing_is_stored(local: dict[str, str], tmp_path: Path) -> None:
    big = SAMPLE.read_bytes() * 60  # about 2 MiB
    for source, stdin in (("-", big), (str(tmp_path / "big.txt"), b"")):
        (tmp_path / "big.txt").write_bytes(big)
        line = one_error_line(hpc_monitor(["upload-sacct", source, "--run", "big"], {**local, "UPLOAD_LIMIT_MB": "1"},
                                          tmp_path, stdin))
        assert line.startswith("hpc-monitor: error: The sacct input was not accepted: the sacct input is ")
        assert "(UPLOAD_LIMIT_MB)" in line
    listed = hpc_monitor(["ls"], local, tmp_path)
    assert listed.returncode == 0 and listed.stdout == ""


def test_large_input_from_stdin_shows_progress_and_warnings_name_lines(local: dict[str, str], tmp_path: Path) -> None:
    header, *rows = SAMPLE.read_bytes().splitlines(keepends=True)
    body = b"".join(rows)
    big = header + body * (9 * 2**20 // len(body) + 1) + b"1|0:0|BROKEN\n"  # past 8 MiB, one bad last line
    lines = big.count(b"\n")
    result = hpc_monitor(["upload-sacct", "-", "--run", "big"], local, tmp_path, big)
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if not line.startswith("hpc-monitor: warning:")]
    assert progress[0].startswith("hpc-monitor: read 8.00 MiB (")
    assert any(line.startswith("hpc-monitor: parsing 9.") and "from standard input" in line for line in progress)
    assert progress[-1].startswith("hpc-monitor: storing (")
    warnings = [line for line in result.stderr.splitlines() if line.startswith("hpc-monitor: warning:")]
    assert len(warnings) == 1 and warnings[0].startswith(f"hpc-monitor: warning: line {lines}: ")
    assert f"({lines - 2:,} rows, parsable2, 1 warning)" in result.stdout


def test_headerless_output_with_its_field_list_is_stored_quietly(local: dict[str, str], tmp_path: Path) -> None:
    text = samples.sacct("07_slurmdog_parsable2_noheader_alpine.txt").read_bytes()
    fields = "JobID,User,Group,State,Cluster,AllocCPUS,REQMEM,TotalCPU,Elapsed,MaxRSS,ExitCode,NNodes,NTasks"
    without = one_error_line(hpc_monitor(["upload-sacct", "-", "--run", "alpine"], local, tmp_path, text))
    assert "for --noheader output give the field list" in without
    result = hpc_monitor(["upload-sacct", "-", "--run", "alpine", "--fields", fields], local, tmp_path, text)
    assert result.returncode == 0 and result.stderr == ""  # small input: no progress lines, no warnings
    assert result.stdout.startswith("Stored mlch-for-air/ARTIFACTS/SACCT/user-example-com-alpine.parquet as version 1 "
                                    "(102 rows, parsable2")
    listed = hpc_monitor(["ls", "mlch-for-air/ARTIFACTS/SACCT/"], local, tmp_path)
    assert [line.split("\t")[2] for line in listed.stdout.splitlines()] == [
        "ARTIFACTS/SACCT/user-example-com-alpine.parquet"]


def test_settings_come_from_the_dotenv_of_the_working_directory(tmp_path: Path) -> None:
    store = tmp_path / "from-dotenv"
    (tmp_path / ".env").write_text(f"STORE=local\nLOCAL_STORE_PATH={store}\nBUCKET_PREFIX=dotenv\n", encoding="utf-8")
    result = hpc_monitor(["upload-sacct", str(SAMPLE), "--run", "cedar"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Stored dotenv-for-air/ARTIFACTS/SACCT/user-example-com-cedar.parquet ")
    assert store.is_dir() and hpc_monitor(["ls"], {}, tmp_path).stdout.startswith("dotenv-for-air\t")


def test_delimiter_option_reaches_the_parser(local: dict[str, str], tmp_path: Path) -> None:
    text = b"23000233\ttrain\tCOMPLETED\t00:01:00\n23000234\teval\tFAILED\t00:00:05\n"
    args = ["upload-sacct", "-", "--run", "tabs", "--fields", "JobID,JobName,State,Elapsed", "--delimiter"]
    tab = hpc_monitor([*args, "\\t"], local, tmp_path, text)
    assert tab.returncode == 0 and tab.stderr == "" and "as version 1 (2 rows, " in tab.stdout
    wrong = hpc_monitor([*args, ";", "--new-version"], local, tmp_path, text)
    assert wrong.returncode == 0 and "as version 2 (2 rows, " in wrong.stdout
    assert wrong.stderr.startswith("hpc-monitor: warning: line 1: the lines are delimited by ")
