"""The HTTP side of the ``openai`` adapter (``eval_anything/models/openai.py``): one event loop
on a daemon thread, a connection pool (:mod:`eval_anything.models.http_pool`) and one
concurrency gate per adapter, the POST with retries, and reading a completion or an error
body."""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import json
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from eval_anything.core.content import TextPart
from eval_anything.core.outputs import ModelOutput
from eval_anything.errors import ConfigError
from eval_anything.models.http_pool import ConnectionPool
from eval_anything.models.http_response import ConnectionFailed
from eval_anything.redact import redact, register_secret

# retry warnings are the adapter's: users filter and tests capture them under its name
log = logging.getLogger("eval_anything.models.openai")

RETRY_STATUSES = frozenset({408, 429})  # plus every 5xx
ERROR_SNIPPET = 300


class RequestFailed(Exception):
    """One request failed for good; the message becomes ``ModelOutput.error``."""


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
    """The served adapters' event loop (see :func:`event_loop_choice`). uvloop's by default:
    with the adapter's own HTTP client on it, 500 judged requests at 256 in flight took 0.66 s
    against 0.69 s on asyncio's loop (ideal 0.60 s; ``docs/benchmarks.md``)."""
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
    """The adapter's connection pool and its concurrency gate, on the process's shared event
    loop (see :class:`_LoopThread`): created once per adapter and shared by every calling
    thread."""

    def __init__(self, url: str, limit: int, timeout: float) -> None:
        self.pid = os.getpid()
        shared = _LoopThread.get()
        self.loop, self.thread = shared.loop, shared.thread
        self.closed = False
        self.pool = ConnectionPool(url, timeout)
        # binds to the loop that first waits on it, so it is made here without a round trip to
        # the loop (a served judge's session starts while the loop reads the model's first wave)
        self.gate = asyncio.Semaphore(limit)
        atexit.register(self.close)  # an adapter nobody closed still ends its connections cleanly

    def run(self, coro: Any) -> Any:
        """Run ``coro`` on the loop and wait for its result in the calling thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        """Close the pool's connections; the shared loop stays for other adapters."""
        atexit.unregister(self.close)
        if self.closed or os.getpid() != self.pid or not self.thread.is_alive():
            return  # a forked child has no loop thread
        self.closed = True
        self.run(self._close())

    async def _close(self) -> None:
        self.pool.close()


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


async def post_json(
    pool: ConnectionPool,
    url: str,
    body: bytes,
    headers: dict[str, str],
    max_retries: int,
    timeout: float,
    retry_delay: Callable[[int, float | None], float],
    api_key_env: str,
) -> dict[str, Any]:
    """The JSON object a 2xx answer to ``body`` (JSON bytes) at ``url`` (the pool's, named in
    messages) carries, retrying what may succeed when tried again (see the adapter's
    docstring); :class:`RequestFailed` when it fails for good."""
    last = ""
    for attempt in range(max_retries + 1):
        retry_after: float | None = None
        try:
            resp = await pool.post(body, headers)
        except TimeoutError as e:
            last = f"timed out after {timeout:g} s ({e}) at {url}"
        except ConnectionFailed as e:
            last = f"connection error at {url}: {e}"
        else:
            code, raw = resp.status, resp.body
            if 200 <= code < 300:
                try:
                    data = json.loads(raw)
                except ValueError:
                    raise RequestFailed(
                        f"HTTP {code} from {url}: body is not JSON: {_text(raw)[:ERROR_SNIPPET]!r}"
                    ) from None
                if not isinstance(data, dict):
                    raise RequestFailed(f"HTTP {code} from {url}: expected a JSON object")
                return data
            last = f"HTTP {code} from {url}: {error_text(raw)}"
            if code not in RETRY_STATUSES and code < 500:
                raise RequestFailed(last + _hint(code, api_key_env))
            retry_after = parse_retry_after(resp.headers)
        if attempt == max_retries:
            break
        delay = retry_delay(attempt, retry_after)
        log.warning(
            "openai adapter: %s; retry %d/%d in %.3f s",
            redact(last),
            attempt + 1,
            max_retries,
            delay,
        )
        await asyncio.sleep(delay)
    raise RequestFailed(f"{last} (gave up after {max_retries + 1} attempts)")


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (OpenAI) or ``Retry-After`` (seconds or an HTTP
    date); None when absent or unreadable."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def parse_completion(body: dict[str, Any], consumed: list[str]) -> ModelOutput:
    choices = body.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        raise RequestFailed(f"response has no choices: {json.dumps(body)[:ERROR_SNIPPET]}")
    choice = choices[0]
    msg = choice.get("message") or {}
    content = msg.get("content")
    if isinstance(content, list):  # some servers answer in content parts
        content = "".join(c.get("text", "") for c in content if isinstance(c, dict))
    text = content if isinstance(content, str) else (msg.get("refusal") or "")
    usage = body.get("usage") or {}
    return ModelOutput(
        parts=[TextPart(text=text)],
        usage={
            k: int(usage[k])
            for k in ("prompt_tokens", "completion_tokens")
            if isinstance(usage.get(k), int)
        },
        consumed_modalities=consumed,
        finish_reason=choice.get("finish_reason"),
    )


def error_text(raw: bytes) -> str:
    """The server's own error message (OpenAI ``error.message``, FastAPI ``detail``, TGI
    ``error``), else the start of the body."""
    try:
        data = json.loads(raw)
    except ValueError:
        return _text(raw)[:ERROR_SNIPPET]
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            err = err.get("message", err)
        if err is not None:
            return str(err)[:ERROR_SNIPPET]
    return json.dumps(data)[:ERROR_SNIPPET]


def redact_key(text: str, key: str | None) -> str:
    register_secret(key)
    return redact(text.replace(key, "***") if key else text)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _hint(code: int, key_env: str) -> str:
    if code in (401, 403):
        return f" (check the key in ${key_env}, or pass api_key_env=NAME)"
    if code == 404:
        return " (check base_url, which should end in /v1, and the model name)"
    return ""
