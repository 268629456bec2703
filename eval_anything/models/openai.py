"""Any OpenAI-compatible chat endpoint: ``vllm serve``, TGI, llama.cpp server, hosted APIs.

Requests go to ``{base_url}/chat/completions`` from an ``aiohttp.ClientSession``, at most
``max_concurrency`` at a time, and come back in request order. A request that meets a 429, a 5xx,
a 408, a timeout or a dropped connection is retried with exponential backoff and jitter (a
``Retry-After`` from the server is obeyed instead); any other 4xx fails that request at once,
because sending the same bad request again cannot succeed. A request that fails for good gives
``ModelOutput(error=...)``: an error is never passed off as an answer.

Content parts map to the chat format: text as ``text`` parts, images as ``image_url`` data URLs
(PNG/JPEG bytes sent as they are, anything else re-encoded to PNG), audio as ``input_audio``
(WAV/MP3 as they are, anything else re-encoded to WAV), and a video as ``video_frames`` frames
sampled uniformly over the clip, each an ``image_url`` (chat endpoints take no video type that
all servers share; frames are what every vision model accepts).

The API key is read from the environment variable ``api_key_env`` at every call and goes only
into the ``Authorization`` header of that call: it is never an attribute of the adapter, so it
cannot reach the identity, the details, the cache, the results or the logs.

Log-likelihoods are not offered: a chat endpoint applies the server's chat template, and the
``/completions`` ``echo``+``logprobs`` route that some servers keep cannot reproduce that
template client-side, so multiple-choice tasks would be scored on a different prompt than the
one the model is evaluated with. Use ``hf`` (or ``vllm``) for multiple-choice tasks.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import io
import json
import logging
import os
import random
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from eval_anything.core.content import AudioPart, ImagePart, TextPart, VideoPart
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest, Message, RequestFlow
from eval_anything.models.base import ModelAdapter
from eval_anything.redact import redact, register_secret
from eval_anything.registry import register

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRY_STATUSES = frozenset({408, 429})  # plus every 5xx
ERROR_SNIPPET = 300


class RequestFailed(Exception):
    """One request failed for good; the message becomes ``ModelOutput.error``."""


@register("model", "openai")
class OpenAIModel(ModelAdapter):
    """Chat completions from an OpenAI-compatible server.

    Args:
        model: the model name the server knows (``--served-model-name`` for vLLM).
        base_url: the API root, ending in ``/v1``.
        api_key_env: name of the environment variable holding the key (read at call time; no
            ``Authorization`` header is sent when it is unset, as local servers expect).
        max_concurrency: requests in flight at once.
        max_retries: retries after the first attempt, for retryable failures only.
        timeout: seconds per attempt.
        backoff_base, max_backoff: the n-th retry waits about ``backoff_base * 2**n`` seconds
            (jittered to 50-100 %), never more than ``max_backoff``; a ``Retry-After`` is obeyed
            up to ``max_backoff``.
        video_frames: frames sampled from each video part.
        max_tokens_field: ``max_tokens`` (vLLM, TGI) or ``max_completion_tokens`` (newer hosted
            models that refuse ``max_tokens``).
        extra_body: extra JSON fields for every request (e.g. ``{"top_k": 20}``); a JSON string
            is accepted, as ``--model-args`` gives one.
    """

    input_modalities = ("text", "image", "audio", "video")
    output_modalities = ("text",)
    supports_loglikelihood = False

    def __init__(
        self,
        model: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        api_key_env: str = "OPENAI_API_KEY",
        max_concurrency: int = 8,
        max_retries: int = 6,
        timeout: float = 300.0,
        backoff_base: float = 1.0,
        max_backoff: float = 60.0,
        video_frames: int = 8,
        max_tokens_field: str = "max_tokens",
        extra_body: dict[str, Any] | str | None = None,
        api_key: Any = None,
    ) -> None:
        if api_key is not None:
            raise ValueError(
                "--model-args: 'api_key' is not accepted (it would end up in shell history and "
                "logs); export the key in an environment variable and pass its name with "
                "api_key_env=NAME (default OPENAI_API_KEY)"
            )
        if not model:
            raise ValueError(
                "--model-args for 'openai': 'model' is required, the name the server serves "
                "(e.g. model=Qwen/Qwen2.5-7B-Instruct; see GET {base_url}/models)"
            )
        if not str(base_url).startswith(("http://", "https://")):
            raise ValueError(
                f"--model-args for 'openai': base_url={base_url!r} must start with http:// or "
                "https:// (e.g. base_url=http://localhost:8000/v1)"
            )
        if max_concurrency < 1 or max_retries < 0 or video_frames < 1:
            raise ValueError(
                "--model-args for 'openai': need max_concurrency >= 1, max_retries >= 0 and "
                "video_frames >= 1"
            )
        self.model = str(model)
        self.base_url = str(base_url).rstrip("/")
        self.api_key_env = api_key_env
        register_secret(os.environ.get(api_key_env) if api_key_env else None)
        self.max_concurrency = int(max_concurrency)
        self.max_retries = int(max_retries)
        self.timeout = float(timeout)
        self.backoff_base = float(backoff_base)
        self.max_backoff = float(max_backoff)
        self.video_frames = int(video_frames)
        self.max_tokens_field = max_tokens_field
        self.extra_body = _parse_extra_body(extra_body)
        self._live: _Session | None = None
        self._session_lock = threading.Lock()
        import aiohttp  # noqa: F401 - imported with the adapter, not while its first requests wait

    # ------------------------------------------------------------------ identity

    def identity(self) -> dict[str, Any]:
        """Base URL, model and the args that change what is sent; never the key, nor the
        concurrency/retry/timeout knobs, which change how fast, not what, the model answers."""
        return {
            "adapter": "openai",
            "name": self.model,
            "base_url": self.base_url,
            "model": self.model,
            "video_frames": self.video_frames,
            "max_tokens_field": self.max_tokens_field,
            "extra_body": self.extra_body,
        }

    def details(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "model": self.model}

    # ------------------------------------------------------------------ generation

    def request_flow(self, batch_size: int) -> RequestFlow:
        """Up to ``max_concurrency`` requests in flight, each started as soon as a slot frees:
        ``--batch-size`` does not apply to a served model."""
        return RequestFlow.concurrent(self.max_concurrency)

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        """Answers in request order.

        Calls from every thread share one event loop (on a background thread), one HTTP client
        whose connections stay open between calls, and one limit of ``max_concurrency``
        requests in flight: the runner's workers and the scorers asking a judge call at once
        and together never exceed it. Request bodies (media encoding included) are built in
        the calling thread, so the loop only waits on sockets."""
        if not requests:
            return []
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        register_secret(key)  # warnings, errors and stored records never show it
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        prepared = [self._prepare(r, key) for r in requests]
        return self._session().run(self._send_all(prepared, headers, key))

    def _prepare(
        self, req: GenerateRequest, key: str | None
    ) -> tuple[dict[str, Any], list[str]] | ModelOutput:
        """(JSON body, input modalities sent), or the error output of a request that cannot be
        built (a broken media file must not sink the other requests)."""
        try:
            messages, consumed = self.chat_messages(req.messages)
            return self.payload(req, messages), consumed
        except Exception as e:
            return ModelOutput(error=_redact(f"{type(e).__name__}: {e}", key))

    async def _send_all(
        self,
        prepared: list[tuple[dict[str, Any], list[str]] | ModelOutput],
        headers: dict[str, str],
        key: str | None,
    ) -> list[ModelOutput]:
        session = self._live
        assert session is not None

        async def one(item: tuple[dict[str, Any], list[str]] | ModelOutput) -> ModelOutput:
            if isinstance(item, ModelOutput):
                return item
            async with session.gate:
                return await self._answer(session.client, item, headers, key)

        return list(await asyncio.gather(*(one(p) for p in prepared)))

    async def _answer(
        self,
        client: aiohttp.ClientSession,
        prepared: tuple[dict[str, Any], list[str]],
        headers: dict[str, str],
        key: str | None,
    ) -> ModelOutput:
        payload, consumed = prepared
        try:
            url = f"{self.base_url}/chat/completions"
            body = await self._post(client, url, payload, headers)
            return _parse_completion(body, consumed)
        except RequestFailed as e:
            return ModelOutput(error=_redact(str(e), key))
        except Exception as e:  # an unreadable answer fails this request only
            return ModelOutput(error=_redact(f"{type(e).__name__}: {e}", key))

    def _session(self) -> _Session:
        """The live session, started on first use (and again in a forked child, which
        inherits the parent's loop object but not its thread)."""
        with self._session_lock:
            if self._live is None or self._live.pid != os.getpid():
                self._live = _Session(self.max_concurrency, self.timeout)
            return self._live

    def close(self) -> None:
        """Close the HTTP client and stop the loop thread; a later call starts them again."""
        with self._session_lock:
            live, self._live = self._live, None
        if live is not None and live.pid == os.getpid():
            live.close()

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (a child process builds its own session): no loop, thread or lock."""
        state = dict(self.__dict__)
        state["_live"], state["_session_lock"] = None, None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._session_lock = threading.Lock()

    def payload(self, req: GenerateRequest, messages: list[dict[str, Any]]) -> dict[str, Any]:
        gen = req.gen
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            self.max_tokens_field: gen.max_new_tokens,
            "temperature": gen.temperature,
            "top_p": gen.top_p,
        }
        if gen.stop:
            body["stop"] = list(gen.stop)
        if gen.seed is not None:
            body["seed"] = gen.seed
        return {**body, **self.extra_body}

    def chat_messages(self, messages: list[Message]) -> tuple[list[dict[str, Any]], list[str]]:
        """Chat-format messages and the input modalities they carry, in order of appearance.

        A text-only message is sent as a plain string, the form every server accepts (some
        reject content lists for system or assistant turns)."""
        out: list[dict[str, Any]] = []
        consumed: list[str] = []
        for m in messages:
            parts: list[dict[str, Any]] = []
            for p in m.content:
                parts += self._content_parts(p)
                if p.type not in consumed:
                    consumed.append(p.type)
            if all(p["type"] == "text" for p in parts):
                out.append({"role": m.role, "content": "\n".join(p["text"] for p in parts)})
            else:
                out.append({"role": m.role, "content": parts})
        return out, consumed

    def _content_parts(self, part: Any) -> list[dict[str, Any]]:
        if isinstance(part, TextPart):
            return [{"type": "text", "text": part.text}]
        if isinstance(part, ImagePart):
            return [_image_url(image_data_url(part.read_bytes()))]
        if isinstance(part, AudioPart):
            data, fmt = audio_payload(part)
            return [{"type": "input_audio", "input_audio": {"data": data, "format": fmt}}]
        if isinstance(part, VideoPart):
            frames = part.load(max_frames=self.video_frames)
            return [_image_url(_data_url(_jpeg_bytes(f), "image/jpeg")) for f in frames]
        raise TypeError(f"openai adapter cannot send a {type(part).__name__}")

    # ------------------------------------------------------------------ HTTP with retries

    async def _post(
        self,
        client: aiohttp.ClientSession,
        url: str,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        import aiohttp

        last = ""
        for attempt in range(self.max_retries + 1):
            retry_after: float | None = None
            try:
                async with client.post(url, json=payload, headers=headers) as resp:
                    code, raw, resp_headers = resp.status, await resp.read(), resp.headers
            except TimeoutError as e:  # aiohttp's read/connect timeouts are TimeoutErrors
                last = f"timed out after {self.timeout:g} s ({type(e).__name__}) at {url}"
            except aiohttp.ClientError as e:
                last = f"connection error at {url}: {type(e).__name__}: {e}"
            else:
                if 200 <= code < 300:
                    try:
                        data = json.loads(raw)
                    except ValueError:
                        raise RequestFailed(
                            f"HTTP {code} from {url}: body is not JSON: "
                            f"{_text(raw)[:ERROR_SNIPPET]!r}"
                        ) from None
                    if not isinstance(data, dict):
                        raise RequestFailed(f"HTTP {code} from {url}: expected a JSON object")
                    return data
                last = f"HTTP {code} from {url}: {_error_text(raw)}"
                if code not in RETRY_STATUSES and code < 500:
                    raise RequestFailed(last + _hint(code, self.api_key_env))
                retry_after = parse_retry_after(resp_headers)
            if attempt == self.max_retries:
                break
            delay = self.retry_delay(attempt, retry_after)
            log.warning(
                "openai adapter: %s; retry %d/%d in %.3f s",
                redact(last), attempt + 1, self.max_retries, delay,
            )
            await asyncio.sleep(delay)
        raise RequestFailed(f"{last} (gave up after {self.max_retries + 1} attempts)")

    def retry_delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry ``attempt + 1``: the server's ``Retry-After`` when it sent one,
        else exponential backoff with jitter (so many clients do not retry in lockstep)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff)
        ceiling = min(self.max_backoff, self.backoff_base * 2**attempt)
        return ceiling * (0.5 + 0.5 * random.random())


class _Session:
    """An event loop on a daemon thread, with the adapter's HTTP client and its concurrency
    gate: created once per adapter (and process) and shared by every calling thread."""

    def __init__(self, limit: int, timeout: float) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="openai-adapter-loop", daemon=True
        )
        self.thread.start()
        self.client, self.gate = self.run(self._open(limit, timeout))
        atexit.register(self.close)  # an adapter nobody closed still ends its connections cleanly

    @staticmethod
    async def _open(
        limit: int, timeout: float
    ) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        """aiohttp rather than httpx: at 64 requests in flight on a 2-core machine httpx's
        connection pool spent ~40 ms of bookkeeping per request (2.9 s of CPU for 500 requests,
        21 s of wall time against a 1.6 s ideal), aiohttp reached the ideal within 25 %.
        ``timeout`` bounds connecting and each wait for data, as httpx's did."""
        import aiohttp

        return (
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=limit),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout),
            ),
            asyncio.Semaphore(limit),
        )

    def run(self, coro: Any) -> Any:
        """Run ``coro`` on the loop and wait for its result in the calling thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        atexit.unregister(self.close)
        if self.loop.is_closed() or os.getpid() != self.pid:  # a forked child has no loop thread
            return
        try:
            self.run(self.client.close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            if not self.thread.is_alive():
                self.loop.close()


# ---------------------------------------------------------------------- helpers


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


def image_data_url(raw: bytes) -> str:
    """PNG and JPEG go as they are (no re-encoding loss); anything else becomes PNG, which
    every vision endpoint accepts."""
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return _data_url(raw, "image/png")
    if raw.startswith(b"\xff\xd8\xff"):
        return _data_url(raw, "image/jpeg")
    from PIL import Image

    from eval_anything.media.io import image_to_png_bytes

    return _data_url(image_to_png_bytes(Image.open(io.BytesIO(raw)).convert("RGB")), "image/png")


def audio_payload(part: AudioPart) -> tuple[str, str]:
    """(base64 data, format) for ``input_audio``, which takes ``wav`` or ``mp3``."""
    raw = part.read_bytes()
    if raw[:4] == b"RIFF" and raw[8:12] == b"WAVE":
        return base64.b64encode(raw).decode("ascii"), "wav"
    if raw[:3] == b"ID3" or (len(raw) > 1 and raw[0] == 0xFF and raw[1] & 0xE0 == 0xE0):
        return base64.b64encode(raw).decode("ascii"), "mp3"
    from eval_anything.media.io import audio_to_wav_bytes

    wave, sr = part.load()
    return base64.b64encode(audio_to_wav_bytes(wave, sr)).decode("ascii"), "wav"


def _image_url(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def _data_url(raw: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


def _jpeg_bytes(img: Any) -> bytes:
    """Video frames as JPEG: eight PNG frames of a clip would make requests of many MB."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _parse_completion(body: dict[str, Any], consumed: list[str]) -> ModelOutput:
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


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _error_text(raw: bytes) -> str:
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


def _hint(code: int, key_env: str) -> str:
    if code in (401, 403):
        return f" (check the key in ${key_env}, or pass api_key_env=NAME)"
    if code == 404:
        return " (check base_url, which should end in /v1, and the model name)"
    return ""


def _redact(text: str, key: str | None) -> str:
    register_secret(key)
    return redact(text.replace(key, "***") if key else text)


def _parse_extra_body(extra: dict[str, Any] | str | None) -> dict[str, Any]:
    if extra is None:
        return {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except json.JSONDecodeError as e:
            raise ValueError(
                f"--model-args for 'openai': extra_body is not valid JSON ({e}); write e.g. "
                'extra_body={"top_k":20}'
            ) from None
    if not isinstance(extra, dict):
        raise ValueError("--model-args for 'openai': extra_body must be a JSON object")
    return dict(extra)
