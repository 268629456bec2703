"""A multimodal reward model that sees the generated media: a sequence-classification head over
an image/audio-text model (e.g. transformers' ``Gemma3ForSequenceClassification``, or a model
whose own code the user trusts), fed through the model folder's processor.

Input, in the paper's layout for the synergy reward model: the user turn (the instruction),
then the assistant turn holding the response's media and its text, pair by pair::

    ti: user: instruction | assistant: <image> text answer
    ta: user: instruction | assistant: <audio> text answer
    ia: user: instruction | assistant: <image> <audio>            (no text)

The processor's chat template lays the turns out when it has one (media as ``{"type": "image"}``
/ ``{"type": "audio"}`` content items); otherwise the plain ``USER: ... ASSISTANT:`` layout of
:func:`eval_anything.judges.reward.reward_input` with the processor's own image/audio
placeholder tokens. Score = ``sigmoid(reward)``, one item per forward pass (media counts differ
between pairs). A pair whose medium the processor cannot take (audio into an image-text model)
is unscored with that reason, never a zero.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from eval_anything.errors import UserError
from eval_anything.judges.base import JudgeItem, Judgment


def sigmoid(x: float) -> float:
    """The logistic function, without overflow for large ``|x|`` (a reward on 0-1)."""
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


PAIR_MEDIA = {"ti": ("image",), "ta": ("audio",), "ia": ("image", "audio")}
PROCESSOR_FILES = ("processor_config.json", "preprocessor_config.json")


class RewardModelError(UserError):
    """A reward-model folder that cannot be used as asked; the message names folder and fix."""


def has_processor(folder: Path) -> bool:
    """Whether a model folder ships a (multimodal) processor configuration."""
    return any((folder / name).is_file() for name in PROCESSOR_FILES)


def needs_remote_code(folder: Path) -> bool:
    """Whether the folder's config maps its classes to code shipped with the model."""
    cfg = folder / "config.json"
    if not cfg.is_file():
        return False
    return bool(json.loads(cfg.read_text(encoding="utf-8")).get("auto_map"))


class MultimodalReward:
    """Loads model + processor once; :meth:`judge_item` scores one synergy item."""

    def __init__(self, folder: Path, trust_remote_code: bool = False,
                 max_length: int = 1024) -> None:
        if needs_remote_code(folder) and not trust_remote_code:
            raise RewardModelError(
                f"--judge ROLE=reward:{folder}: the model needs its own code (config.json "
                "'auto_map'); add ',trust_remote_code=true' to the binding if you trust that "
                "code, or use a model transformers implements"
            )
        from transformers import AutoModelForSequenceClassification, AutoProcessor

        self.folder = folder
        self.max_length = max_length
        self.processor = AutoProcessor.from_pretrained(folder, trust_remote_code=trust_remote_code)
        self.model = AutoModelForSequenceClassification.from_pretrained(
            folder, trust_remote_code=trust_remote_code
        ).eval()
        labels = getattr(self.model.config, "num_labels", 1)
        if labels != 1:
            raise RewardModelError(
                f"--judge ROLE=reward:{folder}: the model has {labels} labels; a reward model "
                "has one"
            )
        self.accepts = {"image": getattr(self.processor, "image_processor", None) is not None,
                        "audio": getattr(self.processor, "feature_extractor", None) is not None}

    def text_for(self, prompt: str, pair: str, response: str) -> str:
        """The judged sequence for one pair, media as the processor's placeholders."""
        media = PAIR_MEDIA[pair]
        answer = "" if pair == "ia" else response
        if getattr(self.processor, "chat_template", None):
            content: list[dict[str, Any]] = [{"type": m} for m in media]
            if answer:
                content.append({"type": "text", "text": answer})
            messages = [
                {"role": "user", "content": [{"type": "text", "text": prompt}]},
                {"role": "assistant", "content": content},
            ]
            return str(self.processor.apply_chat_template(messages, tokenize=False))
        tokens = "".join(self._placeholder(m) for m in media)
        return f"USER: {prompt}\nASSISTANT:\n{tokens}{answer}"

    def _placeholder(self, modality: str) -> str:
        token = getattr(self.processor, f"{modality}_token", None)
        if not token:
            raise RewardModelError(
                f"--judge ROLE=reward:{self.folder}: the processor has no chat template and no "
                f"{modality} token; give the processor a chat template"
            )
        return str(token)

    def judge_item(self, item: JudgeItem) -> Judgment:
        pair = str(item.metadata.get("pair"))
        if pair not in PAIR_MEDIA:
            return Judgment(None, reason=f"unknown modality pair {pair!r}")
        wanted = PAIR_MEDIA[pair]
        refused = [m for m in wanted if not self.accepts[m]]
        if refused:
            return Judgment(None, reason=f"the reward model's processor takes no {refused[0]}")
        found = {m: next((p for p in item.media if p.type == m), None) for m in wanted}
        absent = [m for m, p in found.items() if p is None]
        if absent:
            return Judgment(None, reason=f"no generated {absent[0]} to show the reward model")
        parts: dict[str, Any] = {m: p for m, p in found.items() if p is not None}
        text = self.text_for(item.prompt, pair, item.response)
        kwargs: dict[str, Any] = {"text": [text], "return_tensors": "pt"}
        digest = hashlib.sha256(text.encode())
        if "image" in parts:
            kwargs["images"] = [[parts["image"].load()]]
            digest.update(parts["image"].read_bytes())
        if "audio" in parts:
            from eval_anything.media.io import resample

            wave, sr = parts["audio"].load()
            target = int(getattr(self.processor.feature_extractor, "sampling_rate", sr))
            kwargs["audio"] = [resample(wave, sr, target)]
            kwargs["sampling_rate"] = target
            digest.update(parts["audio"].read_bytes())
        logit = self._reward(kwargs)

        return Judgment(sigmoid(logit), raw=f"{logit:.6f}", prompt_hash=digest.hexdigest(),
                        details={"logit": round(logit, 6), "layout": "multimodal"})

    def _reward(self, kwargs: dict[str, Any]) -> float:
        import torch

        enc = self.processor(**kwargs)
        if enc["input_ids"].shape[-1] > self.max_length:
            raise RewardModelError(
                f"--judge ROLE=reward:{self.folder}: an input of {enc['input_ids'].shape[-1]} "
                f"tokens exceeds max_length={self.max_length}; raise max_length in the binding"
            )
        with torch.no_grad():
            return float(self.model(**enc).logits[0, 0])
