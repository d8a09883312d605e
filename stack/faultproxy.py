"""A small TCP proxy on loopback that can break connections, for tests of failing uploads and a silent Swift.

Modes: ``pass`` forwards both ways; ``drop_after`` closes both sides once ``limit`` bytes went upstream (an upload
that dies part-way); ``blackhole`` accepts connections and never answers (a hung server).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class FaultProxy:
    """Listens on ``port`` and forwards to ``127.0.0.1:target_port`` according to ``mode``."""

    target_port: int
    mode: str = "pass"
    limit: int = 0
    port: int = 0
    _server: socket.socket | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _sockets: list[socket.socket] = field(default_factory=list, repr=False)

    def start(self) -> FaultProxy:
        """Start listening in a background thread; returns self."""
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        server.settimeout(0.2)
        self.port = server.getsockname()[1]
        self._server = server
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def close(self) -> None:
        """Stop listening and close every connection."""
        self._stop.set()
        for sock in [self._server, *self._sockets]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._sockets.append(client)
            if self.mode == "blackhole":
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._sockets.append(upstream)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        sent = 0
        try:
            while chunk := source.recv(65536):
                if upstream and self.mode == "drop_after" and sent + len(chunk) > self.limit:
                    sink.sendall(chunk[: max(0, self.limit - sent)])
                    break
                sink.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
