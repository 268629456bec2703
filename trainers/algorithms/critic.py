"""``train critic``: SFT of a feedback model on (prompt, response, critique) rows.

The critic is trained on exactly the prompt ``train llf`` will send it: the critique template
(``critic.template``, the same default as ``llf.critique_template``) rendered over the prompt and
the response, with the critique as the completion. The result is a checkpoint folder that LLF
binds as its ``critic`` (``llf: {critic: 'hf:pretrained=DIR'}``).
"""

from __future__ import annotations

from typing import Any

from eval_anything.trainers.algorithms.sft import train_sft
from eval_anything.trainers.config import TrainConfig
from eval_anything.trainers.data.loading import load_critique_completions
from eval_anything.trainers.setup.trainer_run import TrainOutcome


def train_critic(cfg: TrainConfig, callbacks: list[Any] | None = None) -> TrainOutcome:
    return train_sft(cfg, load_critique_completions(cfg), callbacks)
