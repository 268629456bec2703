"""``eval-anything watch CKPT_DIR``: score every new complete checkpoint any trainer writes.

For trainers outside Python or outside transformers (a DeepSpeed script, another framework): the
watcher polls a folder for ``checkpoint-N`` sub-folders (``--pattern`` changes the name), and
scores each complete one once, in step order, through the same child-process scorer and ledger as
the auto-score callback. The ledger lives in the runs folder (default ``CKPT_DIR/.eval_anything``),
so a restarted watcher skips what it already scored. When an eval-anything trainer writes the
folder, its training run id (``training_run.json``) is the lineage of every scored checkpoint.
A checkpoint is complete when it holds a config, all its weight files (every shard an index
names), and nothing in it changed for ``settle_s`` seconds (a writer may still be flushing).
Checkpoints must be Hugging Face folders (``save_pretrained``; DeepSpeed ZeRO-3 must save with
``stage3_gather_16bit_weights_on_model_save``).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eval_anything.errors import UserError
from eval_anything.trainers.autoscore.checkpoint_scoring import (
    LEDGER_FILE,
    CheckpointScorer,
    ScoreOutcome,
    ScoreSettings,
)
from eval_anything.trainers.config import persistent_run_id

log = logging.getLogger(__name__)

DEFAULT_PATTERN = r"checkpoint-(\d+)"
TRAINER_RUN_FILE = "training_run.json"  # written by eval-anything's trainers in output_dir
STATE_DIR = ".eval_anything"
CONFIG_FILES = ("config.json", "adapter_config.json")
WEIGHT_FILES = (
    "model.safetensors", "pytorch_model.bin", "adapter_model.safetensors", "adapter_model.bin",
)
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")


def trainer_run_id(root: Path) -> str | None:
    """The training run id the trainer that writes ``root`` keeps (``training_run.json``, or
    its auto-score ledger when the config named the id), so the checkpoints a watcher scores
    join that training run on the leaderboard instead of a second one. None for a folder no
    eval-anything trainer wrote."""
    for marker in (root / TRAINER_RUN_FILE, root / "autoscore" / LEDGER_FILE):
        if not marker.is_file():
            continue
        try:
            run_id = json.loads(marker.read_text(encoding="utf-8")).get("training_run_id")
        except (ValueError, AttributeError, OSError) as e:
            raise UserError(
                f"{marker}: cannot read the training run id ({e}); fix or remove the file, or "
                "pass --training-run-id"
            ) from None
        if isinstance(run_id, str) and run_id:
            return run_id
    return None


@dataclass(frozen=True)
class Checkpoint:
    name: str
    step: int
    path: Path


def find_checkpoints(root: Path, pattern: str = DEFAULT_PATTERN) -> list[Checkpoint]:
    """Folders of ``root`` whose whole name matches ``pattern`` (group 1 = step), by step."""
    rx = re.compile(pattern)
    found = []
    if not root.exists():
        return []
    for child in root.iterdir():
        m = rx.fullmatch(child.name)
        if m and child.is_dir():
            found.append(Checkpoint(child.name, int(m.group(1)), child))
    return sorted(found, key=lambda c: (c.step, c.name))


def missing_parts(path: Path) -> list[str]:
    """What a checkpoint folder still lacks to be loadable (empty when complete)."""
    missing = []
    if not any((path / f).exists() for f in CONFIG_FILES):
        missing.append("config.json")
    if any((path / f).exists() for f in WEIGHT_FILES):
        return missing
    for index in INDEX_FILES:
        if (path / index).exists():
            try:
                shards = set(json.loads((path / index).read_text())["weight_map"].values())
            except (ValueError, KeyError):
                return [*missing, f"{index} (unreadable)"]
            return missing + sorted(s for s in shards if not (path / s).exists())
    return [*missing, "weights (model.safetensors or an index)"]


def seconds_since_change(path: Path) -> float:
    newest = max((f.stat().st_mtime for f in path.rglob("*") if f.is_file()), default=0.0)
    newest = max(newest, path.stat().st_mtime)
    return time.time() - newest


def is_complete(path: Path, settle_s: float) -> bool:
    return not missing_parts(path) and seconds_since_change(path) >= settle_s


class Watcher:
    """Polls ``root`` and scores new complete checkpoints in step order."""

    def __init__(
        self,
        root: Path | str,
        settings: ScoreSettings,
        runs_dir: Path | str | None = None,
        training_run_id: str | None = None,
        pattern: str = DEFAULT_PATTERN,
        settle_s: float = 5.0,
        stale_s: float = 600.0,
        retry_failed: bool = False,
        on_outcome: Callable[[ScoreOutcome], None] | None = None,
    ) -> None:
        self.root = Path(root)
        runs = Path(runs_dir) if runs_dir else self.root / STATE_DIR
        self.trainer_run_id = None if training_run_id else trainer_run_id(self.root)
        run_id = (training_run_id or self.trainer_run_id
                  or persistent_run_id(runs, self.root.resolve().name or "watch"))
        self.scorer = CheckpointScorer(settings, runs, run_id)
        if self.trainer_run_id and self.scorer.training_run_id != self.trainer_run_id:
            # a ledger from before the trainer's id was read: lineage follows the trainer
            log.warning(
                "%s records training run %s, but the trainer's %s says %s: checkpoints scored "
                "from now on go under %s (runs scored before keep %s)",
                self.scorer.ledger.path, self.scorer.training_run_id,
                self.root / TRAINER_RUN_FILE, self.trainer_run_id, self.trainer_run_id,
                self.scorer.training_run_id,
            )
            self.scorer.training_run_id = self.trainer_run_id
            self.scorer.ledger.training_run_id = self.trainer_run_id
        self.pattern = pattern
        self.settle_s = settle_s
        self.stale_s = stale_s
        self.retry_failed = retry_failed
        self.on_outcome = on_outcome
        self.outcomes: list[ScoreOutcome] = []
        self._warned: set[str] = set()

    def _wanted(self, c: Checkpoint) -> bool:
        done = self.scorer.ledger.get(c.name)
        return done is None or (self.retry_failed and done.status == "failed" and
                                c.name not in {o.name for o in self.outcomes})

    def pending(self) -> list[Checkpoint]:
        return [c for c in find_checkpoints(self.root, self.pattern) if self._wanted(c)]

    def poll(self, hold_back: bool = True) -> list[ScoreOutcome]:
        """Score what is ready now, in step order. With ``hold_back`` (a watcher that keeps
        polling) an incomplete checkpoint holds back later ones until it completes or has not
        changed for ``stale_s`` (then it is skipped); without it (``--once``) an incomplete one
        is passed over and named by :meth:`unscored`."""
        scored = []
        for c in self.pending():
            if not is_complete(c.path, self.settle_s):
                if not hold_back:
                    continue
                if seconds_since_change(c.path) >= self.stale_s:
                    if c.name not in self._warned:
                        log.warning("%s is incomplete (missing %s) and unchanged for %.0f s; "
                                    "skipped", c.path, ", ".join(missing_parts(c.path)),
                                    self.stale_s)
                        self._warned.add(c.name)
                    continue
                break
            outcome = self.scorer.score(c.path, c.step, c.name)
            self.outcomes.append(outcome)
            scored.append(outcome)
            if self.on_outcome is not None:
                self.on_outcome(outcome)
        return scored

    def wait_to_settle(self) -> None:
        """Wait, at most ``settle_s`` (plus a moment), until no pending checkpoint changed in
        the last ``settle_s`` seconds: a one-pass run started right after training must score
        the last checkpoint instead of finding it too young and exiting with nothing done."""
        deadline = time.monotonic() + self.settle_s + 0.5
        while True:
            young = [
                self.settle_s - age
                for age in (seconds_since_change(c.path) for c in self.pending())
                if age < self.settle_s
            ]
            left = deadline - time.monotonic()
            if not young or left <= 0:
                return
            time.sleep(min(max(young) + 0.05, left))

    def unscored(self) -> list[tuple[Checkpoint, str]]:
        """Each checkpoint still pending, with why it was not scored (said at exit)."""
        out = []
        for c in self.pending():
            missing = missing_parts(c.path)
            age = seconds_since_change(c.path)
            if missing:
                why = f"incomplete, missing {', '.join(missing)}"
            elif age < self.settle_s:
                why = (f"still being written (changed {age:.1f} s ago; a checkpoint must be "
                       f"unchanged for --settle {self.settle_s:g} s)")
            else:
                why = "complete but not reached before the watcher stopped"
            out.append((c, why))
        return out

    def done_before(self) -> list[Checkpoint]:
        """Checkpoints in the folder that the ledger settled in an earlier session (scored, or
        failed and not retried): this session leaves them alone."""
        session = {o.name for o in self.outcomes}
        return [
            c for c in find_checkpoints(self.root, self.pattern)
            if c.name not in session and not self._wanted(c)
        ]

    def run(
        self,
        poll_s: float = 10.0,
        once: bool = False,
        idle_exit_s: float | None = None,
        until: Callable[[], bool] | None = None,
    ) -> list[ScoreOutcome]:
        """Poll until stopped: ``once`` (wait for checkpoints still settling, score every
        complete one, then stop), ``idle_exit_s`` without new checkpoints, or ``until()`` true
        with nothing left pending."""
        if once:
            self.wait_to_settle()
            self.poll(hold_back=False)
            return self.outcomes
        last_activity = time.monotonic()
        while True:
            if self.poll():
                last_activity = time.monotonic()
            if until is not None and until() and not self._ready_pending():
                break
            if idle_exit_s is not None and time.monotonic() - last_activity >= idle_exit_s:
                break
            time.sleep(poll_s)
        return self.outcomes

    def _ready_pending(self) -> bool:
        return any(
            not missing_parts(c.path) and c.name not in self._warned for c in self.pending()
        )


def watch(
    root: Path | str, settings: ScoreSettings, poll_s: float = 10.0, once: bool = False,
    idle_exit_s: float | None = None, until: Callable[[], bool] | None = None,
    **watcher_args: object,
) -> list[ScoreOutcome]:
    """Python API of ``eval-anything watch``; returns the outcomes scored in this session."""
    watcher = Watcher(root, settings, **watcher_args)  # type: ignore[arg-type]
    return watcher.run(poll_s=poll_s, once=once, idle_exit_s=idle_exit_s, until=until)
