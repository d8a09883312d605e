"""A small proxy on loopback that can delay, count and break traffic, for tests and benchmarks of a faulty Swift.

Modes (``mode``, changeable while it runs with :meth:`FaultProxy.set_mode`):

- ``pass`` forwards both ways;
- ``drop_after`` closes both sides once ``limit`` bytes went upstream (an upload that dies part-way);
- ``blackhole`` accepts connections and never answers (a hung server);
- ``down`` closes every open connection and refuses new ones at once (a server that is gone).

``delay`` (seconds, or a ``(low, high)`` range drawn per request) is added before each HTTP request is forwarded:
the proxy reads requests framed by ``Content-Length`` or chunked encoding, so it also counts them (``requests``,
``request_lines``) on connections kept alive. :func:`interposed` puts a proxy in front of a running stack's Swift on
the port Keystone's catalog advertises, so every client (e.g. the dashboard in its own process) goes through it.
"""

from __future__ import annotations

import contextlib
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MODES = ("pass", "drop_after", "blackhole", "down")


@dataclass
class FaultProxy:
    """Listens on ``port`` (0: a free one) and forwards to ``127.0.0.1:target_port`` according to ``mode``."""

    target_port: int
    mode: str = "pass"
    limit: int = 0
    port: int = 0
    delay: float | tuple[float, float] = 0.0
    #: HTTP requests forwarded so far (see :meth:`reset_count`).
    requests: int = 0
    #: Their request lines (``GET /v1/AUTH_x/bucket?format=json HTTP/1.1``), oldest first.
    request_lines: list[str] = field(default_factory=list)
    #: Called with each request's head (request line and headers) before it is delayed and forwarded. When it returns
    #: a number, only that many bytes of the request's body reach the target, then the connection breaks off (a
    #: client that died, or a network cut, in the middle of an upload).
    observer: Callable[[bytes], int | None] | None = None
    #: Requests cut that way: (request line, body bytes the target received).
    cut_requests: list[tuple[str, int]] = field(default_factory=list)
    _server: socket.socket | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _sockets: list[socket.socket] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}: one of {', '.join(MODES)}")

    def start(self) -> FaultProxy:
        """Start listening in a background thread; returns self."""
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(128)
        server.settimeout(0.2)
        self.port = server.getsockname()[1]
        self._server = server
        threading.Thread(target=self._accept, daemon=True, name=f"faultproxy-{self.port}").start()
        return self

    def close(self) -> None:
        """Stop listening and close every connection."""
        self._stop.set()
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.close()
        self._close_connections()

    def set_mode(self, mode: str, *, delay: float | tuple[float, float] | None = None) -> None:
        """Switch mode (and delay) now; a switch to ``down`` or ``blackhole`` also cuts the open connections."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
        self.mode = mode
        if delay is not None:
            self.delay = delay
        if mode in ("down", "blackhole"):
            self._close_connections()

    def reset_count(self) -> int:
        """Forget the requests counted so far; returns how many there were."""
        with self._lock:
            count = self.requests
            self.requests = 0
            self.request_lines = []
            return count

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _close_connections(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _forget(self, *socks: socket.socket) -> None:
        with self._lock:
            self._sockets = [s for s in self._sockets if s not in socks]

    def _accept(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.mode == "down":
                with contextlib.suppress(OSError):
                    client.close()
                continue
            self._track(client)
            if self.mode == "blackhole":
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                self._forget(client)
                with contextlib.suppress(OSError):
                    client.close()
                continue
            self._track(upstream)
            forward = self._pipe_raw if self.mode == "drop_after" else self._pipe_requests
            threading.Thread(target=forward, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe_raw, args=(upstream, client, False), daemon=True).start()

    def _end(self, source: socket.socket, sink: socket.socket) -> None:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        self._forget(source, sink)

    def _pipe_raw(self, source: socket.socket, sink: socket.socket, upstream: bool = True) -> None:
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
            self._end(source, sink)

    def _pause(self) -> None:
        low, high = self.delay if isinstance(self.delay, tuple) else (self.delay, self.delay)
        seconds = random.uniform(low, high) if high > low else low
        if seconds > 0:
            self._stop.wait(seconds)

    def _pipe_requests(self, source: socket.socket, sink: socket.socket) -> None:
        """Forward HTTP requests one by one: count each, wait ``delay`` before it, stream its body through."""
        reader = _Reader(source)
        try:
            while not self._stop.is_set():
                head = reader.until(b"\r\n\r\n")
                if head is None:
                    break
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                with self._lock:
                    self.requests += 1
                    self.request_lines.append(line)
                cut = self.observer(head) if self.observer is not None else None
                self._pause()
                if self.mode == "down":
                    break
                sink.sendall(head)
                if cut is not None:
                    self.cut_requests.append((line, reader.forward_some(sink, cut)))
                    break
                headers = head.decode("latin-1").lower()
                if re.search(r"^transfer-encoding:\s*chunked", headers, re.MULTILINE):
                    if not _forward_chunked(reader, sink):
                        break
                else:
                    length = re.search(r"^content-length:\s*(\d+)", headers, re.MULTILINE)
                    if length and not reader.forward(sink, int(length.group(1))):
                        break
        except OSError:
            pass
        finally:
            self._end(source, sink)


class _Reader:
    """Buffered reads from a socket: up to a delimiter, or a number of bytes streamed to another socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def until(self, delimiter: bytes) -> bytes | None:
        while (end := self._buffer.find(delimiter)) < 0:
            chunk = self._sock.recv(65536)
            if not chunk:
                return None
            self._buffer += chunk
        end += len(delimiter)
        found, self._buffer = self._buffer[:end], self._buffer[end:]
        return found

    def forward_some(self, sink: socket.socket, most: int) -> int:
        """Stream up to ``most`` bytes to ``sink`` (fewer when the source ends first); how many were sent."""
        sent = 0
        while sent < most:
            if not self._buffer:
                self._buffer = self._sock.recv(65536)
                if not self._buffer:
                    break
            part, self._buffer = self._buffer[:most - sent], self._buffer[most - sent:]
            sink.sendall(part)
            sent += len(part)
        return sent

    def forward(self, sink: socket.socket, size: int) -> bool:
        """Stream exactly ``size`` bytes to ``sink``; False when the source ended first."""
        return self.forward_some(sink, size) == size


def _forward_chunked(reader: _Reader, sink: socket.socket) -> bool:
    while True:
        line = reader.until(b"\r\n")
        if line is None:
            return False
        sink.sendall(line)
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            trailer = reader.until(b"\r\n")  # the empty line after the last chunk (no trailers are sent here)
            if trailer is None:
                return False
            sink.sendall(trailer)
            return True
        if not reader.forward(sink, size + 2):  # the chunk and its CRLF
            return False


def _wait_for(check: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} within {timeout:.0f} s")


@contextlib.contextmanager
def interposed(directory: Path | str, **options: object) -> Iterator[FaultProxy]:
    """A :class:`FaultProxy` in front of the Swift of the running stack in ``directory``, on its advertised port.

    The Swift proxy server moves to a free port and the fault proxy takes its place, so clients that found Swift in
    Keystone's catalog (tokens and storage URLs unchanged) go through the fault proxy. On exit the Swift proxy
    server is back on its own port. ``options`` are :class:`FaultProxy` fields (``mode``, ``delay``).
    """
    import stack

    base = Path(directory).resolve()
    info = stack.load(base)
    public = info.ports["proxy"]
    conf = base / "swift" / "proxy.conf"
    inner = stack.free_port()
    inner_conf = conf.with_name("proxy-interposed.conf")
    # A copy of proxy.conf holds the Swift service user's password: readable by this user only, like the original.
    inner_conf.touch(mode=0o600)
    inner_conf.chmod(0o600)
    inner_conf.write_text(re.sub(r"^bind_port = \d+$", f"bind_port = {inner}", conf.read_text(), flags=re.MULTILINE))
    stack.stop_service(base, "proxy")
    _wait_for(lambda: not stack._tcp_open(public), f"the Swift proxy did not free port {public}")
    stack._record(base, "proxy", stack._spawn(base, "proxy", [str(stack.BIN / "swift-proxy-server"), str(inner_conf)]))
    _wait_for(lambda: stack._http_ok(f"http://127.0.0.1:{inner}/healthcheck"), "the moved Swift proxy did not start")
    proxy = FaultProxy(inner, port=public, **options)  # type: ignore[arg-type]
    try:
        proxy.start()
        yield proxy
    finally:
        proxy.close()
        stack.stop_service(base, "proxy")
        _wait_for(lambda: not stack._tcp_open(public), f"the fault proxy did not free port {public}")
        _wait_for(lambda: not stack._tcp_open(inner), f"the moved Swift proxy did not free port {inner}")
        stack._record(base, "proxy", stack._spawn(base, "proxy", [str(stack.BIN / "swift-proxy-server"), str(conf)]))
        _wait_for(lambda: stack._http_ok(f"http://127.0.0.1:{public}/healthcheck"), "the Swift proxy did not return")
