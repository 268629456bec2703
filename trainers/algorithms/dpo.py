"""``train dpo``: TRL's DPOTrainer with its loss variants, precision from the hardware.

The loss is TRL's (``dpo.loss_type``: sigmoid, ipo, hinge, robust, exo_pair, ... or several with
``loss_weights``), and so are the logged metric names (``rewards/chosen``, ``rewards/margins``,
``rewards/accuracies``). What we decide on top: bf16 only where the device has it, no gradient
checkpointing unless asked, and the reference log-probs precomputed when training sees every pair
at least once, which removes the reference forward from each step.

Text pairs go through TRL's own tokenization; pairs whose rows stay raw until a collator of ours
batches them (media through the model's processor) go through :func:`build_dpo_on`, which any
other collator can use the same way: text-to-image preferences, learned on a drawing model's
image tokens, are one (:mod:`.dpo_text_to_image`, chosen by the rows' layout).
"""

from __future__ import annotations

import logging
from typing import Any, cast

from eval_anything.errors import ConfigError
from eval_anything.trainers.config import TrainConfig
from eval_anything.trainers.data.examples import Pair
from eval_anything.trainers.data.image_preferences import (
    ImagePair,
    load_image_pairs,
    text_to_image_pairs,
)
from eval_anything.trainers.data.image_token_collator import (
    ImageTokenCollator,
    image_pairs_dataset,
)
from eval_anything.trainers.data.loading import load_pairs
from eval_anything.trainers.data.processor_collators import PreferenceCollator, pairs_media_dataset
from eval_anything.trainers.data.trl_datasets import pairs_dataset
from eval_anything.trainers.setup.precision import Precision
from eval_anything.trainers.setup.trainer_build import (
    BuiltTrainer,
    Prepared,
    build_trainer,
    prepare,
)
from eval_anything.trainers.setup.trainer_run import TrainOutcome, train_built
from eval_anything.trainers.setup.trl_arguments import trainer_arguments

log = logging.getLogger(__name__)


def should_precompute(cfg: TrainConfig, n_pairs: int) -> bool:
    """'auto': precompute when the planned steps visit every pair at least once, since each
    pair's reference forward then runs once up front instead of at every visit."""
    choice = cfg.dpo.precompute_ref_log_probs
    if choice != "auto":
        return bool(choice)
    if cfg.training.trl.get("sync_ref_model"):
        return False  # TR-DPO moves the reference; precomputed values would go stale
    t = cfg.training
    per_step = t.per_device_train_batch_size * t.gradient_accumulation_steps
    if t.max_steps > 0:
        return t.max_steps * per_step >= n_pairs
    return t.num_train_epochs >= 1.0


def dpo_arguments(cfg: TrainConfig, precision: Precision, n_pairs: int) -> dict[str, Any]:
    args = trainer_arguments(cfg, precision)
    d = cfg.dpo
    args.update(
        beta=d.beta,
        loss_type=list(d.loss_type),
        label_smoothing=d.label_smoothing,
        precompute_ref_log_probs=should_precompute(cfg, n_pairs),
    )
    if d.loss_weights is not None:
        args["loss_weights"] = list(d.loss_weights)
    args.update(cfg.training.trl)  # explicit TRL arguments win
    return args


def use_full_logits(trainer: Any, choice: str, precision: Precision) -> bool:
    """Swap TRL's chunked LM head for full logits where that is faster (see ``cpu_lm_head``)."""
    from eval_anything.trainers.setup.cpu_lm_head import use_full_logits_head

    if choice == "fused" or (choice == "auto" and precision.device != "cpu"):
        return False
    outputs: tuple[str, ...] = ("log_probs", "entropy", "mean_logits", "is_top1")
    if getattr(trainer.args, "use_weighting", False):
        outputs += ("log_sum_sq_probs",)
    policy = trainer.model
    if hasattr(policy, "get_base_model"):
        policy = policy.get_base_model()
    done = use_full_logits_head(policy, outputs)
    if trainer.ref_model is not None:
        use_full_logits_head(trainer.ref_model)
    if done:
        log.info("DPO log-probs from full logits (dpo.lm_head=%s, device %s)", choice,
                 precision.device)
    return done


def raw_rows_dpo_class() -> type:
    """TRL's DPOTrainer minus its text tokenization (``_prepare_dataset``), which cannot place
    media or image tokens: the rows stay raw until the collator batches them. TRL's losses,
    metric names, precomputed reference log-probs, LoRA handling and callbacks are unchanged."""
    from trl import DPOTrainer

    class RawRowsDPOTrainer(DPOTrainer):  # type: ignore[misc]
        def _prepare_dataset(self, dataset: Any, *args: Any, **kwargs: Any) -> Any:
            return dataset

    return RawRowsDPOTrainer


def build_dpo_on(
    prepared: Prepared[Any], dataset: Any, collator: Any, callbacks: list[Any] | None = None,
    trainer_class: type | None = None,
) -> BuiltTrainer:
    """DPO over rows that ``collator`` turns into batches with chosen and rejected halves, as
    TRL's own collator does (and ``ref_*_logps`` when precomputed); ``trainer_class``, a
    subclass of :func:`raw_rows_dpo_class`, where the log-probs are computed differently."""
    from trl import DPOConfig

    args = dpo_arguments(prepared.cfg, prepared.precision, len(prepared.examples))
    return build_trainer(prepared, DPOConfig, trainer_class or raw_rows_dpo_class(), args,
                         dataset, callbacks, collator=collator)


def build_dpo_trainer(
    cfg: TrainConfig, pairs: list[Pair] | list[ImagePair] | None = None,
    callbacks: list[Any] | None = None,
) -> BuiltTrainer:
    """A ready ``trl.DPOTrainer`` on ``pairs`` (default: the config's data), with the precision
    and the training run id; everything is checked before anything is written. Text-to-image
    preference rows go to :mod:`.dpo_text_to_image`."""
    from trl import DPOConfig, DPOTrainer

    image_pairs = text_to_image_pairs(cfg, pairs)
    if image_pairs is not None:
        return build_text_to_image_dpo(cfg, image_pairs, callbacks)
    text_pairs = cast(list[Pair] | None, pairs)
    prepared = prepare(cfg, text_pairs, load_pairs, "no preference pairs to train on")
    n = len(prepared.examples)
    if prepared.with_processor:
        collator = PreferenceCollator(prepared.processing, cfg.training.max_length)
        return build_dpo_on(prepared, pairs_media_dataset(prepared.examples), collator, callbacks)
    args = dpo_arguments(cfg, prepared.precision, n)
    dataset = pairs_dataset(prepared.examples, prepared.conversational)
    built = build_trainer(prepared, DPOConfig, DPOTrainer, args, dataset, callbacks)
    use_full_logits(built.trainer, cfg.dpo.lm_head, prepared.precision)
    kept = len(built.trainer.train_dataset)
    if kept == 0:
        raise ConfigError(
            f"{cfg.where()}: field 'training.max_length' ({cfg.training.max_length}) is shorter "
            f"than the prompt of every pair, so TRL dropped all {n}; raise it"
        )
    if kept < n:
        log.warning("%d of %d pairs were longer than training.max_length=%s and were dropped",
                    n - kept, n, cfg.training.max_length)
    return built


def build_text_to_image_dpo(
    cfg: TrainConfig, pairs: list[ImagePair], callbacks: list[Any] | None = None
) -> BuiltTrainer:
    """DPO of a model that draws, on its image tokens (:mod:`.dpo_text_to_image`); checked
    before anything is written, like every other DPO run."""
    from eval_anything.trainers.algorithms.dpo_text_to_image import check_draws, image_dpo_class

    prepared = prepare(cfg, pairs, load_image_pairs,
                       "no text-to-image preference pairs to train on (every row a tie?)",
                       check=check_draws)
    collator = ImageTokenCollator(prepared.processing)
    return build_dpo_on(prepared, image_pairs_dataset(prepared.examples), collator, callbacks,
                        trainer_class=image_dpo_class(raw_rows_dpo_class()))


def train_dpo(
    cfg: TrainConfig, pairs: list[Pair] | list[ImagePair] | None = None,
    callbacks: list[Any] | None = None,
) -> TrainOutcome:
    """DPO on ``pairs`` (text or media pairs, or text-to-image ones) or the config's data."""
    return train_built(cfg, lambda: build_dpo_trainer(cfg, pairs, callbacks))
