"""Text-to-image preference pairs batched for DPO of a model that draws: the prompt as the model
reads it in image-generation mode, then the chosen or the rejected image as the model's image
tokens.

Each batch has the fields TRL's own DPO collator makes, so TRL's trainer, losses and
precomputed reference log-probs take it as it is: ``input_ids`` (chosen rows first, then
rejected), ``attention_mask``, ``completion_mask`` (1 on the image tokens, which are what DPO
scores), ``ref_chosen_logps``/``ref_rejected_logps`` when precomputed; plus ``image_token_mask``,
which tells the model where ``input_ids`` holds codebook indices instead of text ids (see
:mod:`eval_anything.trainers.algorithms.image_token_logprobs`).

The prompt is built as the ``hf`` adapter builds it when it scores the checkpoint (the
processor's chat template over one user turn, when it has one), then passed to the processor
with ``generation_mode="image"``, which ends it with the begin-of-image token; prompts are
left-padded. Images go through the model's image processor and the model's VQ encoder, bound
by the trainer once the model is loaded (:meth:`ImageTokenCollator.bind`); each image is encoded
once and its tokens reused at every later epoch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eval_anything.trainers.data.image_preferences import ImagePair
from eval_anything.trainers.data.layouts import MediaRef


def image_pairs_dataset(pairs: list[ImagePair]) -> Any:
    """The pairs as rows for :class:`ImageTokenCollator` (images as media references). No
    column is named ``image``: TRL would take the rows for its own vision format."""
    import datasets

    return datasets.Dataset.from_list([
        {"prompt": p.prompt, "chosen_media": json.dumps(p.chosen.to_json()),
         "rejected_media": json.dumps(p.rejected.to_json())} for p in pairs
    ])


def generation_prompt(processor: Any, prompt: str) -> str:
    """The text before the begin-of-image token, as the ``hf`` adapter renders a request."""
    if not getattr(processor, "chat_template", None):
        return prompt
    from eval_anything.core.content import TextPart
    from eval_anything.core.requests import Message
    from eval_anything.models.hf_av import chat_message

    chat = [chat_message(Message(role="user", content=[TextPart(text=prompt)]))]
    return str(processor.apply_chat_template(chat, add_generation_prompt=True, tokenize=False))


def prompt_token_count(processor: Any, prompt: str) -> int:
    """Tokens of one prompt in image-generation mode (begin-of-image token included)."""
    enc = processor(text=[generation_prompt(processor, prompt)], generation_mode="image")
    return len(enc["input_ids"][0])


@dataclass
class ImageTokenCollator:
    """DPO batches of (prompt ids, chosen image tokens, rejected image tokens)."""

    processor: Any
    encode_images: Callable[[Any], Any] | None = None  # pixel_values -> (images, tokens)
    _tokens: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def bind(self, encode_images: Callable[[Any], Any]) -> None:
        """Use ``encode_images`` (the loaded model's VQ encoder) to turn pixels into tokens."""
        self.encode_images = encode_images
        self._tokens.clear()

    def image_tokens(self, refs: list[MediaRef]) -> Any:
        """``(len(refs), tokens)`` codebook indices, each image encoded once."""
        import torch

        if self.encode_images is None:
            raise RuntimeError("ImageTokenCollator.bind(...) must give it the model's VQ "
                               "encoder before it batches")
        keys = [ref.part.content_hash() for ref in refs]
        new = {k: ref for k, ref in zip(keys, refs, strict=True) if k not in self._tokens}
        if new:
            pixels = self.processor.image_processor(
                images=[ref.part.load() for ref in new.values()], return_tensors="pt"
            )["pixel_values"]
            for k, row in zip(new, self.encode_images(pixels).tolist(), strict=True):
                self._tokens[k] = row
        return torch.tensor([self._tokens[k] for k in keys], dtype=torch.long)

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        prompts = [generation_prompt(self.processor, ex["prompt"]) for ex in examples]
        enc = self.processor(text=prompts, generation_mode="image", padding=True,
                             padding_side="left", return_tensors="pt")
        refs = [MediaRef.from_json(json.loads(ex[key]))
                for key in ("chosen_media", "rejected_media") for ex in examples]
        tokens = self.image_tokens(refs)  # chosen rows, then rejected rows
        prompt_ids = enc["input_ids"].repeat(2, 1)
        prompt_mask = enc["attention_mask"].repeat(2, 1)
        image = torch.ones_like(tokens)
        image_mask = torch.cat([torch.zeros_like(prompt_mask), image], dim=1)
        out: dict[str, Any] = {
            "input_ids": torch.cat([prompt_ids, tokens], dim=1),
            "attention_mask": torch.cat([prompt_mask, image], dim=1),
            "completion_mask": image_mask,
            "image_token_mask": image_mask.bool(),
        }
        for key in ("ref_chosen_logps", "ref_rejected_logps"):
            if key in examples[0]:
                out[key] = torch.tensor([ex[key] for ex in examples])
        return out
