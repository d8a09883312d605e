"""Bucket and object names of the pipeline's storage convention (the seed's ``set_bucket_name``/``set_object_path``).

Buckets: ``<prefix>-for-air``, ``<prefix>-sub-air-<user>``, ``<prefix>-pipe-<user>``, ``<prefix>-exp-<user>``.
Objects: under ``CODE/``, ``DATA/``, ``ARTIFACTS/``, ``MANAGEMENT/``, ``TIMES/``, ``LOGS/``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from core.errors import InvalidName

#: Bucket target → name template; ``{user}`` is the formatted user.
TARGETS: dict[str, str] = {
    "forwarder": "{prefix}-for-air",
    "submitter": "{prefix}-sub-air-{user}",
    "pipeline": "{prefix}-pipe-{user}",
    "experiment": "{prefix}-exp-{user}",
}

#: Object name → path template (the seed's ``object_paths``).
OBJECT_NAMES: dict[str, str] = {
    "root": "name",
    "code": "CODE/name",
    "data": "DATA/name",
    "arti": "ARTIFACTS/name",
    "mana": "MANAGEMENT/name",
    "time": "TIMES/name",
    "logs": "LOGS/name",
}

#: Swift refuses container names over 256 bytes.
MAX_BUCKET_BYTES = 256
#: Swift refuses object names over 1024 bytes.
MAX_OBJECT_BYTES = 1024

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def format_user(user: str) -> str:
    """Turn a user (usually an e-mail) into a bucket-safe part.

    Lower-cases first (the seed did not), replaces every run of other characters by one dash and strips dashes at
    both ends: ``Jane.Doe@Example.com`` → ``jane-doe-example-com``.
    """
    return _NOT_ALNUM.sub("-", user.lower()).strip("-")


def validate_bucket_name(name: str) -> str:
    """Return ``name`` if Swift would accept it as a container name, else raise InvalidName naming it."""
    if not name:
        raise InvalidName("a bucket name cannot be empty", bucket=name)
    if "/" in name:
        raise InvalidName("a bucket name cannot contain '/'", bucket=name)
    if "\x00" in name:
        raise InvalidName("a bucket name cannot contain NUL", bucket=name.replace("\x00", "\\0"))
    if len(name.encode("utf-8")) > MAX_BUCKET_BYTES:
        raise InvalidName(f"a bucket name is at most {MAX_BUCKET_BYTES} bytes", bucket=name[:60] + "…")
    return name


def validate_object_name(name: str, *, bucket: str | None = None) -> str:
    """Return ``name`` if it is a usable object name (non-empty, no NUL, no empty or dot segments)."""
    if not name:
        raise InvalidName("an object name cannot be empty", bucket=bucket)
    if "\x00" in name:
        raise InvalidName("an object name cannot contain NUL", bucket=bucket, obj=name.replace("\x00", "\\0"))
    if len(name.encode("utf-8")) > MAX_OBJECT_BYTES:
        raise InvalidName(f"an object name is at most {MAX_OBJECT_BYTES} bytes", bucket=bucket, obj=name[:60] + "…")
    segments = name.split("/")
    if name.startswith("/") or any(s in ("", ".", "..") for s in segments):
        raise InvalidName("an object name cannot have empty, '.' or '..' segments", bucket=bucket, obj=name)
    return name


def bucket_name(target: str, prefix: str, user: str) -> str:
    """The bucket of ``target`` (forwarder, submitter, pipeline, experiment) for ``prefix`` and ``user``."""
    try:
        template = TARGETS[target]
    except KeyError:
        raise ValueError(f"unknown bucket target {target!r}; expected one of {', '.join(TARGETS)}") from None
    formatted = format_user(user)
    if "{user}" in template and not formatted:
        raise InvalidName(f"user {user!r} has no letters or digits for a bucket name")
    return validate_bucket_name(template.format(prefix=prefix, user=formatted))


def object_path(name: str, replacers: Mapping[str, str] | None = None, names: Sequence[str] = ()) -> str:
    """The object path of ``name`` (root, code, data, arti, mana, time, logs).

    ``replacers`` substitute parts of the template (``{"name": "1.pkl"}``; empty replacers are ignored, as in the
    seed) and ``names`` are appended as further segments. A result with empty segments (``DATA//2``) is refused.
    """
    try:
        template = OBJECT_NAMES[name]
    except KeyError:
        raise ValueError(f"unknown object name {name!r}; expected one of {', '.join(OBJECT_NAMES)}") from None
    replacers = replacers or {}
    parts = [replacers[p] if replacers.get(p) else p for p in template.split("/")]
    parts.extend(names)
    return validate_object_name("/".join(parts))


def folder(name: str, *names: str) -> str:
    """The folder of object name ``name`` with ``names`` below it, ending in ``/`` (a listing prefix).

    ``folder("logs")`` is ``LOGS/``, ``folder("arti", "SACCT")`` is ``ARTIFACTS/SACCT/``, ``folder("root")`` is
    the empty prefix (the whole bucket).
    """
    try:
        template = OBJECT_NAMES[name]
    except KeyError:
        raise ValueError(f"unknown object name {name!r}; expected one of {', '.join(OBJECT_NAMES)}") from None
    path = "/".join([*template.split("/")[:-1], *names])
    return validate_object_name(path) + "/" if path else ""


def sacct_run_object(user: str, run: str) -> str:
    """``ARTIFACTS/SACCT/<user>-<run>.parquet``: a stored SACCT run (the seed's file name; ``user`` formatted)."""
    return object_path("arti", {"name": "SACCT"}, [f"{format_user(user)}-{run}.parquet"])


def budget_object() -> str:
    """``ARTIFACTS/BUDGET.json``: the project's allocation per billing pool, shared by every replica and session."""
    return object_path("arti", {"name": "BUDGET.json"})


def times_object(run: str) -> str:
    """``TIMES/<run>.parquet``: the stage timings of one pipeline run."""
    return object_path("time", {"name": f"{run}.parquet"})


def management_object(name: str) -> str:
    """``MANAGEMENT/<name>``: an orchestration object of the submitter."""
    return object_path("mana", {"name": name})


def log_object(name: str) -> str:
    """``LOGS/<name>``: a Slurm log (``slurm-<id>.out``) of the pipeline."""
    return object_path("logs", {"name": name})
