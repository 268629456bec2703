"""The model adapter protocol. Adapters know nothing of tasks, runs, the store or the CLI: they
turn requests (typed parts) into outputs (typed parts) and log-likelihoods."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from eval_anything.content import Part, TextPart, parts_hash

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
    for item in _split_args(text):
        if "=" not in item:
            raise ValueError(f"--model-args: {item!r} is not key=value (e.g. pretrained=DIR)")
        k, v = item.split("=", 1)
        out[k.strip()] = _coerce(v.strip())
    return out


def _split_args(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p for p in parts if p.strip()]


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
