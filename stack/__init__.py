"""Real OpenStack Keystone and Swift on loopback, for tests and a local real-Swift configuration.

``python -m stack start --dir .services`` runs, each as its own background process on a free 127.0.0.1 port:

- Keystone (gunicorn, SQLite, fernet tokens, fast password hashing) with an ``object-store`` endpoint;
- a Swift proxy with the ``authtoken`` + ``keystoneauth`` pipeline, and account, container and object servers on a
  one-device, one-replica ring in the directory;
- the container updater, every second, so account listings show fresh object counts and bytes.

It creates two users in two projects (``alice`` in ``demo-a``, ``bob`` in ``demo-b``, role ``member``) and writes
``credentials.env`` (alice, under the dashboard's own setting names: copy it to ``.env``) and ``stack.json`` (both
users and every port, for tests). ``python -m stack stop --dir .services`` stops everything.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

BIN = Path(sys.executable).parent
USERS = (("alice", "demo-a"), ("bob", "demo-b"))


@dataclass(frozen=True)
class User:
    """A Keystone user with a member role in its own project."""

    username: str
    password: str
    project: str


@dataclass(frozen=True)
class StackInfo:
    """What a running stack offers; read from ``stack.json``."""

    directory: Path
    auth_url: str
    proxy_url: str
    users: tuple[User, ...]
    ports: dict[str, int]

    def env_for(self, user: User) -> dict[str, str]:
        """The dashboard's settings for ``user`` against this stack."""
        return {
            "STORE": "swift",
            "CSC_AUTH_URL": self.auth_url,
            "CSC_USERNAME": user.username,
            "CSC_PASSWORD": user.password,
            "CSC_PROJECT_NAME": user.project,
            "CSC_USER_DOMAIN_NAME": "Default",
            "CSC_PROJECT_DOMAIN_NAME": "Default",
        }


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: Any, what: str, log: Path | None = None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s\n{tail}")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(200 <= response.status < 500)
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (urllib.error.URLError, OSError):
        return False


def _tcp_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _request(
    method: str, url: str, body: dict[str, Any] | None = None, token: str | None = None
) -> tuple[int, Any, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, response.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, exc.headers, json.loads(raw) if raw else None


def password_token(auth_url: str, username: str, password: str, project: str) -> tuple[str, dict[str, Any]]:
    """A Keystone token (and its body) for a user scoped to a project."""
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": username, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}},
    }}
    status, headers, content = _request("POST", f"{auth_url}/auth/tokens", body)
    if status != 201:
        raise RuntimeError(f"Keystone refused {username}: HTTP {status}")
    return str(headers["X-Subject-Token"]), content


# --- configuration ------------------------------------------------------------------------------------------------


def _keystone_conf(base: Path, token_expiration: int) -> str:
    return f"""[DEFAULT]
log_file = {base}/keystone.log
[database]
connection = sqlite:///{base}/keystone.db
[token]
provider = fernet
expiration = {token_expiration}
[fernet_tokens]
key_repository = {base}/fernet-keys
[fernet_receipts]
key_repository = {base}/fernet-keys
[credential]
key_repository = {base}/credential-keys
[identity]
password_hash_rounds = 4
[cache]
enabled = true
backend = dogpile.cache.memory
"""


def _swift_confs(base: Path, ports: dict[str, int], auth_url: str, swift_password: str) -> dict[str, str]:
    common = f"""[DEFAULT]
user = {pwd.getpwuid(os.getuid()).pw_name}
bind_ip = 127.0.0.1
workers = 0
swift_dir = {base}
devices = {base}/devices
mount_check = false
log_facility = LOG_LOCAL0
log_level = WARNING
"""
    servers = {
        kind: common + f"bind_port = {ports[kind]}\n[pipeline:main]\npipeline = {kind}-server\n"
        f"[app:{kind}-server]\nuse = egg:swift#{kind}\n"
        for kind in ("account", "container", "object")
    }
    servers["container"] += "[container-updater]\ninterval = 1\nconcurrency = 1\n"
    # The middleware of Swift's own sample pipeline that the app needs: auth, and copy (a version is published by
    # a COPY, which Ceph RGW serves natively).
    pipeline = "catch_errors gatekeeper healthcheck proxy-logging cache authtoken keystoneauth copy proxy-logging"
    servers["proxy"] = common + f"""bind_port = {ports["proxy"]}
[pipeline:main]
pipeline = {pipeline} proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
node_timeout = 10
conn_timeout = 2
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = {auth_url}
auth_url = {auth_url}
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = swift
password = {swift_password}
delay_auth_decision = true
cache = swift.cache
include_service_catalog = false
[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:{ports["memcache"]}
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:copy]
use = egg:swift#copy
"""
    return servers


def _build_rings(base: Path, ports: dict[str, int]) -> None:
    from swift.common.ring import RingBuilder

    for kind in ("account", "container", "object"):
        builder = RingBuilder(6, 1, 1)
        builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": ports[kind], "device": "sda",
                         "weight": 100, "meta": ""})
        builder.rebalance()
        builder.get_ring().save(str(base / f"{kind}.ring.gz"))


# --- processes ----------------------------------------------------------------------------------------------------


def _spawn(directory: Path, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
    log = (directory / f"{name}.log").open("ab")
    process = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, **(env or {})}, cwd=directory,
    )
    return int(process.pid)


def _pids_file(directory: Path) -> Path:
    return directory / "pids.json"


def _record(directory: Path, name: str, pid: int) -> None:
    path = _pids_file(directory)
    pids = json.loads(path.read_text()) if path.exists() else {}
    pids[name] = pid
    path.write_text(json.dumps(pids))


def stop(directory: Path | str) -> None:
    """Stop every process the stack in ``directory`` started."""
    path = _pids_file(Path(directory))
    if not path.exists():
        return
    pids: dict[str, int] = json.loads(path.read_text())
    stop_process_groups(pids.values(), grace=10)
    path.unlink()


def stop_process_groups(pids: Iterable[int], grace: float) -> None:
    """SIGTERM each process group, then SIGKILL the ones still there after ``grace`` seconds in all."""
    groups = list(pids)
    for pid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for pid in groups:
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except (ProcessLookupError, PermissionError):
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


def stop_service(directory: Path | str, name: str) -> None:
    """Stop one service (e.g. ``proxy``) of a running stack: for tests of an unavailable Swift."""
    path = _pids_file(Path(directory))
    pids: dict[str, int] = json.loads(path.read_text())
    pid = pids.pop(name)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    path.write_text(json.dumps(pids))


def load(directory: Path | str) -> StackInfo:
    """The running stack described by ``directory/stack.json``."""
    base = Path(directory)
    data = json.loads((base / "stack.json").read_text())
    users = tuple(User(u["username"], u["password"], u["project"]) for u in data["users"])
    return StackInfo(base, data["auth_url"], data["proxy_url"], users, data["ports"])


_PYTHONPATH = {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def _spawn_keystone(base: Path, ports: dict[str, int]) -> None:
    env = {"OS_KEYSTONE_CONFIG_DIR": str(base / "keystone"), **_PYTHONPATH}
    _record(base, "keystone", _spawn(base, "keystone", [
        str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{ports['keystone']}", "--workers", "1", "--threads", "8",
        "--timeout", "120", "stack.keystone_app:application"], env))


def _spawn_swift_servers(base: Path) -> None:
    sbase = base / "swift"
    for kind in ("account", "container", "object"):
        _record(base, kind, _spawn(base, kind, [str(BIN / f"swift-{kind}-server"), str(sbase / f"{kind}.conf")]))
    _record(base, "container-updater", _spawn(base, "container-updater", [
        sys.executable, "-m", "stack.updater", str(sbase / "container.conf"), str(sbase)], _PYTHONPATH))


def _spawn_proxy_and_wait(base: Path, ports: dict[str, int]) -> None:
    _record(base, "proxy", _spawn(base, "proxy", [
        str(BIN / "swift-proxy-server"), str(base / "swift" / "proxy.conf")]))
    for kind in ("account", "container", "object"):
        _wait(lambda k=kind: _tcp_open(ports[k]), f"Swift {kind} server", base / f"{kind}.log")
    _wait(lambda: _http_ok(f"http://127.0.0.1:{ports['proxy']}/healthcheck"), "Swift proxy", base / "proxy.log")


P = ParamSpec("P")
R = TypeVar("R")


def _owner_only(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with umask 077, so the stack's files are readable by this user only.

    The configs hold the Swift service user's password; the Keystone database and keys, the logs and whatever the
    servers create are private too.
    """

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        previous = os.umask(0o077)
        try:
            result = function(*args, **kwargs)
        finally:
            os.umask(previous)
        _private_files(Path(args[0]) if args else Path(str(kwargs["directory"])))  # type: ignore[arg-type]
        return result

    return run


def _private_files(base: Path) -> None:
    """Take group and other permissions off everything under ``base`` (swift-ring-builder sets 0644 itself)."""
    for path in [base.resolve(), *base.resolve().rglob("*")]:
        if path.is_symlink() or path.is_socket():
            continue
        mode = path.stat().st_mode
        if mode & 0o077:
            os.chmod(path, mode & 0o700)


@_owner_only
def resume(directory: Path | str) -> StackInfo:
    """Start the processes of a stack stopped earlier in ``directory`` again: same ports, users and data."""
    base = Path(directory).resolve()
    stop(base)
    info = load(base)
    busy = [name for name, port in info.ports.items() if name != "memcache" and _tcp_open(port)]
    if busy:
        raise RuntimeError(f"cannot resume the stack in {base}: ports of {', '.join(busy)} are in use")
    _spawn_keystone(base, info.ports)
    _spawn_swift_servers(base)
    _wait(lambda: _http_ok(info.auth_url), "Keystone", base / "keystone.log")
    _spawn_proxy_and_wait(base, info.ports)
    return info


@_owner_only
def start(directory: Path | str, *, token_expiration: int = 3600) -> StackInfo:
    """Start Keystone and Swift in ``directory`` (stopping an earlier stack there first) and create the users."""
    base = Path(directory).resolve()
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o700)  # an existing directory keeps its mode otherwise
    stop(base)
    for stale in ("keystone", "swift"):
        subprocess.run(["rm", "-rf", str(base / stale)], check=True)
    ports = {name: free_port() for name in ("keystone", "proxy", "account", "container", "object", "memcache")}
    auth_url = f"http://127.0.0.1:{ports['keystone']}/v3"
    # Passwords never start with "-" (a command line would read one as an option).
    admin_password = "a" + secrets.token_urlsafe(16)
    swift_password = "s" + secrets.token_urlsafe(16)

    # Keystone: configure, migrate, bootstrap, serve.
    kbase = base / "keystone"
    kbase.mkdir()
    (kbase / "keystone.conf").write_text(_keystone_conf(kbase, token_expiration))
    manage = [str(BIN / "keystone-manage"), "--config-file", str(kbase / "keystone.conf")]
    uid, gid = str(os.getuid()), str(os.getgid())
    for step in (["db_sync"], ["fernet_setup", "--keystone-user", uid, "--keystone-group", gid],
                 ["credential_setup", "--keystone-user", uid, "--keystone-group", gid],
                 ["bootstrap", f"--bootstrap-password={admin_password}", "--bootstrap-admin-url", auth_url,
                  "--bootstrap-public-url", auth_url, "--bootstrap-internal-url", auth_url,
                  "--bootstrap-region-id", "RegionOne"]):
        result = subprocess.run([*manage, *step], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"keystone-manage {step[0]} failed:\n{result.stderr[-3000:]}")
    _spawn_keystone(base, ports)

    # Swift: rings and configs while Keystone starts.
    sbase = base / "swift"
    (sbase / "devices" / "sda").mkdir(parents=True)
    (sbase / "swift.conf").write_text(
        f"[swift-hash]\nswift_hash_path_suffix = {secrets.token_hex(8)}\nswift_hash_path_prefix = stack\n"
        "[storage-policy:0]\nname = gold\ndefault = yes\n"
    )
    _build_rings(sbase, ports)
    confs = _swift_confs(sbase, ports, auth_url, swift_password)
    for kind, text in confs.items():
        (sbase / f"{kind}.conf").write_text(text)
    _spawn_swift_servers(base)

    _wait(lambda: _http_ok(auth_url), "Keystone", base / "keystone.log")
    users = _create_accounts(auth_url, admin_password, swift_password, ports["proxy"])

    proxy_url = f"http://127.0.0.1:{ports['proxy']}"
    _spawn_proxy_and_wait(base, ports)

    info = {"auth_url": auth_url, "proxy_url": proxy_url, "ports": ports,
            "users": [u.__dict__ for u in users]}
    (base / "stack.json").write_text(json.dumps(info, indent=1))
    os.chmod(base / "stack.json", 0o600)
    stack = load(base)
    env_lines = [f"{k}={v}" for k, v in stack.env_for(users[0]).items()]
    (base / "credentials.env").write_text(
        "# Real Swift + Keystone from `make services`; copy to .env to make `make run` use it.\n"
        + "\n".join(env_lines) + "\n"
    )
    os.chmod(base / "credentials.env", 0o600)
    return stack


def _create_accounts(auth_url: str, admin_password: str, swift_password: str, proxy_port: int) -> list[User]:
    token, _ = password_token(auth_url, "admin", admin_password, "admin")

    def create(kind: str, body: dict[str, Any]) -> str:
        status, _, content = _request("POST", f"{auth_url}/{kind}s", {kind: body}, token)
        if status != 201:
            raise RuntimeError(f"creating {kind} failed: HTTP {status} {content}")
        return str(content[kind]["id"])

    def role_id(name: str) -> str:
        _, _, content = _request("GET", f"{auth_url}/roles?name={name}", None, token)
        return str(content["roles"][0]["id"])

    def grant(project: str, user: str, role: str) -> None:
        status, _, _ = _request("PUT", f"{auth_url}/projects/{project}/users/{user}/roles/{role}", None, token)
        if status not in (200, 204):
            raise RuntimeError(f"role grant failed: HTTP {status}")

    admin_role, member_role = role_id("admin"), role_id("member")
    service = create("project", {"name": "service", "domain_id": "default"})
    grant(service, create("user", {"name": "swift", "password": swift_password, "domain_id": "default"}), admin_role)
    users = []
    for username, project in USERS:
        password = "p" + secrets.token_urlsafe(12)
        project_id = create("project", {"name": project, "domain_id": "default"})
        grant(project_id, create("user", {"name": username, "password": password, "domain_id": "default"}),
              member_role)
        users.append(User(username, password, project))
    service_id = create("service", {"type": "object-store", "name": "swift"})
    for interface in ("public", "internal", "admin"):
        create("endpoint", {"service_id": service_id, "interface": interface, "region_id": "RegionOne",
                            "url": f"http://127.0.0.1:{proxy_port}/v1/AUTH_%(project_id)s"})
    return users
