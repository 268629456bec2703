"""``eval-anything demo``: base model -> score -> train -> auto-scored checkpoints -> store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eval_anything.cli.common import console, user_errors


def demo_command(
    workdir: Annotated[Path, typer.Option(help="The demo's folder (emptied first).")] = Path(
        "runs/demo"
    ),
    base: Annotated[str, typer.Option(help="Base model: 'smollm2' or a model folder.")] = "smollm2",
    algorithm: Annotated[
        str, typer.Option(help="'sft' on the preferred answers, or 'dpo' on the pairs.")
    ] = "sft",
    max_steps: Annotated[int, typer.Option(help="Training steps.")] = 40,
    save_steps: Annotated[int, typer.Option(help="Checkpoint (and score) every N steps.")] = 10,
    learning_rate: Annotated[float, typer.Option(help="Peak learning rate.")] = 3e-5,
    precision: Annotated[
        str, typer.Option(help="Training precision: auto (from the hardware), fp32, bf16, fp16.")
    ] = "auto",
    limit: Annotated[int | None, typer.Option(help="Score at most N items.")] = None,
    store: Annotated[
        str | None, typer.Option(help="Store URL or SQLite path (default: the local store).")
    ] = None,
    no_push: Annotated[bool, typer.Option("--no-push", help="Do not push to the store.")] = False,
) -> None:
    """The whole loop offline on a CPU: score SmolLM2-135M-Instruct on modality selection, train
    on bundled held-out preference data (SFT on the preferred answers, or DPO on the pairs),
    score every checkpoint, push, compare."""
    from eval_anything.trainers.demo.loop import DemoSettings, report_lines, run_demo

    quiet_progress_bars()

    settings = DemoSettings(
        workdir=workdir, base=base, algorithm=algorithm, max_steps=max_steps,
        save_steps=save_steps, learning_rate=learning_rate, precision=precision, limit=limit,
        store=store, push=not no_push,
    )
    with user_errors():
        report = run_demo(settings, echo=lambda line: console.print(line, highlight=False))
    console.print("[4/4] score versus step")
    for line in report_lines(report, settings):
        console.print(line, highlight=False, markup=False)


def quiet_progress_bars() -> None:
    """The demo prints one line per step; the libraries' own bars would interleave with it."""
    import datasets
    import huggingface_hub.utils
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    huggingface_hub.utils.disable_progress_bars()


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
