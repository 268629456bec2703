"""Posting one request of the ``openai`` adapter (``eval_anything/models/openai.py``) over its
:class:`~eval_anything.models.openai_http.Session`, and reading what comes back.

:func:`post` sends JSON bytes to a URL and returns the 2xx answer as it came (content type and
decoded bytes: a completion's JSON, or the audio or image bytes of a media endpoint);
:func:`post_json` reads that answer as a JSON object. Each attempt:

- goes through the proxy the environment names for its origin (``env_proxies``);
- follows ``307``/``308`` redirects, which keep the method and body, up to
  :data:`MAX_REDIRECTS` (the key is not sent on to another origin, as curl does);
  ``301``/``302``/``303`` would turn the POST into a GET, so they fail with their ``Location``;
- reads the answer piece by piece, after decoding gzip or deflate, and stops at ``max_bytes``
  ("answer larger than N bytes"), so an endless or inflating body costs at most that much
  memory; an error body is read to :data:`ERROR_BODY_BYTES` only;
- ends after ``deadline`` seconds in all, however steadily bytes arrive (the client's own
  ``timeout`` bounds each wait for the next bytes).

A 429, 408, 5xx, timeout or broken connection is retried with the adapter's backoff (a
``Retry-After`` obeyed instead); anything else fails the request at once, since sending it
again would get the same answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from yarl import URL

from eval_anything.core.content import TextPart
from eval_anything.core.outputs import ModelOutput
from eval_anything.models.openai_http import Session
from eval_anything.redact import redact, register_secret

# retry warnings are the adapter's: users filter and tests capture them under its name
log = logging.getLogger("eval_anything.models.openai")

RETRY_STATUSES = frozenset({408, 429})  # plus every 5xx
ERROR_SNIPPET = 300
ERROR_BODY_BYTES = 64 * 1024  # of an error answer: enough for its message, never a flood
MAX_REDIRECTS = 5


class RequestFailed(Exception):
    """One request failed for good; the message becomes ``ModelOutput.error``."""


class _Retryable(Exception):
    """One attempt failed in a way that another may not (the message says how)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class PostPolicy:
    """How the adapter's requests are sent (its model args)."""

    max_retries: int
    timeout: float  # the longest wait for the next bytes; in messages
    deadline: float  # seconds one attempt may take in all
    max_bytes: int  # the largest answer read, after decoding
    retry_delay: Callable[[int, float | None], float]
    api_key_env: str


@dataclass(frozen=True)
class Answer:
    """A 2xx answer: its status, content type and whole body (decoded)."""

    status: int
    content_type: str
    body: bytes


async def post_json(
    session: Session, url: str, body: bytes, headers: dict[str, str], policy: PostPolicy
) -> dict[str, Any]:
    """The JSON object of the 2xx answer to ``body`` at ``url`` (see :func:`post`)."""
    answer = await post(session, url, body, headers, policy)
    try:
        data = json.loads(answer.body)
    except ValueError:
        raise RequestFailed(
            f"HTTP {answer.status} from {url}: body is not JSON: "
            f"{_text(answer.body)[:ERROR_SNIPPET]!r}"
        ) from None
    if not isinstance(data, dict):
        raise RequestFailed(f"HTTP {answer.status} from {url}: expected a JSON object")
    return data


async def post(
    session: Session, url: str, body: bytes, headers: dict[str, str], policy: PostPolicy
) -> Answer:
    """POST ``body`` (JSON bytes) to ``url`` until a 2xx answer, retrying what may succeed
    when tried again; :class:`RequestFailed` when it fails for good."""
    last = ""
    for attempt in range(policy.max_retries + 1):
        try:
            return await _attempt(session, url, body, headers, policy)
        except _Retryable as e:
            last, retry_after = str(e), e.retry_after
        if attempt == policy.max_retries:
            break
        delay = policy.retry_delay(attempt, retry_after)
        log.warning(
            "openai adapter: %s; retry %d/%d in %.3f s",
            redact(last), attempt + 1, policy.max_retries, delay,
        )
        await asyncio.sleep(delay)
    raise RequestFailed(f"{last} (gave up after {policy.max_retries + 1} attempts)")


async def _attempt(
    session: Session, url: str, body: bytes, headers: dict[str, str], policy: PostPolicy
) -> Answer:
    """One attempt, redirects included, within ``policy.deadline``."""
    where = [URL(url)]  # where the attempt is now: errors name the redirect's Location
    deadline = asyncio.timeout(policy.deadline)
    try:
        async with deadline:
            return await _follow(session, where, body, headers, policy)
    except aiohttp.ConnectionTimeoutError:
        raise _Retryable(
            f"timed out after {policy.timeout:g} s (connecting took longer) at {_at(where, url)}"
        ) from None
    except aiohttp.ServerTimeoutError:
        raise _Retryable(
            f"timed out after {policy.timeout:g} s (no data for {policy.timeout:g} s) at "
            f"{_at(where, url)}"
        ) from None
    except TimeoutError as e:
        if not deadline.expired():
            raise _Retryable(f"timed out at {_at(where, url)}: {e}") from None
        raise _Retryable(
            f"timed out: no whole answer within request_deadline={policy.deadline:g} s at "
            f"{_at(where, url)}"
        ) from None
    except aiohttp.ClientConnectorCertificateError as e:
        raise _Retryable(
            f"connection error at {_at(where, url)}: {_os_error(e)}; if the server's "
            "certificate is signed by your own authority, point SSL_CERT_FILE at its PEM file"
        ) from None
    except aiohttp.ClientProxyConnectionError as e:
        proxy = session.proxy(where[-1])
        via = f"the proxy {proxy.shown} (from {proxy.variable})" if proxy else "the proxy"
        raise _Retryable(
            f"connection error at {_at(where, url)}: cannot reach {via}: {_os_error(e)}"
        ) from None
    except aiohttp.ClientConnectorError as e:
        raise _Retryable(
            f"connection error at {_at(where, url)}: cannot connect to {e.host}:{e.port} "
            f"({_os_error(e)})"
        ) from None
    except aiohttp.ServerDisconnectedError:
        raise _Retryable(
            f"connection error at {_at(where, url)}: the server closed the connection before "
            "answering"
        ) from None
    except aiohttp.ClientPayloadError as e:
        raise _Retryable(
            f"connection error at {_at(where, url)}: the answer broke off ({e})"
        ) from None
    except aiohttp.ClientHttpProxyError as e:
        raise _Retryable(
            f"connection error at {_at(where, url)}: the proxy answered {e.status} {e.message}"
        ) from None
    except aiohttp.ClientResponseError as e:  # the answer is not HTTP the client can read
        raise _Retryable(
            f"connection error at {_at(where, url)}: unreadable answer ({e.message})"
        ) from None
    except aiohttp.ClientError as e:
        raise _Retryable(
            f"connection error at {_at(where, url)}: {type(e).__name__}: {e}"
        ) from None


async def _follow(
    session: Session, where: list[URL], body: bytes, headers: dict[str, str], policy: PostPolicy
) -> Answer:
    client = session.client()
    first = where[0]
    for _ in range(MAX_REDIRECTS + 1):
        target = where[-1]
        proxy = session.proxy(target)
        same_origin = target is first or target.origin() == first.origin()
        async with client.post(
            target,
            data=body,
            headers=headers if same_origin else _without_key(headers),
            allow_redirects=False,
            proxy=proxy.url if proxy else None,  # its user:password@ is proxy authentication
        ) as resp:
            status = resp.status
            if status in (307, 308):
                where.append(_location(resp, target))
                continue
            if 200 <= status < 300:
                data = await _read(resp, policy.max_bytes, target)
                return Answer(status, resp.content_type, data)
            raw = await _read(resp, ERROR_BODY_BYTES, target, truncate=True)
            message = f"HTTP {status} from {_at(where, str(first))}: {error_text(raw)}"
            if 300 <= status < 400:
                raise RequestFailed(
                    f"HTTP {status} from {_at(where, str(first))}: moved to "
                    f"{resp.headers.get('Location', '(no Location)')}; only 307 and 308 "
                    "redirects are followed (they keep the POST): set base_url to the new "
                    "address"
                )
            if status not in RETRY_STATUSES and status < 500:
                raise RequestFailed(message + _hint(status, policy.api_key_env))
            raise _Retryable(message, parse_retry_after(resp.headers))
    raise RequestFailed(f"more than {MAX_REDIRECTS} redirects from {first} (the last to {target})")


async def _read(
    resp: aiohttp.ClientResponse, limit: int, target: URL, truncate: bool = False
) -> bytes:
    """The body, decoded, piece by piece as it arrives (each piece is what the client holds at
    once, bounded by its flow control): at most ``limit`` bytes are ever kept. Over it, the
    connection is closed and the request fails, or (``truncate``) the start is kept."""
    pieces: list[bytes] = []  # joined once at the end: no buffer grown and copied on the way
    size = 0
    while piece := await resp.content.readany():
        pieces.append(piece)
        size += len(piece)
        if size > limit:
            resp.close()  # the rest is never read: the connection cannot carry another request
            if truncate:
                return b"".join(pieces)[:limit]
            raise RequestFailed(
                f"HTTP {resp.status} from {target}: answer larger than {limit} bytes "
                "(max_response_bytes; raise it if answers this large are expected)"
            )
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def _location(resp: aiohttp.ClientResponse, target: URL) -> URL:
    """Where a 307/308 sends the request, resolved against ``target``."""
    location = resp.headers.get("Location")
    if not location:
        raise RequestFailed(f"HTTP {resp.status} from {target} without a Location header")
    try:
        nxt = target.join(URL(location))
    except ValueError:
        raise RequestFailed(
            f"HTTP {resp.status} from {target}: unreadable Location {location!r}"
        ) from None
    if nxt.scheme not in ("http", "https") or not nxt.host:
        raise RequestFailed(
            f"HTTP {resp.status} from {target}: redirected to {location!r}, not an http:// or "
            "https:// URL"
        )
    return nxt


def _at(where: list[URL], url: str) -> str:
    """The URL an error happened at, with the redirects that led there."""
    if len(where) == 1:
        return url
    return f"{where[-1]} (redirected from {url})"


def _without_key(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != "authorization"}


def _os_error(e: aiohttp.ClientConnectorError) -> str:
    """The system's words for why connecting failed ("Connection refused")."""
    err = e.os_error
    if isinstance(err, ssl.SSLCertVerificationError):
        return str(err.verify_message or err)
    if err.errno and not isinstance(err, ssl.SSLError):
        return os.strerror(err.errno)
    return str(err.strerror or err)


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
