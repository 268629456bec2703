"""Log-probabilities of a Janus-style model's image tokens given a prompt, as its image
generation scores them, for DPO on text-to-image preferences.

Janus draws through a second head: in image-generation mode (transformers'
``JanusForConditionalGeneration.generate(..., generation_mode="image")``) the prompt, which the
processor ends with the begin-of-image token, runs through the language model; the hidden state
of its last position goes through ``model.generation_head`` to give the first image token's
logits over the VQ codebook; each chosen token is embedded by
``prepare_embeddings_for_image_generation`` (``generation_embeddings`` then
``generation_aligner``) and fed back for the next one. Teacher-forcing that loop is one forward:
the prompt's text embeddings followed by the image tokens' generation embeddings, the hidden
states from the begin-of-image position up to the last-but-one image token through the
generation head. Training scores the conditional model only: classifier-free guidance is a
sampling-time mix of two forwards, not the distribution being learned.

Positions come from the attention mask, so a left-padded prompt scores as it does alone (the
same prompt may sit in batches of different widths when the reference log-probs are precomputed
and when the policy is trained). The images' tokens are the VQ encoder's codebook indices of the
image processor's pixels, row by row: the grid ``decode_image_tokens`` turns back into pixels.

:func:`route_image_tokens` plugs this into TRL: TRL asks the model for per-token log-probs with
``model(..., labels=..., fused_lm_head=True)``; batches carrying an ``image_token_mask`` then get
the same :class:`trl.trainer.utils.FusedCausalLMOutput` fields from the generation head, so TRL's
losses, metrics and precomputed reference log-probs apply unchanged.
"""

from __future__ import annotations

import types
from typing import Any

import torch

from eval_anything.trainers.setup.cpu_lm_head import full_logits_output

#: what TRL's DPO reads from the fused output (``log_sum_sq_probs`` only with ``use_weighting``)
OUTPUTS = ("log_probs", "entropy", "mean_logits", "is_top1", "log_sum_sq_probs")


def image_token_count(model: Any) -> int:
    """How many tokens image generation writes (``generate`` reads the vision config's count)."""
    return int(model.model.vision_model.config.num_image_tokens)


def vq_image_tokens(model: Any, pixel_values: torch.Tensor) -> torch.Tensor:
    """Each image's codebook indices ``(images, tokens)``, row-major, from the frozen VQ encoder
    (in eval mode whatever mode training left it in, so an image always gives the same tokens)."""
    vq = model.model.vqmodel
    weight = next(vq.parameters())
    training = vq.training
    vq.eval()
    try:
        with torch.no_grad():
            encoded = vq.encode(pixel_values.to(weight.device, weight.dtype))
    finally:
        vq.train(training)
    tokens = encoded.image_tokens.reshape(pixel_values.shape[0], -1)
    expected = image_token_count(model)
    if tokens.shape[1] != expected:
        raise ValueError(
            f"the VQ encoder turned {tuple(pixel_values.shape[-2:])} pixels into "
            f"{tokens.shape[1]} tokens, but this model generates {expected}; the image "
            "processor's size does not match the model (save the checkpoint's own processor)"
        )
    return tokens.cpu()


def image_token_hidden(
    model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor,
    image_token_mask: torch.Tensor,
) -> torch.Tensor:
    """The language model's hidden states over prompt text then image tokens; ``input_ids``
    holds text ids where ``image_token_mask`` is False and codebook indices where it is True."""
    image = image_token_mask.bool()
    text_embeds = model.get_input_embeddings()(input_ids.masked_fill(image, 0))
    image_embeds = model.prepare_embeddings_for_image_generation(input_ids.masked_fill(~image, 0))
    embeds = torch.where(image.unsqueeze(-1), image_embeds.to(text_embeds.dtype), text_embeds)
    positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    out = model.model.language_model(inputs_embeds=embeds, attention_mask=attention_mask,
                                     position_ids=positions, use_cache=False)
    return out.last_hidden_state


def image_token_output(
    model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor,
    image_token_mask: torch.Tensor, labels: torch.Tensor | None = None,
) -> Any:
    """TRL's fused-head fields for the image tokens: position ``t`` scores token ``t + 1``
    through the generation head; zero wherever the next token is not an image token."""
    image = image_token_mask.bool()
    targets = input_ids if labels is None else labels
    targets = targets[:, 1:].masked_fill(~image[:, 1:], -100)
    hidden = image_token_hidden(model, input_ids, attention_mask, image)[:, :-1]
    logits = model.model.generation_head(hidden)
    return full_logits_output(logits, targets.to(logits.device), OUTPUTS)


def image_sequence_logprobs(
    model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor,
    image_token_mask: torch.Tensor,
) -> torch.Tensor:
    """Sum over each row's image tokens of their log-probability given the prompt."""
    out = image_token_output(model, input_ids, attention_mask, image_token_mask)
    return out.log_probs.sum(dim=1)


def route_image_tokens(model: Any) -> bool:
    """Make ``model(..., fused_lm_head=True, image_token_mask=...)`` return the image tokens'
    log-probs (see the module docstring); every other call goes to the forward it replaces, so
    text generation, image generation and saving are unchanged. Returns False when ``model``
    was routed already. Install it after TRL's own fused head, which it takes calls from."""
    if getattr(model, "_routes_image_tokens", False):
        return False
    previous = model.forward

    def forward(self: Any, *args: Any, fused_lm_head: bool = False, labels: Any = None,
                image_token_mask: Any = None, **kwargs: Any) -> Any:
        if image_token_mask is None or not fused_lm_head:
            if fused_lm_head:
                kwargs["fused_lm_head"] = True
            return previous(*args, labels=labels, **kwargs)
        input_ids = args[0] if args else kwargs["input_ids"]
        return image_token_output(self, input_ids, kwargs["attention_mask"], image_token_mask,
                                  labels)

    model.forward = types.MethodType(forward, model)
    model._routes_image_tokens = True
    return True
