"""Generators on OpenAI-compatible media endpoints: ``openai_image`` (``POST
{base_url}/images/generations``) and ``openai_speech`` (``POST {base_url}/audio/speech``).

Each turns the last user turn's text into one image (PNG) or one speech clip (WAV): a model of
its own on instruction-following tasks (``--model openai_image --model-args
base_url=URL,model=M --tasks mini_amg_if_image``) or an agent's part (``image=openai_image,
image.base_url=URL,image.model=M``). They are the ``openai`` chat adapter with another route:
the same event loop, connections, ``max_concurrency`` requests in flight, retries with backoff,
``Retry-After``, redirects, answer-size cap, deadline, key handling and redaction, and the same
accounting (a request that fails for good is an error output: the item is recorded as failed,
the run exits 3 and the next run into the folder sends it again). An answer that is not the
medium asked for (JSON where audio was expected, bytes that do not decode) fails its item.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any, ClassVar

from eval_anything.core.content import AudioPart, ImagePart, text_of
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest
from eval_anything.models.openai import DEFAULT_BASE_URL, OpenAIModel, _Call
from eval_anything.models.openai_args import DEFAULT_MAX_RESPONSE_BYTES
from eval_anything.models.openai_media import wav_from_answer
from eval_anything.models.openai_post import (
    ERROR_SNIPPET,
    Answer,
    RequestFailed,
    error_text,
    post,
    redact_key,
)
from eval_anything.registry import register

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _ServedGenerator(OpenAIModel):
    """A media endpoint behind the chat adapter's machinery: a subclass says its route
    (``route``), the medium it emits (``output_modalities``), the JSON body of one instruction
    (:meth:`body`) and how an answer becomes the media part (:meth:`media`)."""

    input_modalities = ("text",)
    adapter_name: ClassVar[str] = ""
    route: ClassVar[str] = ""

    def _transport(self, **kw: Any) -> None:
        """The chat adapter's checks and transport, pointed at this generator's route."""
        super().__init__(**kw)
        self.url = f"{self.base_url}/{self.route}"

    def settings(self) -> dict[str, Any]:
        """The args that change what is rendered (in the identity and each output's details)."""
        raise NotImplementedError

    def body(self, instruction: str) -> dict[str, Any]:
        raise NotImplementedError

    def media(self, answer: Answer) -> tuple[ImagePart | AudioPart, dict[str, Any]]:
        raise NotImplementedError

    def identity(self) -> dict[str, Any]:
        """Endpoint, model and rendering settings; like the chat adapter's, never the key nor
        the knobs that decide only how fast (or whether) an answer comes."""
        return {"adapter": self.adapter_name, "name": self.model, "base_url": self.base_url,
                "model": self.model, **self.settings(), "extra_body": self.extra_body}

    def details(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "model": self.model, **self.settings()}

    def _prepare(
        self, req: GenerateRequest, key: str | None
    ) -> tuple[bytes, list[str]] | ModelOutput:
        instruction = text_of(req.messages[-1].content).strip() if req.messages else ""
        if not instruction:
            return ModelOutput(error=f"{self.route}: the request has no text to render")
        body = {**self.body(instruction), **self.extra_body}
        return json.dumps(body).encode(), ["text"]

    async def _answer(self, call: _Call, prepared: tuple[bytes, list[str]]) -> ModelOutput:
        payload, consumed = prepared
        try:
            answer = await post(call.session, self.url, payload, call.headers, call.policy)
            part, facts = self.media(answer)
        except RequestFailed as e:
            return ModelOutput(error=redact_key(str(e), call.key))
        except Exception as e:  # an answer that is not the medium fails this request only
            message = f"{type(e).__name__} in the answer of {self.url}: {e}"
            return ModelOutput(error=redact_key(message, call.key))
        generation = {**self.settings(), **facts}
        return ModelOutput(parts=[part], consumed_modalities=consumed,
                           details={"generation": generation})


def _transport_args(
    model: str | None, base_url: str, api_key_env: str, max_concurrency: int, max_retries: int,
    timeout: float, request_deadline: float, max_response_bytes: int, backoff_base: float,
    max_backoff: float, extra_body: dict[str, Any] | str | None, api_key: Any,
) -> dict[str, Any]:
    return dict(
        model=model, base_url=base_url, api_key_env=api_key_env,
        max_concurrency=max_concurrency, max_retries=max_retries, timeout=timeout,
        request_deadline=request_deadline, max_response_bytes=max_response_bytes,
        backoff_base=backoff_base, max_backoff=max_backoff, extra_body=extra_body,
        api_key=api_key,
    )


@register("model", "openai_image")
class OpenAIImageGenerator(_ServedGenerator):
    """One PNG per instruction from ``{base_url}/images/generations``.

    Args (besides the transport args of ``openai``: ``model``, ``base_url``, ``api_key_env``,
    ``max_concurrency``, ``max_retries``, ``timeout``, ``request_deadline``,
    ``max_response_bytes``, ``backoff_base``, ``max_backoff``, ``extra_body``):
        size: ``WIDTHxHEIGHT`` as the server takes it (``1024x1024``).
        quality, style: sent when set (``quality=hd``, ``style=natural``; servers differ).
        response_format: ``b64_json`` (the image in the answer); ``none`` leaves the field
            out, for servers that refuse it and answer base64 anyway (gpt-image-1).
    """

    adapter_name = "openai_image"
    route = "images/generations"
    output_modalities = ("image",)

    def __init__(
        self,
        model: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        size: str = "1024x1024",
        quality: str | None = None,
        style: str | None = None,
        response_format: str | None = "b64_json",
        api_key_env: str = "OPENAI_API_KEY",
        max_concurrency: int = 8,
        max_retries: int = 6,
        timeout: float = 300.0,
        request_deadline: float = 600.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        backoff_base: float = 1.0,
        max_backoff: float = 60.0,
        extra_body: dict[str, Any] | str | None = None,
        api_key: Any = None,
    ) -> None:
        width, x, height = str(size).lower().partition("x")
        if not (x and width.isdigit() and height.isdigit()) and str(size) != "auto":
            raise ValueError(
                f"--model-args for 'openai_image': size={size!r}: write WIDTHxHEIGHT "
                "(e.g. size=1024x1024) or auto"
            )
        if response_format not in (None, "b64_json"):
            raise ValueError(
                f"--model-args for 'openai_image': response_format={response_format!r}: the "
                "image must come in the answer; use b64_json (or none to leave the field out)"
            )
        self._transport(**_transport_args(
            model, base_url, api_key_env, max_concurrency, max_retries, timeout,
            request_deadline, max_response_bytes, backoff_base, max_backoff, extra_body, api_key,
        ))
        self.size, self.quality, self.style = str(size), quality, style
        self.response_format = response_format

    def settings(self) -> dict[str, Any]:
        given = {"quality": self.quality, "style": self.style}
        return {"size": self.size, **{k: v for k, v in given.items() if v is not None}}

    def body(self, instruction: str) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "prompt": instruction, "n": 1,
                                **self.settings()}
        if self.response_format:
            body["response_format"] = self.response_format
        return body

    def media(self, answer: Answer) -> tuple[ImagePart, dict[str, Any]]:
        from PIL import Image

        from eval_anything.media.io import image_to_png_bytes

        data = _json_object(answer, self.url).get("data")
        first = data[0] if isinstance(data, list) and data else None
        if not isinstance(first, dict) or not first.get("b64_json"):
            where = "a URL" if isinstance(first, dict) and first.get("url") else "no image"
            raise ValueError(f"data[0] holds {where}, not b64_json (send response_format=b64_json)")
        raw = base64.b64decode(first["b64_json"], validate=True)
        with Image.open(io.BytesIO(raw)) as img:
            img.load()  # the whole image decodes, not just its header
            png = raw if raw.startswith(PNG_MAGIC) else image_to_png_bytes(img.convert("RGB"))
            facts: dict[str, Any] = {"width": img.width, "height": img.height}
        if isinstance(first.get("revised_prompt"), str):
            facts["revised_prompt"] = first["revised_prompt"]
        return ImagePart(data=png, mime="image/png"), facts


@register("model", "openai_speech")
class OpenAISpeechGenerator(_ServedGenerator):
    """One WAV per instruction from ``{base_url}/audio/speech`` (the instruction read aloud).

    Args (besides the transport args of ``openai``, as for ``openai_image``):
        voice: the server's voice name (``alloy``).
        speed: sent when set (0.25-4.0 on OpenAI).
        instructions: how to speak, sent when set (``gpt-4o-mini-tts``).
    """

    adapter_name = "openai_speech"
    route = "audio/speech"
    output_modalities = ("audio",)
    accept = "audio/wav, audio/*;q=0.9, application/octet-stream;q=0.5"

    def __init__(
        self,
        model: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        voice: str = "alloy",
        speed: float | None = None,
        instructions: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        max_concurrency: int = 8,
        max_retries: int = 6,
        timeout: float = 300.0,
        request_deadline: float = 600.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        backoff_base: float = 1.0,
        max_backoff: float = 60.0,
        extra_body: dict[str, Any] | str | None = None,
        api_key: Any = None,
    ) -> None:
        if not voice:
            raise ValueError("--model-args for 'openai_speech': voice= is required (e.g. alloy)")
        if speed is not None and not speed > 0:
            raise ValueError(f"--model-args for 'openai_speech': speed={speed} must be > 0")
        self._transport(**_transport_args(
            model, base_url, api_key_env, max_concurrency, max_retries, timeout,
            request_deadline, max_response_bytes, backoff_base, max_backoff, extra_body, api_key,
        ))
        self.voice, self.speed, self.instructions = str(voice), speed, instructions

    def settings(self) -> dict[str, Any]:
        given = {"speed": self.speed, "instructions": self.instructions}
        return {"voice": self.voice, **{k: v for k, v in given.items() if v is not None}}

    def body(self, instruction: str) -> dict[str, Any]:
        return {"model": self.model, "input": instruction, **self.settings(),
                "response_format": "wav"}

    def media(self, answer: Answer) -> tuple[AudioPart, dict[str, Any]]:
        kind = answer.content_type.lower()
        if not (kind.startswith("audio/") or kind in ("application/octet-stream", "")):
            raise ValueError(
                f"content type {answer.content_type!r}, not audio: {error_text(answer.body)}"
            )
        wav, seconds = wav_from_answer(answer.body, "wav")
        return AudioPart(data=wav, mime="audio/wav"), {"seconds": round(seconds, 3)}


def _json_object(answer: Answer, url: str) -> dict[str, Any]:
    try:
        data = json.loads(answer.body)
    except ValueError:
        snippet = answer.body[:ERROR_SNIPPET].decode("utf-8", errors="replace")
        raise ValueError(f"body is not JSON: {snippet!r}") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object from {url}")
    return data
