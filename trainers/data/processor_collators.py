"""Examples with media, for models that take them through a processor (image, audio, video).

One code path for every modality: the dataset keeps each example's text and its media references
(JSON), and a collator of ours turns a batch into model inputs with the model's own processor,
the way the ``hf`` adapter does when it scores the checkpoint (same chat template with typed
media placeholders, same audio resampling and video frame sampling from
``eval_anything.models.hf_av``). The collators feed TRL's own ``SFTTrainer`` and ``DPOTrainer``
(the algorithms in :mod:`eval_anything.trainers.algorithms` hand them over); their batches have
exactly the fields TRL's text collators produce (``input_ids``, ``attention_mask``,
``completion_mask`` or ``labels``, and ``ref_*_logps`` when precomputed) plus whatever the
processor adds (``pixel_values``, ``input_features``, ``pixel_values_videos``...), which TRL
passes to the model untouched.

Why not TRL's vision collator for images: it refuses precomputed reference log-probs and has no
audio or video counterpart; one collator keeps precision, LoRA, precomputed references and the
auto-score hook the same for every modality.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eval_anything.errors import ConfigError
from eval_anything.trainers.data.examples import Completion, Pair
from eval_anything.trainers.data.layouts import MediaRef


def _media_json(media: list[MediaRef]) -> str:
    return json.dumps([m.to_json() for m in media])


def pairs_media_dataset(pairs: list[Pair]) -> Any:
    """Preference rows with their media references, for :class:`PreferenceCollator`."""
    import datasets

    return datasets.Dataset.from_list([
        {"prompt": p.prompt, "system": p.system or "", "chosen": p.chosen,
         "rejected": p.rejected, "media": _media_json(p.media)} for p in pairs
    ])


def completions_media_dataset(items: list[Completion]) -> Any:
    """SFT rows with their media references, for :class:`CompletionCollator`."""
    import datasets

    return datasets.Dataset.from_list([
        {"prompt": c.prompt, "system": c.system or "", "completion": c.completion,
         "media": _media_json(c.media)} for c in items
    ])


@dataclass
class _ProcessorBatcher:
    """Prompt rendering and media loading shared by both collators."""

    processor: Any
    max_length: int | None = None

    @property
    def tokenizer(self) -> Any:
        return getattr(self.processor, "tokenizer", self.processor)

    def messages(self, example: dict[str, Any]) -> list[Any]:
        from eval_anything.core.content import TextPart
        from eval_anything.core.requests import Message

        parts = [MediaRef.from_json(m).part for m in json.loads(example["media"])]
        head = ([Message(role="system", content=[TextPart(text=example["system"])])]
                if example.get("system") else [])
        return [*head, Message(role="user", content=[*parts, TextPart(text=example["prompt"])])]

    def render(self, messages: list[Any], answer: str | None = None) -> str:
        from eval_anything.models.hf_av import chat_message

        chat = [chat_message(m) for m in messages]
        if answer is not None:
            chat.append({"role": "assistant", "content": [{"type": "text", "text": answer}]})
        return str(self.processor.apply_chat_template(
            chat, add_generation_prompt=answer is None, tokenize=False))

    def completion_text(self, prompt: str, messages: list[Any], answer: str) -> str:
        """What follows the prompt when the template renders the whole turn (end-of-turn
        tokens included), or the answer and EOS when the template renders it differently."""
        full = self.render(messages, answer)
        if full.startswith(prompt):
            return full[len(prompt):]
        return answer + (self.tokenizer.eos_token or "")

    def prompts(self, examples: list[dict[str, Any]]) -> tuple[list[str], list[Any], list[Any]]:
        from eval_anything.models.hf_av import load_media

        texts, media, messages = [], [], []
        for ex in examples:
            msgs = self.messages(ex)
            loaded = load_media([p for m in msgs for p in m.content], self.processor)
            if loaded.dropped:  # validated before training; this is a guard, not a fallback
                raise ConfigError(
                    f"the processor of this model takes no {', '.join(loaded.dropped)} input"
                )
            texts.append(self.render(msgs))
            media.append(loaded)
            messages.append(msgs)
        return texts, media, messages

    def encode(
        self, prompts: list[str], media: list[Any], completions: list[str]
    ) -> dict[str, Any]:
        """Left-padded prompts (with media) joined to right-padded completions, as TRL does."""
        import torch

        from eval_anything.models.hf_av import processor_inputs

        enc = self.processor(**processor_inputs(self.processor, prompts, media),
                             padding_side="left", add_special_tokens=False)
        prompt_len = enc["attention_mask"].sum(dim=1).tolist()
        ids = []
        for text, n in zip(completions, prompt_len, strict=True):
            c = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            if self.max_length is not None:
                c = c[: max(self.max_length - int(n), 1)]
            ids.append(c)
        width = max(len(c) for c in ids)
        pad = self.tokenizer.pad_token_id
        comp = torch.tensor([c + [pad] * (width - len(c)) for c in ids], dtype=torch.long)
        comp_mask = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in ids],
                                 dtype=torch.long)
        out = dict(enc)
        out["input_ids"] = torch.cat([enc["input_ids"], comp], dim=1)
        out["attention_mask"] = torch.cat([enc["attention_mask"], comp_mask], dim=1)
        out["completion_mask"] = torch.cat([torch.zeros_like(enc["attention_mask"]), comp_mask],
                                           dim=1)
        for key in ("token_type_ids", "mm_token_type_ids"):
            if key in out:  # media-token markers: completions are plain text
                out[key] = torch.cat([out[key], torch.zeros_like(comp)], dim=1)
        return out


class PreferenceCollator(_ProcessorBatcher):
    """DPO batches: chosen sequences first, then rejected, media repeated for each half."""

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        prompts, media, messages = self.prompts(examples)
        chosen = [self.completion_text(p, m, ex["chosen"])
                  for p, m, ex in zip(prompts, messages, examples, strict=True)]
        rejected = [self.completion_text(p, m, ex["rejected"])
                    for p, m, ex in zip(prompts, messages, examples, strict=True)]
        out = self.encode(prompts * 2, media * 2, chosen + rejected)
        for key in ("ref_chosen_logps", "ref_rejected_logps"):
            if key in examples[0]:
                out[key] = torch.tensor([ex[key] for ex in examples])
        return out


class CompletionCollator(_ProcessorBatcher):
    """SFT batches: the loss on the completion tokens only (``labels`` -100 elsewhere)."""

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        prompts, media, messages = self.prompts(examples)
        completions = [self.completion_text(p, m, ex["completion"])
                       for p, m, ex in zip(prompts, messages, examples, strict=True)]
        out = self.encode(prompts, media, completions)
        mask = out.pop("completion_mask")
        out["labels"] = out["input_ids"].masked_fill(mask == 0, -100)
        return out
