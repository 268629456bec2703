"""``train sft``: supervised fine-tuning on (prompt, completion) rows with TRL's SFTTrainer.

Loss on the completion only (TRL's ``completion_only_loss``), rows in conversational form when
the tokenizer has a chat template, so the checkpoint answers in the chat format it is scored in.
Rows with media go through our processor collator, the same ``SFTTrainer`` otherwise.
"""

from __future__ import annotations

from typing import Any

from eval_anything.trainers.config import TrainConfig
from eval_anything.trainers.data.examples import Completion
from eval_anything.trainers.data.loading import load_completions
from eval_anything.trainers.data.processor_collators import (
    CompletionCollator,
    completions_media_dataset,
)
from eval_anything.trainers.data.trl_datasets import completions_dataset
from eval_anything.trainers.setup.trainer_build import BuiltTrainer, build_trainer, prepare
from eval_anything.trainers.setup.trainer_run import TrainOutcome, train_built
from eval_anything.trainers.setup.trl_arguments import trainer_arguments


def build_sft_trainer(
    cfg: TrainConfig, items: list[Completion] | None = None, callbacks: list[Any] | None = None
) -> BuiltTrainer:
    """A ready ``trl.SFTTrainer`` on ``items`` (default: the config's data), with the precision
    and the training run id; everything is checked before anything is written."""
    from trl import SFTConfig, SFTTrainer

    prepared = prepare(cfg, items, load_completions, "no training rows")
    args = trainer_arguments(cfg, prepared.precision)
    args.setdefault("completion_only_loss", True)
    if prepared.with_processor:
        args.setdefault("dataset_kwargs", {"skip_prepare_dataset": True})
        collator = CompletionCollator(prepared.processing, cfg.training.max_length)
        return build_trainer(prepared, SFTConfig, SFTTrainer, args,
                             completions_media_dataset(prepared.examples), callbacks,
                             collator=collator)
    dataset = completions_dataset(prepared.examples, prepared.conversational)
    return build_trainer(prepared, SFTConfig, SFTTrainer, args, dataset, callbacks)


def train_sft(
    cfg: TrainConfig, items: list[Completion] | None = None, callbacks: list[Any] | None = None
) -> TrainOutcome:
    return train_built(cfg, lambda: build_sft_trainer(cfg, items, callbacks))
