"""``eval-anything tasks | models | judges``: what the registries hold."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from eval_anything.cli.common import console, user_errors


def tasks(
    include_path: Annotated[
        list[Path] | None, typer.Option(help="Extra folder of task YAML files (repeatable).")
    ] = None,
    sizes: Annotated[bool, typer.Option(help="Count samples (reads every dataset).")] = True,
) -> None:
    """List tasks and groups with their modalities, sizes and required judge roles."""
    from eval_anything.spec.listing import describe_tasks

    with user_errors():
        rows, groups = describe_tasks(list(include_path or []), count=sizes)
    t = Table(title="tasks")
    for col in ("task", "groups", "request", "input", "output", "n", "judge roles", "source"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(
            r.name,
            ", ".join(r.groups),
            r.request,
            ",".join(r.input_modalities),
            ",".join(r.output_modalities),
            "-" if r.n is None else str(r.n),
            ", ".join(f"{k}({v})" if v else k for k, v in r.roles.items()) or "-",
            r.source,
        )
    console.print(t)
    g = Table(title="groups")
    g.add_column("group")
    g.add_column("members")
    for name, members in groups.items():
        g.add_row(name, ", ".join(members))
    console.print(g)
    console.print("lm-eval tasks run as lm_eval:<task> (see `lm_eval ls tasks`).")


def _names_table(kind: str) -> None:
    from eval_anything import registry

    t = Table(title=f"{kind}s")
    t.add_column("name")
    t.add_column("provided by")
    for name in registry.names(kind):
        target = registry._LAZY[kind].get(name) or getattr(
            registry._LOADED[kind].get(name), "__module__", "?"
        )
        t.add_row(name, str(target))
    console.print(t)


def models() -> None:
    """List model adapters and the modalities they answer with (per model where it depends on
    the checkpoint or the parts it is built from)."""
    from eval_anything import registry
    from eval_anything.models.build import takes

    t = Table(title="models")
    for col in ("name", "outputs", "provided by"):
        t.add_column(col, overflow="fold")
    for name in registry.names("model"):
        cls = registry.model_class(name)
        note = cls.__dict__.get("output_modalities_note")  # declared by this class itself
        if note is None and takes(cls, "modality"):
            note = "the modality= it is built for"
        t.add_row(name, note or ",".join(cls.output_modalities), cls.__module__)
    console.print(t)


def judges() -> None:
    """List judge kinds (bind with --judge ROLE=KIND[:ARG])."""
    _names_table("judge")


def scorers() -> None:
    """List scorers and metrics."""
    _names_table("scorer")
    _names_table("metric")


def register(app: typer.Typer) -> None:
    app.command("tasks")(tasks)
    app.command("models")(models)
    app.command("judges")(judges)
    app.command("scorers")(scorers)
