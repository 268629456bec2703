"""Pluggable alignment trainers on TRL and transformers (installed as ``eval_anything.trainers``).

    from eval_anything.trainers import load_train_config, train, AutoScoreCallback
    cfg = load_train_config("configs/dpo_smollm2.yaml", "dpo")
    outcome = train(cfg)

The folder by concern: ``config`` (the YAML), ``algorithms/`` (sft, dpo, rm, critic, llf),
``data/`` (from a file of rows to what TRL consumes), ``setup/`` (what every algorithm shares
around TRL: precision, model loading, TRL arguments, the output folder, building and running a
trainer), ``autoscore/`` (scoring every checkpoint: the callback, ``watch``) and ``demo/``.
Nothing heavy is imported until used, so the CLI and ``eval-anything --help`` stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eval_anything.trainers.algorithms.llf import LLFOutcome
    from eval_anything.trainers.autoscore.callback import AutoScoreCallback
    from eval_anything.trainers.config import TrainConfig, load_train_config
    from eval_anything.trainers.demo.loop import run_demo
    from eval_anything.trainers.setup.trainer_run import TrainOutcome

__all__ = [
    "AutoScoreCallback", "TrainConfig", "load_train_config", "train", "run_demo",
]


def train(cfg: TrainConfig, **kwargs: Any) -> TrainOutcome | LLFOutcome:
    """Run the trainer ``cfg.algorithm`` names (sft, rm, dpo, llf, critic). The output folder
    is locked once the data are validated, and freed when the run ends."""
    from eval_anything.trainers.algorithms import critic, dpo, llf, rm, sft
    from eval_anything.trainers.setup.output_folder import lock_scope

    runners: dict[str, Callable[..., TrainOutcome | LLFOutcome]] = {
        "sft": sft.train_sft, "rm": rm.train_rm, "dpo": dpo.train_dpo,
        "llf": llf.train_llf, "critic": critic.train_critic,
    }
    with lock_scope():
        return runners[cfg.algorithm](cfg, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "AutoScoreCallback":
        from eval_anything.trainers.autoscore.callback import AutoScoreCallback

        return AutoScoreCallback
    if name in ("TrainConfig", "load_train_config"):
        from eval_anything.trainers import config

        return getattr(config, name)
    if name == "run_demo":
        from eval_anything.trainers.demo.loop import run_demo

        return run_demo
    raise AttributeError(f"module 'eval_anything.trainers' has no attribute {name!r}")
