"""What a model gives back: a generation's parts and facts, and log-likelihoods."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from eval_anything.core.content import Part, TextPart


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
