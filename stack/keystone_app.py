"""Keystone's WSGI application for gunicorn (its module reads sys.argv, so that is cleared first)."""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402

__all__ = ["application"]
