"""TRL's config arguments from the YAML: one mapping every algorithm starts from, with what we
decide instead of TRL's defaults (precision from the hardware, checkpoints without optimizer
state, no gradient checkpointing unless asked); ``training.trl`` wins last."""

from __future__ import annotations

from typing import Any

from eval_anything.errors import ConfigError
from eval_anything.trainers.config import TrainConfig
from eval_anything.trainers.setup.precision import Precision


def trainer_arguments(cfg: TrainConfig, precision: Precision) -> dict[str, Any]:
    """Keyword arguments shared by every TRL config class; ``training.trl`` wins last."""
    t = cfg.training
    args: dict[str, Any] = {
        "output_dir": str(cfg.output_dir),
        "max_steps": t.max_steps,
        "num_train_epochs": t.num_train_epochs,
        "per_device_train_batch_size": t.per_device_train_batch_size,
        "gradient_accumulation_steps": t.gradient_accumulation_steps,
        "lr_scheduler_type": t.lr_scheduler_type,
        "warmup_steps": t.warmup_steps,
        "save_strategy": "steps",
        "save_steps": t.save_steps,
        "save_total_limit": t.save_total_limit,
        "save_only_model": t.save_only_model,
        "logging_steps": t.logging_steps,
        "seed": t.seed,
        "max_length": t.max_length,
        checkpointing_arg(): t.gradient_checkpointing,
        "report_to": "none",
        "use_cpu": precision.device == "cpu",
        **precision.trainer_flags(),
    }
    if t.learning_rate is not None:
        args["learning_rate"] = t.learning_rate
    args.update(t.trl)
    return args


def checkpointing_arg() -> str:
    """transformers 5.2x renamed ``gradient_checkpointing`` to ``activation_checkpointing``
    (the old name still works, with a warning); use whichever this version has."""
    import dataclasses

    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    return "activation_checkpointing" if "activation_checkpointing" in names else (
        "gradient_checkpointing"
    )


def make_config(config_cls: type, cfg: TrainConfig, args: dict[str, Any]) -> Any:
    """Build a TRL config, naming the YAML field when TRL refuses an argument."""
    try:
        return config_cls(**args)
    except TypeError as e:
        raise ConfigError(f"{cfg.where()}: field 'training.trl': {e}") from None
    except ValueError as e:
        raise ConfigError(
            f"{cfg.where()}: {config_cls.__name__} refused the arguments: {e}"
        ) from None
