"""The model adapter protocol. Adapters know nothing of tasks, runs, the store or the CLI: they
turn requests (typed parts) into outputs (typed parts) and log-likelihoods."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from eval_anything.content import Part, TextPart, parts_hash
from eval_anything.model_args import split_top_level

SECRET_ARG_WORDS = ("key", "token", "secret", "password", "authorization")


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

    @classmethod
    def from_parts(
        cls, parts: list[Any], gen: GenerationConfig | None = None, system: str | None = None
    ) -> GenerateRequest:
        msgs = []
        if system:
            msgs.append(Message(role="system", content=[TextPart(text=system)]))
        msgs.append(Message(role="user", content=list(parts)))
        return cls(messages=msgs, gen=gen or GenerationConfig())

    def content_hash(self) -> str:
        h = hashlib.sha256()
        for m in self.messages:
            h.update(m.role.encode() + b"\0" + parts_hash(m.content).encode())
        h.update(self.gen.model_dump_json().encode())
        if not self.apply_chat_template:
            h.update(b"raw-prompt")
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


class ModelOutput(BaseModel):
    """What a model produced for one request."""

    parts: list[Part] = Field(default_factory=list)
    usage: dict[str, int] = Field(default_factory=dict, description="prompt/completion tokens")
    consumed_modalities: list[str] = Field(
        default_factory=list, description="Input modalities the model actually received."
    )
    finish_reason: str | None = None
    error: str | None = Field(
        default=None, description="Set when the request failed for good; the output is then empty."
    )
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="How inputs reached the model (audio resampled, video frames kept, ...).",
    )
    choice_logprobs: list[float] | None = Field(
        default=None, description="Multiple-choice tasks: log-likelihood of each choice."
    )
    choice_greedy: list[bool] | None = Field(
        default=None,
        description="Multiple-choice tasks: whether each choice is the greedy decoding.",
    )

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))


class LoglikelihoodOutput(BaseModel):
    logprobs: list[float] = Field(description="Sum of token log-probs per continuation.")
    greedy: list[bool] = Field(description="Whether each continuation is the argmax decoding.")
    n_tokens: list[int] = Field(default_factory=list)


@dataclass(frozen=True)
class RequestFlow:
    """How an adapter wants its requests handed to it (the runner's scheduling follows it, see
    ``eval_anything/request_flow.py``).

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


class ModelAdapter(ABC):
    """Base class of every adapter (``@register("model", name)``)."""

    input_modalities: ClassVar[tuple[str, ...]] = ("text",)
    output_modalities: ClassVar[tuple[str, ...]] = ("text",)
    supports_loglikelihood: ClassVar[bool] = False

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """Everything that decides outputs: adapter, weights identity, output-changing args.
        Two adapters with equal identity must give equal outputs for equal requests."""

    @property
    def name(self) -> str:
        return str(self.identity().get("name", type(self).__name__))

    def details(self) -> dict[str, Any]:
        """Facts for the results file (dtype, device, chat template sha...)."""
        return {}

    def identity_hash(self) -> str:
        return hashlib.sha256(
            json.dumps(self.identity(), sort_keys=True, default=str).encode()
        ).hexdigest()

    def request_flow(self, batch_size: int) -> RequestFlow:
        """How this adapter wants its requests. The default suits a model computed in this
        process: length-sorted batches of ``batch_size`` (``--batch-size``), one at a time."""
        return RequestFlow.batches(batch_size)

    @abstractmethod
    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]: ...

    def loglikelihood(self, requests: list[LoglikelihoodRequest]) -> list[LoglikelihoodOutput]:
        raise NotImplementedError(
            f"model adapter {type(self).__name__} cannot score log-likelihoods; "
            "use a generate-type task or an adapter with logprobs (hf, vllm)"
        )

    def close(self) -> None:  # noqa: B027 - optional hook
        """Free resources (GPU memory, HTTP clients)."""


def public_args(args: dict[str, Any]) -> dict[str, Any]:
    """Model args with secrets removed, for results files and logs."""
    return {k: v for k, v in args.items() if not any(w in k.lower() for w in SECRET_ARG_WORDS)}


def parse_model_args(text: str | None) -> dict[str, Any]:
    """``'pretrained=DIR,dtype=float32,max_length=2048'`` -> dict with ints/floats/bools typed."""
    out: dict[str, Any] = {}
    if not text:
        return out
    for item in split_top_level(text):
        if "=" not in item:
            raise ValueError(f"--model-args: {item!r} is not key=value (e.g. pretrained=DIR)")
        k, v = item.split("=", 1)
        out[k.strip()] = _coerce(v.strip())
    return out


def _coerce(v: str) -> Any:
    low = v.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v
