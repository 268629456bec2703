"""Any OpenAI-compatible chat endpoint: ``vllm serve``, TGI, llama.cpp server, hosted APIs.

Requests go to ``{base_url}/chat/completions`` over aiohttp's kept-alive connections, at most
``max_concurrency`` at a time, through the proxy the environment names
(:mod:`eval_anything.models.env_proxies`), and come back in request order. A request that
meets a 429, a 5xx, a 408, a timeout or a dropped connection is retried with exponential
backoff and jitter (a ``Retry-After`` from the server is obeyed instead); any other 4xx fails
that request at once, because sending the same bad request again cannot succeed. A request that
fails for good gives ``ModelOutput(error=...)``: an error is never passed off as an answer.
Answers are bounded: ``max_response_bytes`` after decoding, ``request_deadline`` seconds in all
(:mod:`eval_anything.models.openai_post`).

Content parts map to the chat format: text as ``text`` parts, images as ``image_url`` data URLs
(PNG/JPEG bytes sent as they are, anything else re-encoded to PNG), audio as ``input_audio``
(WAV/MP3 as they are, anything else re-encoded to WAV), and a video as ``video_frames`` frames
sampled uniformly over the clip, each an ``image_url`` (chat endpoints take no video type that
all servers share; frames are what every vision model accepts).

Audio answers (``audio_voice=NAME``): a request whose task asks for audio is sent with
``"modalities": ["text", "audio"]`` and ``"audio": {"voice", "format"}``, and the base64 audio of
the answer is stored as a WAV (its transcript is the text when the answer has none); a request
that does not ask for audio sends neither, so text tasks never pay for speech.

The API key is read from the environment variable ``api_key_env`` at every call and goes only
into the ``Authorization`` header of that call: it is never an attribute of the adapter, so it
cannot reach the identity, the details, the cache, the results or the logs.

Log-likelihoods are not offered: a chat endpoint applies the server's chat template, and the
``/completions`` ``echo``+``logprobs`` route that some servers keep cannot reproduce that
template client-side, so multiple-choice tasks would be scored on a different prompt than the
one the model is evaluated with. Use ``hf`` (or ``vllm``) for multiple-choice tasks.
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

from eval_anything.core.content import AudioPart, ImagePart, TextPart, VideoPart
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest, Message, RequestFlow
from eval_anything.models.base import ModelAdapter
from eval_anything.models.env_proxies import environment_proxies, proxy_for
from eval_anything.models.openai_args import (
    DEFAULT_MAX_RESPONSE_BYTES,
    check_transport,
    parse_extra_body,
)
from eval_anything.models.openai_http import Flight, Session, event_loop_choice
from eval_anything.models.openai_media import (
    AUDIO_FORMATS,
    audio_payload,
    chat_audio_answer,
    data_url,
    image_data_url,
    image_url_part,
    jpeg_bytes,
)
from eval_anything.models.openai_post import (
    PostPolicy,
    RequestFailed,
    parse_completion,
    parse_retry_after,
    post_json,
    redact_key,
)
from eval_anything.redact import register_secret
from eval_anything.registry import register

__all__ = ["OpenAIModel", "RequestFailed", "parse_retry_after"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class _Call(NamedTuple):
    """What every request of one call shares."""

    session: Session
    headers: dict[str, str]
    key: str | None
    policy: PostPolicy
    deliver: Callable[[int, ModelOutput], None]


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
        timeout: the longest wait, in seconds, for a connection or for the next bytes of an
            answer (a server that has stopped answering).
        request_deadline: seconds one attempt may take in all, however steadily bytes arrive
            (a server that trickles an answer forever).
        max_response_bytes: the largest answer read, after decoding (gzip included); a larger
            one fails its item with "answer larger than N bytes".
        backoff_base, max_backoff: the n-th retry waits about ``backoff_base * 2**n`` seconds
            (jittered to 50-100 %), never more than ``max_backoff``; a ``Retry-After`` is obeyed
            up to ``max_backoff``.
        video_frames: frames sampled from each video part.
        max_tokens_field: ``max_tokens`` (vLLM, TGI) or ``max_completion_tokens`` (newer hosted
            models that refuse ``max_tokens``).
        extra_body: extra JSON fields for every request (e.g. ``{"top_k": 20}``); a JSON string
            is accepted, as ``--model-args`` gives one.
        audio_voice: the voice of audio answers (``alloy``, ...); set, the model can answer in
            audio, and requests that ask for audio get it.
        audio_format: the format the server encodes audio answers in (``wav``, ``flac``,
            ``mp3``, ``pcm16``); whichever it is, the audio is stored as WAV.
    """

    input_modalities: ClassVar[tuple[str, ...]] = ("text", "image", "audio", "video")
    output_modalities: ClassVar[tuple[str, ...]] = ("text",)
    output_modalities_note: ClassVar[str] = "text; text and audio with audio_voice="
    supports_loglikelihood = False
    #: the ``Accept`` header of every request (the session's JSON default when None)
    accept: ClassVar[str | None] = None

    def __init__(
        self,
        model: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        api_key_env: str = "OPENAI_API_KEY",
        max_concurrency: int = 8,
        max_retries: int = 6,
        timeout: float = 300.0,
        request_deadline: float = 600.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        backoff_base: float = 1.0,
        max_backoff: float = 60.0,
        video_frames: int = 8,
        max_tokens_field: str = "max_tokens",
        extra_body: dict[str, Any] | str | None = None,
        audio_voice: str | None = None,
        audio_format: str = "wav",
        api_key: Any = None,
    ) -> None:
        check_transport(
            "openai", model=model, base_url=base_url, max_concurrency=max_concurrency,
            max_retries=max_retries, timeout=timeout, request_deadline=request_deadline,
            max_response_bytes=max_response_bytes, api_key=api_key,
        )
        if video_frames < 1:
            raise ValueError("--model-args for 'openai': need video_frames >= 1")
        if audio_format not in AUDIO_FORMATS:
            raise ValueError(
                f"--model-args for 'openai': audio_format={audio_format!r}: choose one of "
                f"{', '.join(AUDIO_FORMATS)} (default wav)"
            )
        event_loop_choice()  # a wrong EVAL_ANYTHING_EVENT_LOOP stops the run here, not midway
        # likewise a proxy the client cannot use (SOCKS in ALL_PROXY)
        proxy_for(str(base_url), environment_proxies())
        self.model = str(model)
        self.base_url = str(base_url).rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.api_key_env = api_key_env
        register_secret(os.environ.get(api_key_env) if api_key_env else None)
        self.max_concurrency = int(max_concurrency)
        self.max_retries = int(max_retries)
        self.timeout = float(timeout)
        self.request_deadline = float(request_deadline)
        self.max_response_bytes = int(max_response_bytes)
        self.backoff_base = float(backoff_base)
        self.max_backoff = float(max_backoff)
        self.video_frames = int(video_frames)
        self.max_tokens_field = max_tokens_field
        self.extra_body = parse_extra_body(extra_body)
        self.audio_voice = str(audio_voice) if audio_voice else None
        self.audio_format = audio_format
        if self.audio_voice:
            self.output_modalities = ("text", "audio")  # type: ignore[misc]
        self._live: Session | None = None
        self._session_lock = threading.Lock()

    # ------------------------------------------------------------------ identity

    def identity(self) -> dict[str, Any]:
        """Base URL, model and the args that change what is sent; never the key, nor the
        concurrency, retry, timeout, deadline and answer-size knobs: they decide how fast an
        answer comes or whether it comes at all, never what it says (an answer cut off by
        them is an error, which is neither cached nor scored)."""
        return {
            "adapter": "openai",
            "name": self.model,
            "base_url": self.base_url,
            "model": self.model,
            "video_frames": self.video_frames,
            "max_tokens_field": self.max_tokens_field,
            "extra_body": self.extra_body,
            # only where set: the identities (and cached answers) of text-only setups stay
            **({"audio_voice": self.audio_voice, "audio_format": self.audio_format}
               if self.audio_voice else {}),
        }

    def details(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "model": self.model}

    # ------------------------------------------------------------------ generation

    def request_flow(self, batch_size: int) -> RequestFlow:
        """Up to ``max_concurrency`` requests in flight, each started as soon as a slot frees:
        ``--batch-size`` does not apply to a served model."""
        return RequestFlow.concurrent(self.max_concurrency)

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        """Answers in request order: :meth:`start_generate`, then wait for every answer.

        Calls from every thread share one event loop (on a background thread), one HTTP client
        whose connections stay open between calls, and one limit of ``max_concurrency``
        requests in flight: the runner and the scorers asking a judge call at once and together
        never exceed it. An interrupted wait (Ctrl-C) cancels the call's requests."""
        if not requests:
            return []
        answers: list[ModelOutput | None] = [None] * len(requests)
        left = [len(requests)]
        finished = threading.Event()

        def deliver(i: int, out: ModelOutput) -> None:  # on the loop thread only
            answers[i] = out
            left[0] -= 1
            if left[0] == 0:
                finished.set()

        flight = self.start_generate(requests, deliver)
        try:
            finished.wait()
        except BaseException:
            flight.cancel()
            raise
        return [a for a in answers if a is not None]

    def start_generate(
        self, requests: list[GenerateRequest], deliver: Callable[[int, ModelOutput], None]
    ) -> Flight:
        """Send every request without waiting for any: each becomes a task on the adapter's
        event loop, up to ``max_concurrency`` in flight and the next starting as soon as one
        finishes, and ``deliver(index, output)`` is called on the loop's thread as each answer
        arrives (it must be quick and must not block: a queue's ``put``). A request waiting on the
        server holds no thread, only a task on the loop.

        Request bodies (media encoding included) are built in the calling thread, a group of
        ``max_concurrency`` at a time, each group sent as soon as it is built, so the loop only
        waits on sockets and the first requests do not wait for the last bodies. Returns the
        :class:`Flight`, whose ``cancel()`` stops what has not been answered."""
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        register_secret(key)  # warnings, errors and stored records never show it
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if self.accept:
            headers["Accept"] = self.accept
        session = self._session()
        call = _Call(session, headers, key, self._policy(), deliver)
        flight = Flight(session)
        step = self.max_concurrency
        try:
            for lo in range(0, len(requests), step):
                group = requests[lo : lo + step]
                flight.add(
                    [self._one(call, i, self._prepare(r, key)) for i, r in enumerate(group, lo)]
                )
        except BaseException:  # interrupted while building: nothing may stay in flight unowned
            flight.cancel()
            raise
        return flight

    def _prepare(
        self, req: GenerateRequest, key: str | None
    ) -> tuple[bytes, list[str]] | ModelOutput:
        """(JSON body as bytes, input modalities sent), or the error output of a request that
        cannot be built (a broken media file must not sink the other requests). Encoded here,
        in the calling thread, so that the event loop only moves bytes."""
        try:
            messages, consumed = self.chat_messages(req.messages)
            return json.dumps(self.payload(req, messages)).encode(), consumed
        except Exception as e:
            return ModelOutput(error=redact_key(f"{type(e).__name__}: {e}", key))

    async def _one(
        self, call: _Call, index: int, item: tuple[bytes, list[str]] | ModelOutput
    ) -> None:
        if isinstance(item, ModelOutput):
            out = item
        else:
            async with call.session.gate:
                out = await self._answer(call, item)
        call.deliver(index, out)

    async def _answer(self, call: _Call, prepared: tuple[bytes, list[str]]) -> ModelOutput:
        payload, consumed = prepared
        try:
            body = await post_json(call.session, self.url, payload, call.headers, call.policy)
            out = parse_completion(body, consumed)
            return chat_audio_answer(out, body, self.audio_format) if self.audio_voice else out
        except RequestFailed as e:
            return ModelOutput(error=redact_key(str(e), call.key))
        except Exception as e:  # an unreadable answer fails this request only
            return ModelOutput(error=redact_key(f"{type(e).__name__}: {e}", call.key))

    def _policy(self) -> PostPolicy:
        return PostPolicy(
            max_retries=self.max_retries,
            timeout=self.timeout,
            deadline=self.request_deadline,
            max_bytes=self.max_response_bytes,
            retry_delay=self.retry_delay,
            api_key_env=self.api_key_env,
        )

    def _session(self) -> Session:
        """The live session, started on first use (and again in a forked child, which
        inherits the parent's loop object but not its thread)."""
        with self._session_lock:
            if self._live is None or self._live.pid != os.getpid():
                tls = self.url.startswith("https://")
                self._live = Session(self.max_concurrency, self.timeout, tls)
            return self._live

    def close(self) -> None:
        """Close the HTTP client (the shared loop thread stays); a later call opens a new one."""
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
        if self.audio_voice and "audio" in req.wants_media:
            body["modalities"] = ["text", "audio"]
            body["audio"] = {"voice": self.audio_voice, "format": self.audio_format}
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
            return [image_url_part(image_data_url(part.read_bytes()))]
        if isinstance(part, AudioPart):
            data, fmt = audio_payload(part)
            return [{"type": "input_audio", "input_audio": {"data": data, "format": fmt}}]
        if isinstance(part, VideoPart):
            frames = part.load(max_frames=self.video_frames)
            return [image_url_part(data_url(jpeg_bytes(f), "image/jpeg")) for f in frames]
        raise TypeError(f"openai adapter cannot send a {type(part).__name__}")

    def retry_delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry ``attempt + 1``: the server's ``Retry-After`` when it sent one,
        else exponential backoff with jitter (so many clients do not retry in lockstep)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff)
        ceiling = min(self.max_backoff, self.backoff_base * 2**attempt)
        return ceiling * (0.5 + 0.5 * random.random())

