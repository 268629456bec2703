"""A lean HTTP/1.1 client for the ``openai`` adapter: JSON POSTs to one URL over pooled
keep-alive connections, on an asyncio event loop.

Why not aiohttp (which the adapter used before): 1000 requests at 256 in flight used 0.45-0.61 s
of CPU through aiohttp's client and 0.22-0.24 s through this one on the benchmark machine, and
on two cores that CPU is what stretches each wave of requests past the server's latency
(``benchmarks/served_throughput.py``; figures in ``docs/benchmarks.md``). What a chat endpoint
needs is small and done here in full:

- ``http://`` and ``https://`` (TLS and certificate checks by the standard library's default
  context, which honours ``SSL_CERT_FILE``); the host is resolved once per pool and again when
  connecting fails;
- answers read by :func:`eval_anything.models.http_response.parse_response`;
- keep-alive: a connection goes back to the pool after a complete response unless the server
  said ``Connection: close``; one the server closed or spoke on while idle is never reused,
  and a request
  that meets a reused connection closed before any byte of the answer is sent again once, at
  once, on a new connection (the standard client behaviour for a keep-alive race);
- ``timeout`` bounds connecting and each wait for data, as the adapter documents;
- a cancelled request closes its connection, whose state is then unknown.

Errors: :class:`ConnectionFailed` (refused, reset, closed early, unreadable response) and
``TimeoutError``; any HTTP status is a normal :class:`Response`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from typing import Any, cast
from urllib.parse import urlsplit

from eval_anything.models.http_response import ConnectionFailed, Response, parse_response

RESOLVE_TTL = 60.0  # seconds a host's addresses are reused before they are looked up again

_tls: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    global _tls
    if _tls is None:  # loading the CA store costs milliseconds: once per process
        _tls = ssl.create_default_context()
    return _tls


class ConnectionPool:
    """Keep-alive connections for POSTs to ``url``; the caller bounds how many requests run at
    once (the adapter's concurrency gate), so the pool never holds more connections than were
    in use together."""

    def __init__(self, url: str, timeout: float, user_agent: str = "eval-anything") -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        default_port = 443 if self.tls else 80
        self.authority = host if self.port == default_port else f"{host}:{self.port}"
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.timeout = float(timeout)
        self.user_agent = user_agent
        self.idle: list[_Connection] = []
        self.addresses: list[tuple[Any, ...]] = []
        self.resolved_at = 0.0
        self.lookup: asyncio.Task[list[tuple[Any, ...]]] | None = None  # one under way
        self.closed = False

    # ------------------------------------------------------------------ requests

    async def post(self, body: bytes, headers: dict[str, str]) -> Response:
        """POST ``body`` (JSON) to the pool's URL and read the whole answer."""
        head = self._head(len(body), headers)
        conn, reused = await self._acquire()
        try:
            return await self._exchange(conn, head, body)
        except ConnectionFailed:
            if not (reused and not conn.got_data):
                raise
        # the server closed a kept-alive connection as the request went out: once more, new
        conn, _ = await self._acquire(fresh=True)
        return await self._exchange(conn, head, body)

    async def _exchange(self, conn: _Connection, head: bytes, body: bytes) -> Response:
        try:
            response = await conn.request(head + body, self.timeout)
        except BaseException:
            conn.abort()  # cancelled or failed: what the connection holds now is unknown
            raise
        if conn.keep_alive and conn.quiet and not self.closed:
            self.idle.append(conn)
        else:
            conn.abort()
        return response

    def _head(self, length: int, headers: dict[str, str]) -> bytes:
        lines = [
            f"POST {self.target} HTTP/1.1",
            f"Host: {self.authority}",
            f"User-Agent: {self.user_agent}",
            "Accept: application/json",
            "Accept-Encoding: gzip, deflate",
            "Content-Type: application/json",
            f"Content-Length: {length}",
        ]
        for name, value in headers.items():
            if any(c in name + value for c in "\r\n\0"):
                raise ValueError(f"header {name!r} holds a line break or NUL; refusing to send it")
            lines.append(f"{name}: {value}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    # ------------------------------------------------------------------ connections

    async def _acquire(self, fresh: bool = False) -> tuple[_Connection, bool]:
        while self.idle and not fresh:
            conn = self.idle.pop()  # the most recently used: the least likely to be closed
            if conn.quiet:
                return conn, True
            conn.abort()  # closed, or the server spoke while idle (a 408 before closing)
        return await self._connect(), False

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        errors: list[str] = []
        timed_out = tried = 0
        for attempt in range(2):  # known addresses first, looked up again if none connects
            addresses, looked_up = await self._resolve(loop, refresh=attempt > 0)
            for family, _, proto, _, sockaddr in addresses:
                tried += 1
                try:
                    async with asyncio.timeout(self.timeout):
                        _, conn = await loop.create_connection(
                            lambda: _Connection(loop),
                            host=sockaddr[0], port=sockaddr[1], family=family, proto=proto,
                            ssl=_tls_context() if self.tls else None,
                            server_hostname=self.host if self.tls else None,
                        )
                    return conn
                except TimeoutError:  # the next address may answer (IPv6 dropped, IPv4 fine)
                    timed_out += 1
                    errors.append(f"{sockaddr[0]}: no answer within {self.timeout:g} s")
                except ssl.SSLCertVerificationError as e:
                    errors.append(
                        f"{sockaddr[0]}: {e.verify_message or e}; if the server's certificate "
                        "is signed by your own authority, point SSL_CERT_FILE at its PEM file"
                    )
                except OSError as e:  # refused, unreachable, TLS refused (ssl.SSLError)
                    errors.append(f"{sockaddr[0]}: {e.strerror or e}")
            if looked_up:
                break  # the addresses are current: looking them up again gives the same
        if tried and timed_out == tried:
            raise TimeoutError(f"connecting to {self.authority} took over {self.timeout:g} s")
        raise ConnectionFailed(f"cannot connect to {self.authority} ({'; '.join(errors)})")

    async def _resolve(
        self, loop: asyncio.AbstractEventLoop, refresh: bool
    ) -> tuple[list[tuple[Any, ...]], bool]:
        """The host's addresses, and whether they were looked up just now. Requests that need
        them together share one look-up (a first wave of 256 connections took 256 threads)."""
        fresh = time.monotonic() - self.resolved_at <= RESOLVE_TTL
        if self.lookup is None and not refresh and self.addresses and fresh:
            return self.addresses, False
        if self.lookup is None:
            self.lookup = loop.create_task(self._look_up(loop))
            self.lookup.add_done_callback(_retrieve)
        # shielded: a cancelled request must not cancel the look-up the others wait for
        return await asyncio.shield(self.lookup), True

    async def _look_up(self, loop: asyncio.AbstractEventLoop) -> list[tuple[Any, ...]]:
        try:
            infos = await loop.getaddrinfo(
                self.host, self.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except OSError as e:
            raise ConnectionFailed(f"cannot resolve {self.host!r}: {e}") from None
        finally:
            self.lookup = None
        self.addresses, self.resolved_at = list(infos), time.monotonic()
        return self.addresses

    def close(self) -> None:
        """Close every idle connection; one in use closes when its request ends."""
        self.closed = True
        idle, self.idle = self.idle, []
        for conn in idle:
            conn.abort()


def _retrieve(task: asyncio.Task[Any]) -> None:
    """A look-up whose requests were all cancelled: its outcome is nobody's error."""
    if not task.cancelled():
        task.exception()


class _Connection(asyncio.Protocol):
    """One connection: sends a request, parses the answer as it arrives."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Response] | None = None
        self.closed = False
        self.eof = False
        self.got_data = False
        self.keep_alive = False  # the last answer allows another request
        self.last_data = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.timeout = 0.0

    # ------------------------------------------------------------------ protocol events

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.got_data = True
        self.last_data = self.loop.time()
        if self.waiter is not None and not self.waiter.done():
            self._try_finish()

    def eof_received(self) -> bool:
        self.eof = True
        if self.waiter is not None and not self.waiter.done():
            self._try_finish()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.eof = True
        if self.waiter is not None and not self.waiter.done():
            self._try_finish()
            if not self.waiter.done():
                why = f": {exc}" if exc else ""
                what = "during the answer" if self.got_data else "before answering"
                self._fail(ConnectionFailed(f"the server closed the connection {what}{why}"))

    # ------------------------------------------------------------------ one request

    async def request(self, data: bytes, timeout: float) -> Response:
        if self.closed or self.transport is None:
            raise ConnectionFailed("the connection was closed before the request was sent")
        self.waiter = self.loop.create_future()
        self.got_data = False
        self.timeout = timeout
        self.last_data = self.loop.time()
        self.timer = self.loop.call_later(timeout, self._check_idle)
        self.transport.write(data)
        try:
            return await self.waiter
        finally:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            self.waiter = None

    @property
    def quiet(self) -> bool:
        """Open, and nothing arrived since the last answer (bytes nobody asked for would put
        the connection out of step): safe to send a request on."""
        return not (self.closed or self.eof or self.buffer)

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _check_idle(self) -> None:
        """No data for ``timeout`` seconds fails the request; data since re-arms the timer."""
        waited = self.loop.time() - self.last_data
        if waited >= self.timeout:
            self.timer = None
            self._fail(TimeoutError(f"no data for {self.timeout:g} s"))
        else:
            self.timer = self.loop.call_later(self.timeout - waited, self._check_idle)

    def _fail(self, error: BaseException) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)

    # ------------------------------------------------------------------ parsing

    def _try_finish(self) -> None:
        try:
            parsed = parse_response(self.buffer, self.eof)
        except ConnectionFailed as e:
            self._fail(e)
            return
        if parsed is not None and self.waiter is not None:
            response, self.keep_alive = parsed
            self.waiter.set_result(response)
