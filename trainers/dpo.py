"""``train dpo``: TRL's DPOTrainer with its loss variants, precision from the hardware.

The loss is TRL's (``dpo.loss_type``: sigmoid, ipo, hinge, robust, exo_pair, ... or several with
``loss_weights``), and so are the logged metric names (``rewards/chosen``, ``rewards/margins``,
``rewards/accuracies``). What we decide on top: bf16 only where the device has it, no gradient
checkpointing unless asked, and the reference log-probs precomputed when training sees every pair
at least once, which removes the reference forward from each step.
"""

from __future__ import annotations

import logging
from typing import Any

from eval_anything.errors import ConfigError
from eval_anything.trainers.common import (
    TrainOutcome,
    autoscore_callbacks,
    load_policy,
    load_tokenizer,
    lock_scope,
    make_config,
    peft_config,
    resolve_model_path,
    run_precision,
    run_trainer,
    start_run,
    text_tokenizer,
    trainer_arguments,
)
from eval_anything.trainers.config import TrainConfig
from eval_anything.trainers.data import (
    Pair,
    data_root,
    pairs_dataset,
    read_rows,
    resolve_format,
    to_pairs,
    use_chat,
)
from eval_anything.trainers.precision import Precision

log = logging.getLogger(__name__)


def load_pairs(cfg: TrainConfig) -> list[Pair]:
    assert cfg.data is not None
    rows = read_rows(cfg.data.train, cfg.data.limit)
    fmt = resolve_format(rows, cfg.data.format, cfg.data.train)
    return to_pairs(rows, fmt, cfg.data.train, data_root(cfg.data), cfg.data.preference_field)


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
    from eval_anything.trainers.cpu_lm_head import use_full_logits_head

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


def build_dpo_trainer(
    cfg: TrainConfig,
    pairs: list[Pair] | None = None,
    callbacks: list[Any] | None = None,
) -> tuple[Any, Precision, str]:
    """A ready ``trl.DPOTrainer`` (plus the precision and the training run id). Data, media and
    arguments are checked before the output folder is locked and anything is written."""
    from trl import DPOConfig, DPOTrainer

    from eval_anything.trainers.processor_trainers import (
        build_processor_dpo,
        check_media,
        processor_arguments,
    )

    precision = run_precision(cfg)
    pairs = load_pairs(cfg) if pairs is None else pairs
    if not pairs:
        raise ConfigError(f"{cfg.where()}: no preference pairs to train on")
    processing = load_tokenizer(cfg)
    check_media(cfg, pairs, processing)
    with_processor = processing is not text_tokenizer(processing)
    args = dpo_arguments(cfg, precision, len(pairs))
    config = make_config(DPOConfig, cfg, processor_arguments(args) if with_processor else args)
    run_id = start_run(cfg)
    hooks = [*(callbacks or []),
             *autoscore_callbacks(cfg, run_id, resolve_model_path(cfg.model.path))]
    if with_processor:
        trainer = build_processor_dpo(cfg, pairs, processing, config, load_policy(cfg), hooks)
        return trainer, precision, run_id
    assert cfg.data is not None
    dataset = pairs_dataset(pairs, use_chat(cfg.data.chat, text_tokenizer(processing)))
    trainer = DPOTrainer(
        model=load_policy(cfg),
        args=config,
        train_dataset=dataset,
        processing_class=processing,
        peft_config=peft_config(cfg),
        callbacks=hooks,
    )
    use_full_logits(trainer, cfg.dpo.lm_head, precision)
    kept = len(trainer.train_dataset)  # type: ignore[arg-type]  # a map-style Dataset here
    if kept == 0:
        raise ConfigError(
            f"{cfg.where()}: field 'training.max_length' ({cfg.training.max_length}) is shorter "
            f"than the prompt of every pair, so TRL dropped all {len(pairs)}; raise it"
        )
    if kept < len(pairs):
        log.warning("%d of %d pairs were longer than training.max_length=%s and were dropped",
                    len(pairs) - kept, len(pairs), cfg.training.max_length)
    return trainer, precision, run_id


def train_dpo(
    cfg: TrainConfig, pairs: list[Pair] | None = None, callbacks: list[Any] | None = None
) -> TrainOutcome:
    with lock_scope():
        trainer, precision, run_id = build_dpo_trainer(cfg, pairs, callbacks)
        return run_trainer(cfg, trainer, precision, run_id)
