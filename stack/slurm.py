"""A real single-node Slurm cluster with accounting on loopback, for tests and trying the product against sacct.

``python -m stack.slurm start --dir .slurm`` runs, each as its own background process, every port on 127.0.0.1:

- ``munged`` with its own key and socket;
- ``mariadbd`` with its own data directory and socket, listening on 127.0.0.1;
- ``slurmdbd`` (accounting), then ``sacctmgr`` adds the cluster, an account and the users;
- ``slurmctld`` and ``slurmd -N localhost`` (one node: 2 CPUs as the machine has, 2 fake GPUs).

Everything lives in the directory: configs, state, logs, the database. Commands reach this cluster through
``SLURM_CONF`` (see :meth:`SlurmInfo.env` and :meth:`SlurmInfo.run`), so a Slurm installed on the machine for other
purposes is never touched. Memory is enforced through cgroup v1 (``ConstrainRAMSpace``) when the machine offers the
memory controller, so a job over its ``--mem`` ends ``OUT_OF_MEMORY``. The GPUs are two character devices made
with ``mknod`` (the same device as ``/dev/null``) named in ``gres.conf``: ``--gres=gpu:1`` is allocated and
accounted (``gres/gpu=1``), while no GPU use is recorded, as on a cluster without NVML.

``python -m stack.slurm stop --dir .slurm`` stops everything. Needs root (slurmd runs jobs as their users) and the
Debian packages ``slurm-wlm slurmdbd mariadb-server`` (``make slurm-deps``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stack import free_port, stop_process_groups

#: Daemons and tools the cluster needs, from Debian's packages.
REQUIRED = ("munged", "mungekey", "mariadbd", "mariadb-install-db", "mariadb", "slurmdbd", "slurmctld", "slurmd",
            "sacctmgr", "sacct", "sbatch", "scontrol", "sinfo")
#: Fake GPU devices (character devices 1:3, as /dev/null), two per node.
GPU_DEVICES = ("/dev/fakegpu0", "/dev/fakegpu1")
#: Where cgroup v1 puts the memory controller.
CGROUP_MEMORY = Path("/sys/fs/cgroup/memory")


@dataclass(frozen=True)
class SlurmInfo:
    """A running cluster: its directory, name, account, users and ports; read from ``slurm.json``."""

    directory: Path
    cluster: str
    account: str
    users: tuple[str, ...]
    ports: dict[str, int]
    memory_enforced: bool

    @property
    def conf(self) -> Path:
        """The cluster's ``slurm.conf``."""
        return self.directory / "etc" / "slurm.conf"

    def env(self) -> dict[str, str]:
        """The environment for Slurm commands that reach this cluster (``SLURM_CONF``)."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, argv: Sequence[str], *, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a Slurm command (``sacct``, ``sbatch``, ``scancel``...) against this cluster; its output as text."""
        result = subprocess.run(list(argv), env=self.env(), capture_output=True, text=True, timeout=timeout,
                                check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
        return result


def missing_commands() -> list[str]:
    """The commands of :data:`REQUIRED` not on the PATH (with the sbin directories)."""
    return [name for name in REQUIRED if _which(name) is None]


def _which(name: str) -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin"])
    return shutil.which(name, path=path)


def _cmd(name: str) -> str:
    found = _which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed: run `make slurm-deps` (apt-get install slurm-wlm slurmdbd "
                           "mariadb-server)")
    return found


def memory_controller() -> bool:
    """Whether cgroup v1's memory controller is mounted and writable, so Slurm can enforce ``--mem``."""
    return (CGROUP_MEMORY / "memory.limit_in_bytes").exists() and os.access(CGROUP_MEMORY, os.W_OK)


# --- configuration ------------------------------------------------------------------------------------------------


def _slurm_conf(base: Path, cluster: str, ports: dict[str, int], memory: bool, first_job_id: int, cpus: int) -> str:
    enforce = ("ProctrackType=proctrack/cgroup\nTaskPlugin=task/cgroup\n" if memory
               else "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n")
    return f"""ClusterName={cluster}
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ports["slurmctld"]}
SlurmdPort={ports["slurmd"]}
SrunPortRange={ports["srun"]}-{ports["srun"] + 99}
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={base}/munge/munge.socket
CredType=cred/munge
StateSaveLocation={base}/state
SlurmdSpoolDir={base}/spool
SlurmctldPidFile={base}/run/slurmctld.pid
SlurmdPidFile={base}/run/slurmd.pid
SlurmctldLogFile={base}/log/slurmctld.log
SlurmdLogFile={base}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
FirstJobId={first_job_id}
ReturnToService=2
MpiDefault=none
{enforce}SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
SchedulerParameters=bf_interval=1,sched_min_interval=100000
MessageTimeout=20
KillWait=2
InactiveLimit=0
MinJobAge=300
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=NoOverMemoryKill
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={ports["slurmdbd"]}
AccountingStoragePass={base}/munge/munge.socket
AccountingStorageTRES=gres/gpu
AccountingStorageEnforce=associations
JobCompType=jobcomp/none
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=8000 Gres=gpu:fake:2 State=UNKNOWN
PartitionName=small Nodes=localhost Default=YES MaxTime=60 DefMemPerCPU=200 State=UP
PartitionName=gpu Nodes=localhost MaxTime=60 DefMemPerCPU=200 State=UP
"""


def _slurmdbd_conf(base: Path, ports: dict[str, int], db_password: str) -> str:
    return f"""AuthType=auth/munge
AuthInfo=socket={base}/munge/munge.socket
DbdAddr=127.0.0.1
DbdHost=localhost
DbdPort={ports["slurmdbd"]}
CommunicationParameters=NoInAddrAny
SlurmUser=root
LogFile={base}/log/slurmdbd.log
PidFile={base}/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={ports["mariadb"]}
StorageUser=slurm
StoragePass={db_password}
StorageLoc=slurm_acct_db
"""


_CGROUP_CONF = """CgroupPlugin=cgroup/v1
CgroupAutomount=no
ConstrainRAMSpace=yes
ConstrainSwapSpace=yes
AllowedSwapSpace=0
ConstrainCores=no
ConstrainDevices=no
"""


def _gres_conf() -> str:
    return "AutoDetect=off\n" + "".join(
        f"NodeName=localhost Name=gpu Type=fake File={device}\n" for device in GPU_DEVICES)


# --- processes ----------------------------------------------------------------------------------------------------


def _spawn(base: Path, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
    log = (base / "log" / f"{name}.out").open("ab")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True, env={**os.environ, **(env or {})}, cwd=base)
    pids_path = base / "pids.json"
    pids = json.loads(pids_path.read_text()) if pids_path.exists() else {}
    pids[name] = process.pid
    pids_path.write_text(json.dumps(pids))


def _wait(check: object, what: str, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            if check():  # type: ignore[operator]
                return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s\n{tail}")


def _tcp_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _check(argv: list[str], what: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, input=stdin,
                            env={**os.environ, **(env or {})}, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}")
    return result.stdout


def _fake_gpus() -> None:
    for device in GPU_DEVICES:
        path = Path(device)
        if path.exists() and stat.S_ISCHR(path.stat().st_mode):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))


def _cancel_jobs(base: Path) -> None:
    """Cancel the cluster's jobs still queued or running, so no job step outlives the daemons (best effort)."""
    conf = base / "etc" / "slurm.conf"
    scancel = _which("scancel")
    if not conf.exists() or scancel is None:
        return
    env = {**os.environ, "SLURM_CONF": str(conf)}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        jobs = subprocess.run([_cmd("squeue"), "-h", "-o", "%A"], env=env, capture_output=True, text=True,
                              timeout=10, check=False).stdout.split()
        if jobs:
            subprocess.run([scancel, *jobs], env=env, capture_output=True, timeout=10, check=False)
            time.sleep(1)


def stop(directory: Path | str) -> None:
    """Stop every process the cluster in ``directory`` started (the Slurm daemons first, the database last)."""
    base = Path(directory)
    path = base / "pids.json"
    if not path.exists():
        return
    pids: dict[str, int] = json.loads(path.read_text())
    _cancel_jobs(base)
    for group in (("slurmd", "slurmctld"), ("slurmdbd",), ("mariadbd", "munged")):
        # The state is thrown away: no need for a slow clean shutdown.
        stop_process_groups((pids[name] for name in group if name in pids), grace=5)
    path.unlink()


def load(directory: Path | str) -> SlurmInfo:
    """The running cluster described by ``directory/slurm.json``."""
    base = Path(directory).resolve()
    data = json.loads((base / "slurm.json").read_text())
    return SlurmInfo(base, data["cluster"], data["account"], tuple(data["users"]), data["ports"],
                     data["memory_enforced"])


def start(directory: Path | str, *, cluster: str = "loopback", account: str = "project_2001234",
          users: Sequence[str] = ("root",), cpus: int = 8) -> SlurmInfo:
    """Start the cluster in ``directory`` from empty state (stopping an earlier one there first); about 10 s.

    The node offers ``cpus`` CPUs whatever the machine has (``SlurmdParameters=config_overrides``; cores are not
    pinned), so a set of small test jobs runs at once on a 2-CPU machine: a job's CPU time is what it used, only its
    wall time grows when the machine is busy.
    """
    missing = missing_commands()
    if missing:
        raise RuntimeError(f"Slurm is not installed ({', '.join(missing)} missing): run `make slurm-deps`")
    if os.geteuid() != 0:
        raise RuntimeError("a Slurm cluster needs root (slurmd starts jobs as their users)")
    base = Path(directory).resolve()
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o711)  # munge's socket and job output are reached by other users through it
    stop(base)
    for stale in ("etc", "state", "spool", "run", "log", "munge", "mysql"):
        shutil.rmtree(base / stale, ignore_errors=True)
        (base / stale).mkdir(mode=0o755)
    ports = {name: free_port() for name in ("slurmctld", "slurmd", "slurmdbd", "mariadb")}
    ports["srun"] = 40000 + secrets.randbelow(200) * 100
    memory = memory_controller()
    db_password = "d" + secrets.token_urlsafe(16)
    etc = base / "etc"
    # Job ids that another cluster on this machine is unlikely to use (cgroup paths are named by job id).
    first_job_id = 1000 + secrets.randbelow(400_000) * 10
    (etc / "slurm.conf").write_text(_slurm_conf(base, cluster, ports, memory, first_job_id, cpus))
    (etc / "slurmdbd.conf").write_text(_slurmdbd_conf(base, ports, db_password))
    os.chmod(etc / "slurmdbd.conf", 0o600)  # slurmdbd refuses a readable one: it holds the database password
    (etc / "cgroup.conf").write_text(_CGROUP_CONF)
    (etc / "gres.conf").write_text(_gres_conf())
    _fake_gpus()
    env = {"SLURM_CONF": str(etc / "slurm.conf")}

    # munge: a key of our own, a socket in the directory.
    munge = base / "munge"
    _check([_cmd("mungekey"), "--create", f"--keyfile={munge}/munge.key"], "mungekey")
    os.chmod(munge / "munge.key", 0o400)
    _spawn(base, "munged", [_cmd("munged"), "--foreground", "--force", f"--key-file={munge}/munge.key",
                            f"--socket={munge}/munge.socket", f"--pid-file={munge}/munged.pid",
                            f"--log-file={base}/log/munged.log", f"--seed-file={munge}/munged.seed"])

    # MariaDB: its own data directory and socket, loopback only.
    mysql = base / "mysql"
    _check([_cmd("mariadb-install-db"), "--no-defaults", f"--datadir={mysql}/data", "--user=root",
            "--auth-root-authentication-method=socket", "--skip-test-db"], "mariadb-install-db")
    sock = f"{mysql}/mysqld.sock"
    _spawn(base, "mariadbd", [_cmd("mariadbd"), "--no-defaults", f"--datadir={mysql}/data", f"--socket={sock}",
                              f"--port={ports['mariadb']}", "--bind-address=127.0.0.1", "--user=root",
                              f"--pid-file={mysql}/mariadbd.pid", "--skip-name-resolve",
                              "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
                              "--innodb-flush-log-at-trx-commit=0", f"--log-error={base}/log/mariadbd.log"])
    _wait(lambda: Path(sock).exists() and _tcp_open(ports["mariadb"]), "MariaDB", base / "log" / "mariadbd.log")
    _check([_cmd("mariadb"), "--no-defaults", f"--socket={sock}", "-u", "root"], "creating the accounting database",
           stdin="CREATE DATABASE slurm_acct_db;\n"
                 f"CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '{db_password}';\n"
                 "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';\n")

    # Accounting: slurmdbd, then the cluster, the account and its users.
    _wait(lambda: (munge / "munge.socket").exists(), "munged", base / "log" / "munged.log")
    _spawn(base, "slurmdbd", [_cmd("slurmdbd"), "-D"], env)
    _wait(lambda: _tcp_open(ports["slurmdbd"]), "slurmdbd", base / "log" / "slurmdbd.log")
    sacctmgr = [_cmd("sacctmgr"), "-i"]
    _check([*sacctmgr, "add", "cluster", cluster], "sacctmgr add cluster", env)
    _check([*sacctmgr, "add", "account", account, f"cluster={cluster}", "description=tests", "organization=tests"],
           "sacctmgr add account", env)
    _check([*sacctmgr, "add", "user", ",".join(users), f"account={account}", f"cluster={cluster}"],
           "sacctmgr add user", env)

    # The controller and the node.
    _spawn(base, "slurmctld", [_cmd("slurmctld"), "-D", "-i", "-f", str(etc / "slurm.conf")], env)
    _wait(lambda: _tcp_open(ports["slurmctld"]), "slurmctld", base / "log" / "slurmctld.log")
    _spawn(base, "slurmd", [_cmd("slurmd"), "-D", "-N", "localhost", "-f", str(etc / "slurm.conf")], env)

    def idle() -> bool:
        out = subprocess.run([_cmd("sinfo"), "-h", "-N", "-o", "%T"], env={**os.environ, **env}, capture_output=True,
                             text=True, check=False, timeout=10).stdout
        states = {line.strip().rstrip("*") for line in out.splitlines()}
        return states == {"idle"}

    _wait(idle, "slurmd (node idle)", base / "log" / "slurmd.log")
    info = {"cluster": cluster, "account": account, "users": list(users), "ports": ports,
            "memory_enforced": memory}
    (base / "slurm.json").write_text(json.dumps(info, indent=1))
    return load(base)


def main() -> None:
    """``python -m stack.slurm start|stop --dir DIR``."""
    parser = argparse.ArgumentParser(prog="python -m stack.slurm")
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--dir", default=".slurm")
    parser.add_argument("--cluster", default="loopback")
    args = parser.parse_args()
    if args.command == "stop":
        stop(args.dir)
        print(f"stopped the Slurm cluster in {args.dir}")
        return
    began = time.monotonic()
    info = start(args.dir, cluster=args.cluster)
    print(f"Slurm cluster {info.cluster} up in {time.monotonic() - began:.1f} s; "
          f"SLURM_CONF={info.conf} sinfo / sbatch / sacct reach it; memory enforced: {info.memory_enforced}")


if __name__ == "__main__":
    main()
