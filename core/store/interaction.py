"""The seed's ``object_storage_interaction``: check, send and get by bucket target and object name.

Unlike the seed, a send never deletes the old object first: Swift and LocalStore replace an object atomically, so a
failed upload leaves the old one in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from core.errors import NotFound
from core.naming import bucket_name, object_path
from core.store.base import MetaValue, ObjectMetadata, ObjectStore


@dataclass(frozen=True)
class ObjectAddress:
    """Where an object lives by the naming convention (the seed's interaction parameters)."""

    target: str
    prefix: str
    user: str
    object_name: str
    replacers: Mapping[str, str] = field(default_factory=dict)
    names: Sequence[str] = ()

    @property
    def bucket(self) -> str:
        """The bucket (``bucket-target`` + ``bucket-prefix`` + ``bucket-user``)."""
        return bucket_name(self.target, self.prefix, self.user)

    @property
    def path(self) -> str:
        """The object path (``object-name`` + ``path-replacers`` + ``path-names``)."""
        return object_path(self.object_name, self.replacers, self.names)


def check(store: ObjectStore, address: ObjectAddress) -> ObjectMetadata | None:
    """The object's metadata, or ``None`` when it does not exist."""
    try:
        return store.head_object(address.bucket, address.path)
    except NotFound:
        return None


def send(
    store: ObjectStore,
    address: ObjectAddress,
    data: bytes,
    metadata: Mapping[str, MetaValue] | None = None,
    *,
    overwrite: bool,
) -> bool:
    """Write the object; ``False`` (and nothing written) when it exists and ``overwrite`` is false."""
    if not overwrite and check(store, address) is not None:
        return False
    store.put_object(address.bucket, address.path, data, metadata=metadata)
    return True


def get(store: ObjectStore, address: ObjectAddress) -> tuple[bytes, dict[str, str], dict[str, MetaValue]] | None:
    """``(data, general metadata, custom metadata)``, or ``None`` when the object does not exist."""
    try:
        meta, data = store.get_object(address.bucket, address.path)
    except NotFound:
        return None
    return data, meta.general, meta.custom
