"""Reward-model judge: a sequence-scoring model rates how well the modalities of an answer work
together (the paper's synergy judge is such a model, trained on human preferences).

Input layout, as the paper's synergy reward model reads it::

    USER: {instruction}
    ASSISTANT:
    {modality tokens}{text answer}

with modality tokens ``<image>`` (text-image), ``<audio>`` (text-audio) or ``<image><audio>``
(image-audio, no text). The score is ``sigmoid(logit)`` in 0-1. A text-only sequence classifier
sees the tokens, not the media; with ``describe_media=true`` each token is followed by the
instruction its generator rendered, which gives such a model something to read.

Binding: ``reward:DIR[,describe_media=true][,max_length=1024][,multimodal=auto|true|false]
[,trust_remote_code=true]``: a transformers ``AutoModelForSequenceClassification`` folder with
one output label. When the folder ships a processor (``multimodal=auto``, the default) the judge
shows the model the generated image and audio themselves, through that processor
(:mod:`eval_anything.judges.reward_multimodal`); a model that needs its own code (the paper's
AnyRewardModel) loads only with ``trust_remote_code=true``, which the user gives in the binding.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from eval_anything.errors import ConfigError
from eval_anything.judges.base import Judge, JudgeItem, Judgment, unsupported
from eval_anything.judges.reward_multimodal import MultimodalReward, has_processor, sigmoid
from eval_anything.model_args import parse_binding_args, typed_options
from eval_anything.registry import register

USER_TURN = "USER: {prompt}"
ASSISTANT_TURN = "\nASSISTANT:\n{modality}{text}"
PAIR_TOKENS = {"ti": ("image",), "ta": ("audio",), "ia": ("image", "audio")}


def reward_input(
    prompt: str, pair: str, text: str, descriptions: dict[str, str] | None = None
) -> str:
    """The paper's layout for one pair; ``descriptions`` (modality -> instruction) optional."""
    if pair not in PAIR_TOKENS:
        raise ValueError(f"unknown modality pair {pair!r}; expected one of {list(PAIR_TOKENS)}")
    tokens = ""
    for m in PAIR_TOKENS[pair]:
        tokens += f"<{m}>"
        if descriptions and descriptions.get(m):
            tokens += f" {descriptions[m]}\n"
    body = "" if pair == "ia" else text
    return USER_TURN.format(prompt=prompt) + ASSISTANT_TURN.format(modality=tokens, text=body)


#: What ``--judge ROLE=reward:DIR,OPTION=VALUE,...`` takes, and each option's type.
REWARD_OPTIONS = {
    "describe_media": bool,
    "max_length": int,
    "multimodal": str,
    "trust_remote_code": bool,
}


@register("judge", "reward")
class RewardModelJudge(Judge):
    kinds = ("synergy",)
    binding_options = REWARD_OPTIONS  # what `eval-anything judges reward` lists

    def __init__(self, arg: str | None = None, cache: Any = None) -> None:
        if not arg:
            raise ValueError("--judge ROLE=reward:DIR: give a sequence-classification model folder")
        where = f"--judge ROLE=reward:{arg}"
        path, raw = parse_binding_args(arg, where)
        if path is None:
            raise ConfigError(f"{where}: give the model folder first, e.g. reward:DIR,max_length=9")
        opts = typed_options(raw, REWARD_OPTIONS, where)
        if not Path(path).is_dir():
            raise ValueError(f"--judge ROLE=reward:{path}: not a model folder")

        self.path = Path(path)
        self.describe_media = opts.get("describe_media", False)
        self.max_length = opts.get("max_length", 1024)
        mode = opts.get("multimodal", "auto").lower()
        if mode not in ("auto", "true", "false"):
            raise ValueError(f"--judge ROLE=reward:{path}: multimodal={mode!r}; use auto, true "
                             "or false")
        self.multimodal: MultimodalReward | None = None
        if mode == "true" or (mode == "auto" and has_processor(self.path)):
            self.multimodal = MultimodalReward(
                self.path, trust_remote_code=opts.get("trust_remote_code", False),
                max_length=self.max_length,
            )
        else:
            self._load_text_only(path)
        from eval_anything.models.weights_identity import weights_identity

        digest = json.dumps(weights_identity(str(self.path)), sort_keys=True)
        self.digest = hashlib.sha256(digest.encode()).hexdigest()

    def _load_text_only(self, path: str) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.model = AutoModelForSequenceClassification.from_pretrained(self.path).eval()
        if self.model.config.num_labels != 1:
            raise ValueError(
                f"--judge ROLE=reward:{path}: the model has {self.model.config.num_labels} labels; "
                "a reward model has one"
            )
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model.config.pad_token_id = self.tokenizer.pad_token_id

    def identity(self) -> str:
        if self.multimodal is not None:
            return f"reward:{self.path.name}:{self.digest[:12]},multimodal"
        suffix = ",describe_media" if self.describe_media else ""
        return f"reward:{self.path.name}:{self.digest[:12]}{suffix}"

    def scores(self, texts: list[str]) -> list[float]:
        import torch

        if not texts:
            return []
        enc = self.tokenizer(
            texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_length
        )
        with torch.no_grad():
            logits = self.model(**enc).logits[:, 0]
        return [float(x) for x in logits]

    def judge(self, items: list[JudgeItem]) -> list[Judgment]:
        results: list[Judgment | None] = [None] * len(items)
        idx, texts = [], []
        for i, it in enumerate(items):
            if it.kind != "synergy":
                results[i] = unsupported(self, it)
                continue
            if self.multimodal is not None:
                results[i] = self.multimodal.judge_item(it)
                continue
            descs = it.metadata.get("descriptions") if self.describe_media else None
            text = reward_input(it.prompt, str(it.metadata.get("pair")), it.response, descs)
            idx.append(i)
            texts.append(text)
        for i, text, logit in zip(idx, texts, self.scores(texts), strict=True):
            results[i] = Judgment(
                sigmoid(logit), raw=f"{logit:.6f}",
                prompt_hash=hashlib.sha256(text.encode()).hexdigest(),
                details={"logit": round(logit, 6)},
            )
        return [r for r in results if r is not None]
