"""What is asked of a model: decoding settings, chat messages, generation and log-likelihood
requests, and how an adapter wants its requests handed to it (:class:`RequestFlow`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from eval_anything.core.content import Part, TextPart, parts_hash


class GenerationConfig(BaseModel):
    """Decoding settings. All fields change outputs, so all are part of the cache key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = Field(default=None, description="Used when temperature > 0.")

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: str = Field(description="system, user or assistant")
    content: list[Part]


class GenerateRequest(BaseModel):
    """A chat to continue. ``messages`` ends with the user turn."""

    model_config = ConfigDict(frozen=True)

    messages: list[Message]
    gen: GenerationConfig = GenerationConfig()
    apply_chat_template: bool = Field(
        default=True, description="False: the prompt is raw text (lm-eval style), no chat template."
    )
    output_modalities: tuple[str, ...] = Field(
        default=("text",),
        description="What the item asks the model to answer with (the task's output "
        "modalities): an adapter that can emit media natively picks its generation mode from it.",
    )

    @classmethod
    def from_parts(
        cls,
        parts: list[Any],
        gen: GenerationConfig | None = None,
        system: str | None = None,
        output_modalities: tuple[str, ...] = ("text",),
    ) -> GenerateRequest:
        msgs = []
        if system:
            msgs.append(Message(role="system", content=[TextPart(text=system)]))
        msgs.append(Message(role="user", content=list(parts)))
        return cls(
            messages=msgs, gen=gen or GenerationConfig(), output_modalities=tuple(output_modalities)
        )

    @property
    def wants_media(self) -> tuple[str, ...]:
        """The non-text modalities asked for, in request order."""
        return tuple(m for m in self.output_modalities if m != "text")

    def content_hash(self) -> str:
        h = hashlib.sha256()
        for m in self.messages:
            h.update(m.role.encode() + b"\0" + parts_hash(m.content).encode())
        h.update(self.gen.model_dump_json().encode())
        if not self.apply_chat_template:
            h.update(b"raw-prompt")
        if self.output_modalities != ("text",):  # text-only requests keep their old hashes
            h.update(b"out:" + ",".join(self.output_modalities).encode())
        return h.hexdigest()

    @property
    def parts(self) -> list[Any]:
        return [p for m in self.messages for p in m.content]


class LoglikelihoodRequest(BaseModel):
    """Score each continuation given a shared context (the prompt)."""

    model_config = ConfigDict(frozen=True)

    context: list[Message]
    continuations: list[str]
    apply_chat_template: bool = Field(
        default=True, description="Render the context with the chat template (False: raw text)."
    )

    def content_hash(self) -> str:
        h = hashlib.sha256()
        for m in self.context:
            h.update(m.role.encode() + b"\0" + parts_hash(m.content).encode())
        h.update(json.dumps([self.continuations, self.apply_chat_template]).encode())
        return h.hexdigest()


@dataclass(frozen=True)
class RequestFlow:
    """How an adapter wants its requests handed to it (the runner's scheduling follows it, see
    ``eval_anything/run/request_flow.py``).

    - ``batches``: ``size`` requests per call, one call at a time, similar lengths together (a
      local model on this machine: padding is cheap, two calls at once would only contend);
    - ``concurrent``: one request per call and up to ``in_flight`` calls at once from several
      threads, a new one starting as soon as one finishes (a served model: the work happens on
      the server, whose throughput grows with the requests it holds);
    - ``chunks``: many requests per call (``size``; None: the whole task), one call at a time (an
      engine with its own scheduler, such as vLLM, batches best what it sees at once).
    """

    kind: Literal["batches", "concurrent", "chunks"]
    size: int | None  # requests per call; None: all of them in one call
    in_flight: int = 1  # calls at once

    @classmethod
    def batches(cls, size: int) -> RequestFlow:
        if size < 1:
            raise ValueError(f"--batch-size {size}: must be >= 1")
        return cls(kind="batches", size=int(size))

    @classmethod
    def concurrent(cls, limit: int) -> RequestFlow:
        if limit < 1:
            raise ValueError(f"max_concurrency={limit}: must be >= 1")
        return cls(kind="concurrent", size=1, in_flight=int(limit))

    @classmethod
    def chunks(cls, size: int | None) -> RequestFlow:
        return cls(kind="chunks", size=None if not size else max(int(size), 1))

    @property
    def is_concurrent(self) -> bool:
        """Calls may overlap (and come from several threads)."""
        return self.kind == "concurrent"
