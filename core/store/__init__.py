"""Storage backends behind one :class:`core.store.base.ObjectStore` protocol."""

from __future__ import annotations

from core.auth import Credentials
from core.settings import Settings
from core.store.base import ObjectStore
from core.store.local import LocalStore


def open_store(settings: Settings, credentials: Credentials | None = None) -> ObjectStore:
    """The store the settings name: a LocalStore directory, or Swift with the given (or configured) credentials."""
    if settings.store == "local":
        return LocalStore(settings.local_store_path)
    from core.store.swift import SwiftStore

    return SwiftStore.from_credentials(credentials or Credentials.from_settings(settings))


__all__ = ["LocalStore", "ObjectStore", "open_store"]
