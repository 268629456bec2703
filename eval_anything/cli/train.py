"""``eval-anything train sft|rm|dpo|llf|critic --config cfg.yaml``: the built-in trainers.

Flags override the YAML (``--set section.field=value`` reaches any field); with no ``--config``
the flags alone must name at least the model and the data. ``--config`` is a file, or the name
of a config bundled with the package (``dpo_smollm2``, ``configs/dpo_smollm2.yaml``: the
repository's ``configs/`` folder is installed as ``eval_anything.configs``), so the examples run
from any folder; ``train --list-configs`` lists them. Thin: parses, calls
:func:`eval_anything.trainers.train`, prints the scored checkpoints.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path, PurePosixPath
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


def bundled_configs() -> dict[str, Path]:
    """The training configs installed with the package, by name (file name without .yaml)."""
    folder = importlib.resources.files("eval_anything.configs")
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir()
            if p.name.endswith((".yaml", ".yml"))}


def resolve_config(text: str) -> tuple[Path, bool]:
    """``--config`` as a file, else as a bundled config's name: ``NAME``, ``NAME.yaml`` or
    ``configs/NAME.yaml`` (the path the docs use inside the repository). Returns the file and
    whether it is a bundled one. A file that exists always wins: a user's own
    ``configs/dpo_smollm2.yaml`` is theirs."""
    from eval_anything.errors import ConfigError

    given = Path(text)
    if given.is_file():
        return given, False
    pure = PurePosixPath(text.replace("\\", "/"))
    bundled = bundled_configs()
    if pure.parent in (PurePosixPath("."), PurePosixPath("configs")):
        name = pure.name.removesuffix(".yaml").removesuffix(".yml")
        if name in bundled:
            return bundled[name], True
    raise ConfigError(
        f"--config {text}: no such file, and no bundled config of that name; give a YAML "
        f"file or one of the bundled configs: {', '.join(sorted(bundled))} "
        "(eval-anything train --list-configs)"
    )


def bundled_data_overrides(path: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """A bundled config names the bundled training rows as the repository holds them
    (``tasks/mini/demo/...``). Outside a clone that path does not exist: it is read from the
    installed ``eval_anything.tasks`` instead, unless ``--data`` or ``--set data.train`` says
    otherwise."""
    import yaml

    if overrides.get("data.train") is not None:
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    train = (raw.get("data") or {}).get("train") if isinstance(raw, dict) else None
    if not isinstance(train, str) or Path(train).is_absolute() or Path(train).exists():
        return {}
    parts = PurePosixPath(train).parts
    if parts[:1] != ("tasks",):
        return {}
    installed = Path(str(importlib.resources.files("eval_anything.tasks"))).joinpath(*parts[1:])
    return {"data.train": str(installed)} if installed.exists() else {}


def _train(algorithm: str, opts: dict[str, Any]) -> None:
    from eval_anything.trainers import train
    from eval_anything.trainers.config import load_train_config

    with user_errors():
        overrides = _overrides(opts)
        config = None
        if opts["config"] is not None:
            config, bundled = resolve_config(str(opts["config"]))
            if bundled:
                overrides.update(bundled_data_overrides(config, overrides))
        cfg = load_train_config(config, algorithm, overrides)
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
        config: Annotated[
            str | None,
            typer.Option(help="Training YAML file, or a bundled config's name (dpo_smollm2; "
                         "see train --list-configs)."),
        ] = None,
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
    from eval_anything.cli import help_markup_mode

    train_app = typer.Typer(
        rich_markup_mode=help_markup_mode(),
        help="Train with the built-in trainers; every checkpoint is auto-scored.",
        no_args_is_help=True,
    )
    train_app.callback(invoke_without_command=True)(_list_configs_option)
    for algorithm in HELP:
        train_app.command(algorithm)(_command(algorithm))
    app.add_typer(train_app, name="train")


def _list_configs_option(
    list_configs: Annotated[
        bool, typer.Option("--list-configs", help="List the bundled training configs and exit.")
    ] = False,
) -> None:
    """Train with the built-in trainers; every checkpoint is auto-scored."""
    if list_configs:
        print_bundled_configs()
        raise typer.Exit()


def print_bundled_configs() -> None:
    """Name, algorithm and first comment line of each bundled config."""
    import yaml
    from rich import box
    from rich.table import Table

    from eval_anything.registry import first_sentence

    t = Table(title="bundled training configs (train ALGORITHM --config NAME)",
              box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("name", no_wrap=True)
    t.add_column("algorithm", no_wrap=True)
    t.add_column("what")
    for name, path in sorted(bundled_configs().items()):
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text) or {}
        head = []  # the opening comment, up to its first blank or indented (command) line
        for line in text.splitlines():
            body = line.removeprefix("#")
            if not line.startswith("#") or not body.strip() or body.startswith("   "):
                break
            head.append(body.strip())
        t.add_row(name, str(raw.get("algorithm", "-")), first_sentence(" ".join(head)))
    console.print(t)
