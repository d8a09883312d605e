"""Storage backends behind one :class:`core.store.base.ObjectStore` protocol.

Import the backend you need (``core.store.local``, ``core.store.swift``): this package imports nothing, so the
embedded store never pulls in Keystone or the settings, and the primitives below it never import the store.
"""
