"""``train rm``: a reward model (sequence classifier, one logit) with TRL's RewardTrainer.

Trained on the same preference formats as DPO (Bradley-Terry loss on chosen vs rejected). A
reward model is not a generator: auto-scoring applies to it only through tasks that load it as a
judge, so ``autoscore.tasks`` is usually empty here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eval_anything.errors import ConfigError
from eval_anything.trainers.config import TrainConfig
from eval_anything.trainers.data.examples import Completion, Pair
from eval_anything.trainers.data.loading import load_pairs
from eval_anything.trainers.data.trl_datasets import reward_dataset
from eval_anything.trainers.setup.models import text_tokenizer
from eval_anything.trainers.setup.trainer_build import BuiltTrainer, build_trainer, prepare
from eval_anything.trainers.setup.trainer_run import TrainOutcome, train_built
from eval_anything.trainers.setup.trl_arguments import trainer_arguments


def refuse_media(cfg: TrainConfig, pairs: Sequence[Pair | Completion], processing: Any) -> None:
    """Text reward models only: transformers has no sequence-classification head for models
    that take media through a processor, so media rows or a media model stop the run."""
    first = next((p for p in pairs if p.media), None)
    if first is None and processing is text_tokenizer(processing):
        return
    where = first.source if first else cfg.where()
    what = (f"field {first.media[0].field!r} holds {first.media[0].modality}" if first
            else f"model {cfg.model.path!r} takes media")
    raise ConfigError(
        f"{where}: {what}, but 'train rm' trains text reward models only (transformers has "
        "no sequence-classification head for processor-based models); train DPO on these "
        "pairs instead, or a reward model on text-only rows"
    )


def build_rm_trainer(
    cfg: TrainConfig, pairs: list[Pair] | None = None, callbacks: list[Any] | None = None
) -> BuiltTrainer:
    """A ready ``trl.RewardTrainer`` on ``pairs`` (default: the config's data), with the
    precision and the training run id; everything is checked before anything is written."""
    from trl import RewardConfig, RewardTrainer

    prepared = prepare(cfg, pairs, load_pairs, "no preference pairs to train on",
                       check=refuse_media)
    dataset = reward_dataset(prepared.examples, prepared.conversational)
    return build_trainer(prepared, RewardConfig, RewardTrainer,
                         trainer_arguments(cfg, prepared.precision), dataset, callbacks,
                         head="reward")


def train_rm(
    cfg: TrainConfig, pairs: list[Pair] | None = None, callbacks: list[Any] | None = None
) -> TrainOutcome:
    return train_built(cfg, lambda: build_rm_trainer(cfg, pairs, callbacks))
