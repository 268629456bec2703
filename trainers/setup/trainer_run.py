"""Running a built trainer: resume when asked, keep the last checkpoint as the result, wait for
the scoring still pending, and report what the run left behind."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval_anything.trainers.config import TrainConfig
from eval_anything.trainers.setup.output_folder import lock_scope
from eval_anything.trainers.setup.precision import Precision
from eval_anything.trainers.setup.trainer_build import BuiltTrainer

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


def train_built(cfg: TrainConfig, build: Callable[[], BuiltTrainer]) -> TrainOutcome:
    """Build and run a trainer; the output folder it locks is freed when the run ends."""
    with lock_scope():
        trainer, precision, run_id = build()
        return run_trainer(cfg, trainer, precision, run_id)


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
    scored: list[Any] = []
    for cb in trainer.callback_handler.callbacks:
        outcomes = getattr(cb, "outcomes", None)
        if outcomes is not None:
            scored = list(outcomes)
    return TrainOutcome(
        algorithm=cfg.algorithm,
        training_run_id=run_id,
        output_dir=cfg.output_dir,
        final_dir=Path(last),
        global_step=trainer.state.global_step,
        precision=precision.name,
        log_history=list(trainer.state.log_history),
        scored=scored,
    )
