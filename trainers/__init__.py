"""Pluggable alignment trainers on TRL and transformers (installed as ``eval_anything.trainers``).

    from eval_anything.trainers import load_train_config, train, AutoScoreCallback
    cfg = load_train_config("configs/dpo_smollm2.yaml", "dpo")
    outcome = train(cfg)

Nothing heavy is imported until used, so the CLI and ``eval-anything --help`` stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eval_anything.trainers.callback import AutoScoreCallback
    from eval_anything.trainers.common import TrainOutcome
    from eval_anything.trainers.config import TrainConfig, load_train_config
    from eval_anything.trainers.demo import run_demo
    from eval_anything.trainers.llf import LLFOutcome

__all__ = [
    "AutoScoreCallback", "TrainConfig", "load_train_config", "train", "run_demo",
]


def train(cfg: TrainConfig, **kwargs: Any) -> TrainOutcome | LLFOutcome:
    """Run the trainer ``cfg.algorithm`` names (sft, rm, dpo, llf, critic). The output folder
    is locked once the data are validated, and freed when the run ends."""
    from eval_anything.trainers import critic, dpo, llf, rm, sft
    from eval_anything.trainers.common import lock_scope

    runners: dict[str, Callable[..., TrainOutcome | LLFOutcome]] = {
        "sft": sft.train_sft, "rm": rm.train_rm, "dpo": dpo.train_dpo,
        "llf": llf.train_llf, "critic": critic.train_critic,
    }
    with lock_scope():
        return runners[cfg.algorithm](cfg, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "AutoScoreCallback":
        from eval_anything.trainers.callback import AutoScoreCallback

        return AutoScoreCallback
    if name in ("TrainConfig", "load_train_config"):
        from eval_anything.trainers import config

        return getattr(config, name)
    if name == "run_demo":
        from eval_anything.trainers.demo import run_demo

        return run_demo
    raise AttributeError(f"module 'eval_anything.trainers' has no attribute {name!r}")
