"""``train sft``: supervised fine-tuning on (prompt, completion) rows with TRL's SFTTrainer.

Loss on the completion only (TRL's ``completion_only_loss``), rows in conversational form when
the tokenizer has a chat template, so the checkpoint answers in the chat format it is scored in.
"""

from __future__ import annotations

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
    Completion,
    completions_dataset,
    data_root,
    read_rows,
    resolve_format,
    to_completions,
    use_chat,
)


def load_completions(cfg: TrainConfig) -> list[Completion]:
    assert cfg.data is not None
    rows = read_rows(cfg.data.train, cfg.data.limit)
    return to_completions(rows, resolve_format(rows, cfg.data.format, cfg.data.train),
                          cfg.data.train, data_root(cfg.data), cfg.data.preference_field)


def build_sft_trainer(
    cfg: TrainConfig,
    items: list[Completion] | None = None,
    callbacks: list[Any] | None = None,
) -> tuple[Any, Any, str]:
    """A ready ``trl.SFTTrainer`` (plus the precision and the training run id). Data, media and
    arguments are checked before the output folder is locked and anything is written."""
    from trl import SFTConfig, SFTTrainer

    from eval_anything.trainers.processor_trainers import (
        build_processor_sft,
        check_media,
        processor_arguments,
    )

    precision = run_precision(cfg)
    items = load_completions(cfg) if items is None else items
    if not items:
        raise ConfigError(f"{cfg.where()}: no training rows")
    processing = load_tokenizer(cfg)
    check_media(cfg, items, processing)
    with_processor = processing is not text_tokenizer(processing)
    args = trainer_arguments(cfg, precision)
    args.setdefault("completion_only_loss", True)
    if with_processor:
        args = processor_arguments(args)
        args.setdefault("dataset_kwargs", {"skip_prepare_dataset": True})
    config = make_config(SFTConfig, cfg, args)
    run_id = start_run(cfg)
    hooks = [*(callbacks or []),
             *autoscore_callbacks(cfg, run_id, resolve_model_path(cfg.model.path))]
    if with_processor:
        trainer = build_processor_sft(cfg, items, processing, config, load_policy(cfg), hooks)
        return trainer, precision, run_id
    assert cfg.data is not None
    dataset = completions_dataset(items, use_chat(cfg.data.chat, text_tokenizer(processing)))
    trainer = SFTTrainer(
        model=load_policy(cfg),
        args=config,
        train_dataset=dataset,
        processing_class=processing,
        peft_config=peft_config(cfg),
        callbacks=hooks,
    )
    return trainer, precision, run_id


def train_sft(
    cfg: TrainConfig, items: list[Completion] | None = None, callbacks: list[Any] | None = None
) -> TrainOutcome:
    with lock_scope():
        trainer, precision, run_id = build_sft_trainer(cfg, items, callbacks)
        return run_trainer(cfg, trainer, precision, run_id)
