"""``train rm``: a reward model (sequence classifier, one logit) with TRL's RewardTrainer.

Trained on the same preference formats as DPO (Bradley-Terry loss on chosen vs rejected). A
reward model is not a generator: auto-scoring applies to it only through tasks that load it as a
judge, so ``autoscore.tasks`` is usually empty here.
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
from eval_anything.trainers.data import Pair, use_chat
from eval_anything.trainers.dpo import load_pairs


def reward_dataset(pairs: list[Pair], conversational: bool) -> Any:
    """TRL's reward format: the prompt folded into chosen/rejected ("implicit prompt")."""
    import datasets

    rows: list[dict[str, Any]]
    if conversational:
        rows = [
            {"chosen": [{"role": "user", "content": p.prompt},
                        {"role": "assistant", "content": p.chosen}],
             "rejected": [{"role": "user", "content": p.prompt},
                          {"role": "assistant", "content": p.rejected}]}
            for p in pairs
        ]
    else:
        rows = [{"chosen": f"{p.prompt}\n{p.chosen}", "rejected": f"{p.prompt}\n{p.rejected}"}
                for p in pairs]
    return datasets.Dataset.from_list(rows)


def build_rm_trainer(
    cfg: TrainConfig, pairs: list[Pair] | None = None, callbacks: list[Any] | None = None
) -> tuple[Any, Any, str]:
    from trl import RewardConfig, RewardTrainer

    precision = run_precision(cfg)
    pairs = load_pairs(cfg) if pairs is None else pairs
    if not pairs:
        raise ConfigError(f"{cfg.where()}: no preference pairs to train on")
    processing = load_tokenizer(cfg)
    if processing is not text_tokenizer(processing) or any(p.media for p in pairs):
        first = next((p for p in pairs if p.media), None)
        where = first.source if first else cfg.where()
        what = (f"field {first.media[0].field!r} holds {first.media[0].modality}" if first
                else f"model {cfg.model.path!r} takes media")
        raise ConfigError(
            f"{where}: {what}, but 'train rm' trains text reward models only (transformers has "
            "no sequence-classification head for processor-based models); train DPO on these "
            "pairs instead, or a reward model on text-only rows"
        )
    tokenizer = processing
    args = make_config(RewardConfig, cfg, trainer_arguments(cfg, precision))
    run_id = start_run(cfg)
    assert cfg.data is not None
    model = load_policy(cfg, head="reward")
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    trainer = RewardTrainer(
        model=model,
        args=args,
        train_dataset=reward_dataset(pairs, use_chat(cfg.data.chat, tokenizer)),
        processing_class=tokenizer,
        peft_config=peft_config(cfg, task_type="SEQ_CLS"),
        callbacks=[*(callbacks or []),
                   *autoscore_callbacks(cfg, run_id, resolve_model_path(cfg.model.path))],
    )
    return trainer, precision, run_id


def train_rm(
    cfg: TrainConfig, pairs: list[Pair] | None = None, callbacks: list[Any] | None = None
) -> TrainOutcome:
    with lock_scope():
        trainer, precision, run_id = build_rm_trainer(cfg, pairs, callbacks)
        return run_trainer(cfg, trainer, precision, run_id)
