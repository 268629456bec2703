"""The model adapter protocol. Adapters know nothing of tasks, runs, the store or the CLI: they
turn requests (typed parts, :mod:`eval_anything.core.requests`) into outputs
(:mod:`eval_anything.core.outputs`) and log-likelihoods."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from eval_anything.core.outputs import LoglikelihoodOutput, ModelOutput
from eval_anything.core.requests import GenerateRequest, LoglikelihoodRequest, RequestFlow


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
        """The adapter identity's hash: the response cache's key, so two adapters share
        answers only when they give equal outputs."""
        return _digest(self.identity())

    def model_identity(self) -> dict[str, Any]:
        """Who is evaluated, for results and the leaderboard (``ModelInfo.identity``). The
        adapter identity by default; adapters that load checkpoint weights give the weights and
        the settings that change generation instead
        (:func:`~eval_anything.models.weights_identity.checkpoint_identity`), so the same
        checkpoint through two adapters is one model."""
        return self.identity()

    def model_identity_hash(self) -> str:
        return _digest(self.model_identity())

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


def _digest(identity: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
