"""``eval-anything train sft|rm|dpo|llf|critic --config cfg.yaml``: the built-in trainers.

Flags override the YAML (``--set section.field=value`` reaches any field); with no ``--config``
the flags alone must name at least the model and the data. Thin: parses, calls
:func:`eval_anything.trainers.train`, prints the scored checkpoints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from eval_anything.cli.common import console, fmt, user_errors

HELP = {
    "sft": "Supervised fine-tuning (TRL SFTTrainer) on prompt/completion or Sample rows.",
    "rm": "Reward model (TRL RewardTrainer) on preference pairs.",
    "dpo": "DPO (TRL DPOTrainer; --loss-type sigmoid, ipo, hinge, robust, ...) on pairs.",
    "llf": "Learning from language feedback: sample, critique, refine, then DPO on the pairs.",
    "critic": "SFT of a critic (feedback) model on prompt/response/critique rows.",
}


def _overrides(opts: dict[str, Any]) -> dict[str, Any]:
    """CLI flags as dotted config overrides (None = not given)."""
    from eval_anything.trainers.config import RoleBinding, parse_set_option

    o: dict[str, Any] = {
        "model.path": opts["model"],
        "data.train": opts["data"],
        "data.format": opts["data_format"],
        "data.preference_field": opts["preference_field"],
        "data.media_root": opts["media_root"],
        "training.output_dir": str(opts["output_dir"]) if opts["output_dir"] else None,
        "training.max_steps": opts["max_steps"],
        "training.save_steps": opts["save_steps"],
        "training.learning_rate": opts["learning_rate"],
        "training.per_device_train_batch_size": opts["batch_size"],
        "training.precision": opts["precision"],
        "dpo.beta": opts["beta"],
        "dpo.loss_type": opts["loss_type"].split(",") if opts["loss_type"] else None,
        "autoscore.tasks": opts["tasks"],
        "autoscore.limit": opts["limit"],
        "autoscore.include_paths": [str(p) for p in opts["include_path"]] or None,
        "autoscore.store": opts["store"],
    }
    if opts["resume"]:
        o["training.resume"] = True
    if opts["lora"]:
        o["model.lora"] = {}
    if opts["exclude_overlap"]:
        o["data.exclude_overlap"] = True
    if opts["no_push"]:
        o["autoscore.push"] = False
    if opts["critic"]:
        o["llf.critic"] = RoleBinding.parse(opts["critic"]).model_dump()
    for item in opts["set"]:
        key, value = parse_set_option(item)
        o[key] = value
    return o


def _train(algorithm: str, opts: dict[str, Any]) -> None:
    from eval_anything.trainers import train
    from eval_anything.trainers.config import load_train_config

    with user_errors():
        cfg = load_train_config(opts["config"], algorithm, _overrides(opts))
        kwargs = {"until": opts["until"]} if algorithm == "llf" and opts["until"] else {}
        outcome = train(cfg, **kwargs)
    if algorithm == "llf":
        console.print(f"llf stages in {outcome.workdir}: {outcome.counts}")
        for stage, note in outcome.skipped.items():
            console.print(f"  {stage}: {note}")
        outcome = outcome.train
    if outcome is None:
        return
    console.print(
        f"trained {outcome.training_run_id} for {outcome.global_step} steps "
        f"({outcome.precision}); last checkpoint: {outcome.final_dir}"
    )
    print_scored(outcome.scored)


def print_scored(outcomes: list[Any]) -> None:
    """Step, checkpoint, status, each task's primary metric, and the error or push note, per
    checkpoint (every metric is in each run's results.json)."""
    from rich.table import Table

    from eval_anything.trainers.autoscore.checkpoint_scoring import headline

    if not outcomes:
        return
    shown = [headline(o) for o in outcomes]
    names = sorted({k for h in shown for k in h})
    t = Table(title="scored checkpoints")
    for col in ("step", "checkpoint", "status", *names, "note"):
        t.add_column(col, overflow="fold")
    for o, h in zip(outcomes, shown, strict=True):
        note = o.error if o.status == "failed" else (o.push_note or f"pushed {o.pushed_run_id}")
        t.add_row(str(o.step), o.name, o.status, *[fmt(h.get(n)) for n in names],
                  (note or "")[:300])
    console.print(t)


def _command(algorithm: str) -> Any:
    def command(
        config: Annotated[Path | None, typer.Option(help="Training YAML (see configs/).")] = None,
        model: Annotated[
            str | None, typer.Option(help="Model folder, hub id or 'smollm2'.")
        ] = None,
        data: Annotated[
            str | None,
            typer.Option(help="Training rows: JSONL, JSON, Parquet, or a datasets folder."),
        ] = None,
        data_format: Annotated[
            str | None, typer.Option("--format", help="Data format (default auto).")
        ] = None,
        preference_field: Annotated[
            str | None,
            typer.Option(help="Field deciding chosen/rejected (e.g. safer_response_id)."),
        ] = None,
        media_root: Annotated[
            str | None, typer.Option(help="Folder relative media paths are read from.")
        ] = None,
        output_dir: Annotated[Path | None, typer.Option(help="Checkpoints go here.")] = None,
        max_steps: Annotated[int | None, typer.Option(help="Optimizer steps.")] = None,
        save_steps: Annotated[
            int | None, typer.Option(help="Save (and score) every N steps.")
        ] = None,
        learning_rate: Annotated[float | None, typer.Option("--lr", help="Learning rate.")] = None,
        batch_size: Annotated[int | None, typer.Option(help="Per-device batch size.")] = None,
        precision: Annotated[str | None, typer.Option(help="auto, fp32, bf16 or fp16.")] = None,
        beta: Annotated[float | None, typer.Option(help="DPO beta.")] = None,
        loss_type: Annotated[
            str | None, typer.Option(help="DPO loss(es), comma-separated.")
        ] = None,
        lora: Annotated[bool, typer.Option("--lora", help="Train a LoRA adapter.")] = False,
        tasks: Annotated[
            str | None, typer.Option(help="Auto-score these tasks at each save.")
        ] = None,
        limit: Annotated[
            int | None, typer.Option(help="Auto-score at most N samples per task.")
        ] = None,
        include_path: Annotated[list[Path] | None, typer.Option(help="Extra task folder.")] = None,
        store: Annotated[
            str | None, typer.Option(help="Leaderboard store URL or SQLite path.")
        ] = None,
        exclude_overlap: Annotated[
            bool, typer.Option("--exclude-overlap",
                               help="Drop training rows containing auto-score task items.")
        ] = False,
        no_push: Annotated[
            bool, typer.Option("--no-push", help="Do not push scored runs.")
        ] = False,
        critic: Annotated[
            str | None, typer.Option(help="llf: critic binding ADAPTER[:ARGS].")
        ] = None,
        until: Annotated[str | None, typer.Option(help="llf: stop after this stage.")] = None,
        resume: Annotated[
            bool, typer.Option("--resume", help="Resume from the last checkpoint.")
        ] = False,
        set: Annotated[  # noqa: A002
            list[str] | None, typer.Option("--set", help="KEY=VALUE config override.")
        ] = None,
    ) -> None:
        opts = dict(locals())
        opts["include_path"] = opts["include_path"] or []
        opts["set"] = opts["set"] or []
        _train(algorithm, opts)

    command.__doc__ = HELP[algorithm]
    return command


def register(app: typer.Typer) -> None:
    train_app = typer.Typer(
        help="Train with the built-in trainers; every checkpoint is auto-scored.",
        no_args_is_help=True,
    )
    for algorithm in HELP:
        train_app.command(algorithm)(_command(algorithm))
    app.add_typer(train_app, name="train")
