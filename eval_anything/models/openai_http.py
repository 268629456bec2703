"""Where the ``openai`` adapter's requests run (``eval_anything/models/openai.py``): one event
loop on a daemon thread for the whole process, and per adapter a :class:`Session` (an
``aiohttp.ClientSession``, the proxies the environment names, one concurrency gate) and the
:class:`Flight` of each call. Posting one request, with its retries, lives in
:mod:`eval_anything.models.openai_post`."""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import os
import ssl
import threading
from collections.abc import Coroutine
from typing import Any

import aiohttp
from yarl import URL

from eval_anything.errors import ConfigError
from eval_anything.models.env_proxies import Proxy, environment_proxies, proxy_for


def event_loop_choice() -> str:
    """``EVAL_ANYTHING_EVENT_LOOP``: ``auto`` (the default: uvloop where installed, else
    asyncio's loop), ``uvloop`` or ``asyncio``; checked when an adapter is built, so a wrong
    value stops the run before anything is written."""
    choice = os.environ.get("EVAL_ANYTHING_EVENT_LOOP", "").strip().lower() or "auto"
    if choice not in ("auto", "uvloop", "asyncio"):
        raise ConfigError(
            f"EVAL_ANYTHING_EVENT_LOOP={choice!r}: choose auto, uvloop or asyncio (or unset it)"
        )
    if choice == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise ConfigError(
            "EVAL_ANYTHING_EVENT_LOOP=uvloop, but uvloop is not installed: pip install uvloop, "
            "or unset the variable"
        )
    return choice


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The served adapters' event loop (see :func:`event_loop_choice`): uvloop's where it is
    installed, since hundreds of requests in flight cost the loop less CPU there."""
    if event_loop_choice() != "asyncio":
        try:
            import uvloop
        except ImportError:  # auto, and not installed (Windows)
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class _LoopThread:
    """One event loop on a daemon thread for every served adapter of the process: a served
    model and its served judge share it, so their requests interleave on one loop instead of two
    loops contending for the interpreter lock."""

    _lock = threading.Lock()
    _current: _LoopThread | None = None

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="openai-adapter-loop", daemon=True
        )
        self.thread.start()

    @classmethod
    def get(cls) -> _LoopThread:
        with cls._lock:
            cur = cls._current
            if cur is None or cur.pid != os.getpid() or not cur.thread.is_alive():
                cur = cls._current = cls()  # a forked child starts a loop of its own
            return cur


class Session:
    """One adapter's HTTP client and its concurrency gate, on the process's shared event loop
    (:class:`_LoopThread`); created once per adapter and shared by every calling thread.

    Nothing here waits on the loop: the gate binds to the loop that first waits on it and the
    client is made there on first use, so a served judge's session starts without a round trip
    to a loop busy with the model's first wave. ``timeout`` bounds connecting and each wait for
    the next bytes of an answer; the environment's proxies are read once, here."""

    def __init__(self, limit: int, timeout: float, tls: bool) -> None:
        self.pid = os.getpid()
        shared = _LoopThread.get()
        self.loop, self.thread = shared.loop, shared.thread
        self.closed = False
        self.gate = asyncio.Semaphore(limit)
        self.timeout = float(timeout)
        self.proxies = environment_proxies()
        self._proxy_of: dict[tuple[str, str | None, int | None], Proxy | None] = {}
        # certificates are checked against the system store or SSL_CERT_FILE as it is now;
        # made in the caller's thread (loading the store takes milliseconds of the loop's time)
        self._tls = ssl.create_default_context() if tls else None
        self._client: aiohttp.ClientSession | None = None
        atexit.register(self.close)  # an adapter nobody closed still ends its connections cleanly

    def client(self) -> aiohttp.ClientSession:
        """The HTTP client, made on first use; call on the loop's thread only."""
        if self._client is None:
            self._client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=0,  # the gate bounds the requests in flight, and so the connections
                    ssl=self._tls if self._tls is not None else True,
                    ttl_dns_cache=60,
                ),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.timeout, sock_read=self.timeout
                ),
                cookie_jar=aiohttp.DummyCookieJar(),  # a chat endpoint's cookies mean nothing
                headers={
                    "User-Agent": "eval-anything",
                    "Accept": "application/json",
                    "Content-Type": "application/json",  # every body posted is JSON
                },
                trust_env=False,  # proxies come from proxy_for, decided once per origin
            )
        return self._client

    def proxy(self, url: URL) -> Proxy | None:
        """The proxy for ``url``, decided once per scheme, host and port."""
        key = (url.scheme, url.host, url.port)
        try:
            return self._proxy_of[key]
        except KeyError:
            found = self._proxy_of[key] = proxy_for(str(url), self.proxies)
            return found

    def run(self, coro: Any) -> Any:
        """Run ``coro`` on the loop and wait for its result in the calling thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        """Close the client's connections; the shared loop stays for other adapters."""
        atexit.unregister(self.close)
        if self.closed or os.getpid() != self.pid or not self.thread.is_alive():
            return  # a forked child has no loop thread
        self.closed = True
        self.run(self._close())

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()


class Flight:
    """The requests of one call, running as tasks on a :class:`Session`'s loop.

    :meth:`add` hands coroutines to the loop with one cross-thread wake-up per group (not one
    per request, and no thread per request); :meth:`cancel` stops those not yet finished and
    waits until they have stopped. Tasks are created and cancelled on the loop's thread only,
    so the two never race."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.tasks: list[asyncio.Task[Any]] = []  # strong references: the loop keeps weak ones
        self.cancelled = False

    def add(self, coros: list[Coroutine[Any, Any, Any]]) -> None:
        if coros:
            self.session.loop.call_soon_threadsafe(self._create, coros)

    def _create(self, coros: list[Coroutine[Any, Any, Any]]) -> None:
        if self.cancelled:
            for c in coros:
                c.close()
            return
        self.tasks.extend(self.session.loop.create_task(c) for c in coros)

    def cancel(self) -> None:
        """Stop what has not finished (its answers are never delivered)."""
        if self.session.loop.is_closed() or not self.session.thread.is_alive():
            return

        async def stop() -> None:
            self.cancelled = True
            for t in self.tasks:
                t.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)

        self.session.run(stop())
