"""The app as it is served: ``streamlit run dashboard/serve.py`` (``make run`` and the container).

Streamlit has no setting for response headers, and a page that can be framed by any site can be clickjacked. Its
ASGI entry point, ``st.App``, takes Starlette middleware: :class:`DenyFraming` adds ``X-Frame-Options: DENY`` and
``Content-Security-Policy: frame-ancestors 'none'`` to every HTTP response. This is Streamlit's documented server
hook, so it keeps working across releases without patching Streamlit's internals and without a second process
(a reverse proxy) to ship, configure and keep alive beside the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.middleware import Middleware

Message = MutableMapping[str, Any]
ASGIApp = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
                   Awaitable[None]]

#: Headers every HTTP response carries: no site (this one included) may show the app in a frame.
FRAME_HEADERS = ((b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'"))


class DenyFraming:
    """ASGI middleware adding :data:`FRAME_HEADERS` to every HTTP response (websocket traffic passes untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in FRAME_HEADERS}
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": [*headers, *FRAME_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Absolute, so the app is found whatever the working directory (uvicorn started directly, or the container).
app = st.App(Path(__file__).resolve().with_name("app.py"), middleware=[Middleware(DenyFraming)])
