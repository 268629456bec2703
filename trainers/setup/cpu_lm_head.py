"""A full-logits LM head for TRL's DPO on a CPU, in place of TRL's chunked ("fused") one.

TRL computes per-token log-probs with a chunked LM head that never builds the ``(tokens, vocab)``
logits: on a GPU a Triton kernel folds each tile, which saves memory at no cost. On a CPU there is
no Triton, every position (prompt included) is projected, and the backward recomputes each tile
and accumulates both gradient GEMMs in float32, outside bf16. Profiled on SmolLM2-135M (4 pairs,
114 tokens, bf16 autocast, 2 threads) that head took 1.7 s of a 3.1 s step. Materializing the
logits, as a plain PyTorch DPO step does, is cheap at CPU batch sizes.

:func:`use_full_logits_head` re-patches a model that TRL patched so that ``forward(...,
fused_lm_head=True)`` returns the same :class:`trl.trainer.utils.FusedCausalLMOutput` fields
(``log_probs``, ``loss``, and ``entropy``, ``log_sum_sq_probs``, ``mean_logits``, ``is_top1`` when
asked) from the model's own LM head, at temperature 1 (DPO's). Anything it does not cover goes to
TRL's head unchanged: scaled or soft-capped logits, pre-shifted labels, MoE router losses, and
batches whose logits would exceed :data:`MAX_LOGITS` elements.
"""

from __future__ import annotations

import logging
import types
from typing import Any

import torch

log = logging.getLogger(__name__)

# Above this many logits (tokens x vocabulary) a call goes to TRL's chunked head (1 GiB in fp32).
MAX_LOGITS = 1 << 28
_SCALING_FIELDS = ("final_logit_softcapping", "logit_scale", "output_multiplier",
                   "lm_head_multiplier", "logits_scaling")


def plain_logits_supported(model: Any) -> bool:
    """True when the model's logits are its LM head's output, unscaled and not soft-capped."""
    config = model.config.get_text_config()
    return all(getattr(config, name, None) in (None, 1.0) for name in _SCALING_FIELDS)


def use_full_logits_head(model: Any, outputs: tuple[str, ...] = ("log_probs",)) -> bool:
    """Route ``fused_lm_head=True`` calls of a TRL-patched ``model`` through full logits.

    Returns False (and changes nothing) when the model is not TRL-patched or its logits are
    scaled. ``outputs`` names the optional fields to compute, as in TRL's ``add_fused_lm_head``.
    """
    fused = model.forward
    if not trl_patched(model) or not plain_logits_supported(model):
        return False

    def forward(self: Any, *args: Any, fused_lm_head: bool = False, labels: Any = None,
                shift_labels: Any = None, num_items_in_batch: Any = None, **kwargs: Any) -> Any:
        if (not fused_lm_head or labels is None or shift_labels is not None
                or kwargs.get("output_router_logits")):
            return fused(*args, fused_lm_head=fused_lm_head, labels=labels,
                         shift_labels=shift_labels, num_items_in_batch=num_items_in_batch, **kwargs)
        vocab = self.get_output_embeddings().weight.shape[0]
        if labels.numel() * vocab > MAX_LOGITS:
            return fused(*args, fused_lm_head=True, labels=labels,
                         num_items_in_batch=num_items_in_batch, **kwargs)
        kwargs["use_cache"] = False
        hidden = self.base_model(*args, **kwargs).last_hidden_state[:, :-1]
        head = self.get_output_embeddings()
        targets = labels[:, 1:].to(head.weight.device)
        return full_logits_output(head(hidden.to(head.weight.device)), targets, outputs,
                                  num_items_in_batch)

    model.forward = types.MethodType(forward, model)
    return True


def trl_patched(model: Any) -> bool:
    """Whether ``model.forward`` is the one TRL's ``add_fused_lm_head`` installed."""
    code = getattr(getattr(model.forward, "__func__", None), "__code__", None)
    return "forward" in vars(model) and getattr(code, "co_name", "") == "_fused_forward"


def full_logits_output(logits: torch.Tensor, targets: torch.Tensor, outputs: tuple[str, ...],
                       num_items_in_batch: Any = None) -> Any:
    """TRL's fused-head output fields from materialized logits; zero where the label is -100."""
    from trl.trainer.utils import FusedCausalLMOutput

    mask = targets != -100
    logits = logits.float()
    logp_all = torch.log_softmax(logits, dim=-1)
    log_probs = logp_all.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    log_probs = log_probs.masked_fill(~mask, 0.0)
    denominator = mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    extra: dict[str, torch.Tensor | None] = dict.fromkeys(
        ("entropy", "log_sum_sq_probs", "mean_logits", "is_top1"))
    with torch.no_grad():  # DPO logs these; none is differentiated through
        probs = logp_all.exp() if {"entropy", "log_sum_sq_probs"} & set(outputs) else None
        if "entropy" in outputs:
            assert probs is not None
            extra["entropy"] = -(probs * logp_all).sum(-1).masked_fill(~mask, 0.0)
        if "log_sum_sq_probs" in outputs:
            assert probs is not None
            extra["log_sum_sq_probs"] = (probs * probs).sum(-1).log().masked_fill(~mask, 0.0)
        if "mean_logits" in outputs:
            extra["mean_logits"] = logits.mean(-1).masked_fill(~mask, 0.0)
        if "is_top1" in outputs:
            extra["is_top1"] = (logits.argmax(-1) == targets) & mask
    return FusedCausalLMOutput(
        loss=-log_probs.sum() / denominator, log_probs=log_probs, label_mask=mask, **extra
    )
