"""``AutoScoreCallback``: add it to any transformers or TRL ``Trainer`` and every checkpoint is
scored on the configured tasks, written as a run linked to the training run id and step, and
pushed to the leaderboard store when one exists.

    trainer = Trainer(..., callbacks=[AutoScoreCallback(tasks=["amg_modality_selection"])])

Scoring runs in a child process (see the ``checkpoint_scoring`` module beside this one), on
the main process only. By default ``on_save`` waits for the score (right for a CPU or one GPU, where
training and evaluation would fight over the same device; it also means ``save_total_limit``
cannot delete a checkpoint before it is scored); ``background=True`` scores in order on a worker
thread while training goes on, and ``on_train_end`` waits for the queue to drain.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from eval_anything.trainers.autoscore.checkpoint_scoring import (
    CheckpointScorer,
    ScoreOutcome,
    ScoreSettings,
)

log = logging.getLogger(__name__)


class AutoScoreCallback(TrainerCallback):
    """Scores each saved checkpoint; ``outcomes`` lists the results in step order."""

    def __init__(
        self,
        tasks: list[str] | str,
        *,
        runs_dir: str | Path | None = None,
        training_run_id: str | None = None,
        model: str = "hf",
        model_args: dict[str, Any] | None = None,
        limit: int | None = None,
        include_paths: list[str] | None = None,
        judges: dict[str, str] | None = None,
        batch_size: int = 8,
        gen_overrides: dict[str, Any] | None = None,
        cache_path: str | bool = True,
        push: bool = True,
        store: str | None = None,
        background: bool = False,
        score_base: bool = False,
        base_model: str | None = None,
        timeout_s: float | None = None,
        on_outcome: Callable[[ScoreOutcome], None] | None = None,
        progress: bool = True,
    ) -> None:
        task_list = [t.strip() for t in tasks.split(",")] if isinstance(tasks, str) else list(tasks)
        if not task_list:
            raise ValueError("AutoScoreCallback: give at least one task to score")
        self.settings = ScoreSettings(
            tasks=task_list, model=model, model_args=dict(model_args or {}), limit=limit,
            include_paths=[str(p) for p in include_paths or []], judges=dict(judges or {}),
            batch_size=batch_size, gen_overrides=dict(gen_overrides or {}),
            cache_path=cache_path, push=push, store=store, timeout_s=timeout_s,
            base_model=base_model,
        )
        self.runs_dir = Path(runs_dir) if runs_dir else None
        self.training_run_id = training_run_id
        self.background = background
        self.score_base = score_base
        self.on_outcome = on_outcome
        self.progress = progress  # a line on stderr when each checkpoint starts and ends
        self._scorer: CheckpointScorer | None = None
        self._queue: queue.Queue[tuple[Path, int, str] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self.outcomes: list[ScoreOutcome] = []

    @classmethod
    def from_section(
        cls, section: Any, training_run_id: str, output_dir: Path, base_model: str
    ) -> AutoScoreCallback:
        """From a training config's ``autoscore`` section."""
        return cls(
            tasks=section.tasks,
            runs_dir=section.runs_dir or output_dir / "autoscore",
            training_run_id=training_run_id,
            model=section.model,
            model_args=section.model_args,
            limit=section.limit,
            include_paths=section.include_paths,
            judges=section.judges,
            batch_size=section.batch_size,
            gen_overrides=section.gen_overrides,
            cache_path=section.cache_path if section.cache_path is not None else True,
            push=section.push,
            store=section.store,
            background=section.background,
            score_base=section.score_base,
            base_model=base_model,
            timeout_s=section.timeout_s,
        )

    # ------------------------------------------------------------------ trainer events

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        scorer = self._ensure_scorer(args)
        if self.score_base and self.settings.base_model and not scorer.is_done("base"):
            self._submit(Path(self.settings.base_model), 0, "base")

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        scorer = self._ensure_scorer(args)
        name = f"checkpoint-{state.global_step}"
        ckpt = Path(args.output_dir) / name
        if not ckpt.is_dir():
            log.warning("auto-score: %s does not exist after save; skipped", ckpt)
            return
        if scorer.is_done(name):
            return  # scored before a restart
        self._submit(ckpt, state.global_step, name)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            self.wait()

    # ------------------------------------------------------------------ scoring

    def _ensure_scorer(self, args: Any) -> CheckpointScorer:
        if self._scorer is None:
            runs_dir = self.runs_dir or Path(args.output_dir) / "autoscore"
            run_id = self.training_run_id or _default_run_id(args)
            self._scorer = CheckpointScorer(self.settings, runs_dir, run_id,
                                            progress=self.progress)
            self.outcomes = [o for o in self._scorer.ledger.in_step_order()]
        return self._scorer

    def _submit(self, ckpt: Path, step: int, name: str) -> None:
        if not self.background:
            self._score(ckpt, step, name)
            return
        if self._worker is None:
            self._worker = threading.Thread(target=self._drain, name="autoscore", daemon=True)
            self._worker.start()
        self._queue.put((ckpt, step, name))

    def _score(self, ckpt: Path, step: int, name: str) -> None:
        assert self._scorer is not None
        outcome = self._scorer.score(ckpt, step, name)
        with self._lock:
            self.outcomes = [o for o in self.outcomes if o.name != name] + [outcome]
            self.outcomes.sort(key=lambda o: o.step)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._score(*item)
            except Exception:  # noqa: BLE001 - a scoring bug must not stop later checkpoints
                log.exception("auto-score of %s failed", item)
            finally:
                self._queue.task_done()

    def wait(self) -> None:
        """Block until every submitted checkpoint is scored (background mode)."""
        if self._worker is not None:
            self._queue.join()


def _default_run_id(args: Any) -> str:
    """Without a configured id: the id kept in the output dir (created on first use)."""
    from eval_anything.trainers.config import persistent_run_id

    out = Path(args.output_dir)
    return persistent_run_id(out, out.name or "train")
