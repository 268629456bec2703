"""What every built-in trainer shares: loading the policy, TRL arguments, auto-scoring, the run.

Each trainer module (sft, rm, dpo, critic) only turns its data into a dataset and picks its TRL
trainer class; everything else (precision from the hardware, LoRA, checkpoints, the auto-score
callback, resuming) is decided here once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval_anything.errors import ConfigError
from eval_anything.trainers.config import TrainConfig, training_run_id
from eval_anything.trainers.precision import Precision, choose_precision

log = logging.getLogger(__name__)


@dataclass
class TrainOutcome:
    """What a training run left behind."""

    algorithm: str
    training_run_id: str
    output_dir: Path
    final_dir: Path
    global_step: int
    precision: str
    log_history: list[dict[str, Any]] = field(default_factory=list)
    scored: list[Any] = field(default_factory=list)


def resolve_model_path(path: str) -> str:
    """'smollm2' is the bundled SmolLM2-135M-Instruct, converted once to a cached folder."""
    if path == "smollm2":
        from eval_anything.models.smollm2 import ensure_converted

        return str(ensure_converted())
    return path


def load_tokenizer(cfg: TrainConfig) -> Any:
    """The tokenizer, or the processor of a model that takes media, with a pad token set."""
    import transformers

    src = resolve_model_path(cfg.model.tokenizer or cfg.model.path)
    if media_auto_class(src, cfg.model.trust_remote_code) is not None:
        proc = transformers.AutoProcessor.from_pretrained(
            src, trust_remote_code=cfg.model.trust_remote_code
        )
        tok = getattr(proc, "tokenizer", proc)
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        return proc
    tok = transformers.AutoTokenizer.from_pretrained(
        src, trust_remote_code=cfg.model.trust_remote_code
    )
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def media_auto_class(path: str, trust_remote_code: bool = False) -> Any | None:
    """The Auto class of a model that takes media through a processor (image-text-to-text,
    multimodal LM: LLaVA, Qwen2-VL, Qwen2-Audio...), or None for a text-only model. The same
    rule the ``hf`` adapter loads checkpoints by, so training and scoring agree."""
    import transformers

    from eval_anything.models.hf_loading import _multimodal_auto_class

    try:
        config = transformers.AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError):
        return None
    return _multimodal_auto_class(config)


def text_tokenizer(processing_class: Any) -> Any:
    return getattr(processing_class, "tokenizer", processing_class)


def load_policy(cfg: TrainConfig, head: str = "causal_lm") -> Any:
    """The model to train, in fp32 (mixed precision is the trainer's autocast, not the weights)."""
    import torch
    import transformers

    path = resolve_model_path(cfg.model.path)
    kw: dict[str, Any] = {"dtype": torch.float32, "trust_remote_code": cfg.model.trust_remote_code}
    if head == "reward":
        return transformers.AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=1, **kw
        )
    auto = media_auto_class(path, cfg.model.trust_remote_code)
    if auto is not None:
        return auto.from_pretrained(path, **kw)
    return transformers.AutoModelForCausalLM.from_pretrained(path, **kw)


def peft_config(cfg: TrainConfig, task_type: str = "CAUSAL_LM") -> Any:
    if cfg.model.lora is None:
        return None
    from peft import LoraConfig

    lora = cfg.model.lora
    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        task_type=task_type,
    )


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


def autoscore_callbacks(cfg: TrainConfig, run_id: str, base_model: str) -> list[Any]:
    """The auto-score hook when ``autoscore.tasks`` is set."""
    if not cfg.autoscore.tasks:
        return []
    from eval_anything.trainers.callback import AutoScoreCallback

    return [AutoScoreCallback.from_section(cfg.autoscore, run_id, cfg.output_dir, base_model)]


def run_trainer(cfg: TrainConfig, trainer: Any, precision: Precision, run_id: str) -> TrainOutcome:
    """Train (resuming when asked), save the final model, wait for pending scoring."""
    from transformers.trainer_utils import get_last_checkpoint

    resume = None
    if cfg.training.resume and cfg.output_dir.exists():
        resume = get_last_checkpoint(str(cfg.output_dir))
    log.info("training %s (%s); precision %s: %s", run_id, cfg.algorithm, precision.name,
             precision.reason)
    trainer.train(resume_from_checkpoint=resume)
    # the Trainer saves a checkpoint at the last step (save_strategy "steps"): that is the result
    last = get_last_checkpoint(str(cfg.output_dir))
    if last is None:
        last = str(cfg.output_dir / "final")
        trainer.save_model(last)
    final_dir = Path(last)
    scored: list[Any] = []
    for cb in trainer.callback_handler.callbacks:
        outcomes = getattr(cb, "outcomes", None)
        if outcomes is not None:
            scored = list(outcomes)
    return TrainOutcome(
        algorithm=cfg.algorithm,
        training_run_id=run_id,
        output_dir=cfg.output_dir,
        final_dir=final_dir,
        global_step=trainer.state.global_step,
        precision=precision.name,
        log_history=list(trainer.state.log_history),
        scored=scored,
    )


def run_precision(cfg: TrainConfig) -> Precision:
    """Precision from the hardware (nothing written)."""
    try:
        return choose_precision(cfg.training.precision)
    except ValueError as e:
        raise ConfigError(f"{cfg.where()}: {e}") from None


_HELD: dict[Path, Any] = {}


def hold_output_dir(cfg: TrainConfig) -> None:
    """Lock ``output_dir`` for this process (one writer per training folder; a second one is
    refused with exit 2 naming the holder). Called only after the data and config were
    validated, since locking creates the folder. Re-entrant within a process (LLF's DPO stage
    trains into the folder LLF holds); :func:`release_output_dirs` frees them."""
    from eval_anything.run.folder_lock import FolderLock

    path = cfg.output_dir.resolve()
    if path not in _HELD:
        _HELD[path] = FolderLock(path, what="training output folder").acquire()


def release_output_dirs(keep: frozenset[Path] = frozenset()) -> None:
    for path in [p for p in _HELD if p not in keep]:
        _HELD.pop(path).release()


@contextlib.contextmanager
def lock_scope() -> Iterator[None]:
    """Free, on exit, the output folders locked inside the block (not those held before)."""
    before = frozenset(_HELD)
    try:
        yield
    finally:
        release_output_dirs(keep=before)


def check_autoscore(cfg: TrainConfig) -> None:
    """The auto-score tasks must exist before training starts: a typo found at the first save
    would leave a trained folder with every checkpoint marked failed."""
    if not cfg.autoscore.tasks:
        return
    from eval_anything.spec.catalog import load_catalog

    try:
        load_catalog(cfg.autoscore.include_paths).expand(cfg.autoscore.tasks)
    except ValueError as e:  # UnknownComponentError and TaskSpecError are user errors
        raise ConfigError(f"{cfg.where()}: field 'autoscore.tasks': {e}") from None


def start_run(cfg: TrainConfig) -> str:
    """Check the auto-score tasks, lock the output folder, then the training run id
    (``training_run.json``): the first writes of a run, after everything was validated."""
    check_autoscore(cfg)
    hold_output_dir(cfg)
    return training_run_id(cfg)


def prepare(cfg: TrainConfig) -> tuple[Precision, str]:
    """Precision and the training run id (locks and writes: call after validating)."""
    return run_precision(cfg), start_run(cfg)
