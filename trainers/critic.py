"""``train critic``: SFT of a feedback model on (prompt, response, critique) rows.

The critic is trained on exactly the prompt ``train llf`` will send it: the critique template
(``critic.template``, the same default as ``llf.critique_template``) rendered over the prompt and
the response, with the critique as the completion. The result is a checkpoint folder that LLF
binds as its ``critic`` (``llf: {critic: 'hf:pretrained=DIR'}``).
"""

from __future__ import annotations

from typing import Any

from eval_anything.trainers.common import TrainOutcome
from eval_anything.trainers.config import TrainConfig
from eval_anything.trainers.data import (
    Completion,
    data_root,
    read_rows,
    to_critique_completions,
)
from eval_anything.trainers.sft import train_sft


def load_critique_rows(cfg: TrainConfig) -> list[Completion]:
    assert cfg.data is not None
    rows = read_rows(cfg.data.train, cfg.data.limit)
    return to_critique_completions(rows, cfg.critic.template, cfg.data.train,
                                   data_root(cfg.data))


def train_critic(cfg: TrainConfig, callbacks: list[Any] | None = None) -> TrainOutcome:
    return train_sft(cfg, load_critique_rows(cfg), callbacks)
