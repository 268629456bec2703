"""``eval-anything tasks | models | judges | scorers``: what the registries hold, each entry with
a one-line description and its arguments; ``models NAME`` (and likewise) shows one in full."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from eval_anything.cli import component_args
from eval_anything.cli.common import console, user_errors
from eval_anything.cli.component_args import REQUIRED
from eval_anything.registry import first_sentence


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
    # Names are never broken (people copy them into --tasks and task YAML): the name columns
    # do not wrap; the description under a name is wrapped here to the longest name's width,
    # and a dataset id or judge binding (one long word) cut to it, as a last resort. Group
    # membership is the groups table's.
    name_width = max((len(r.name) for r in rows), default=4)
    role_width = max((len(k) for r in rows for k in r.roles), default=5)
    t = Table(title="tasks", box=box.SIMPLE_HEAD, pad_edge=False, show_lines=True)
    t.add_column("task / source", no_wrap=True)
    t.add_column("request", no_wrap=True)
    t.add_column("input -> output")
    t.add_column("n", justify="right", no_wrap=True)
    t.add_column("judge roles", no_wrap=True)
    for r in rows:
        roles = [f"{k}\n{_cut(f'({v})', role_width)}" if v else k for k, v in r.roles.items()]
        t.add_row(
            _task_cell(r.name, headline(r.description), r.source, name_width),
            r.request,
            f"{', '.join(r.input_modalities)} -> {', '.join(r.output_modalities)}",
            "-" if r.n is None else str(r.n),
            "\n".join(roles) or "-",
        )
    console.print(t)
    g = Table(title="groups", box=box.SIMPLE_HEAD, pad_edge=False)
    g.add_column("group", no_wrap=True)
    g.add_column("members", ratio=1)
    for name, members in groups.items():
        g.add_row(name, ", ".join(members))
    console.print(g)
    console.print("lm-eval tasks run as lm_eval:<task> (see `lm_eval ls tasks`).")


def headline(description: str) -> str:
    """What a task is, in a few words: its description's first sentence up to the first
    ``: `` or ``; `` (the descriptions name the task first, then explain it)."""
    return re.split(r"[:;] ", first_sentence(description), maxsplit=1)[0]


def _task_cell(name: str, description: str, source: str, width: int) -> Text:
    """The name, what the task measures (wrapped at spaces) and its source (dim), each line
    at most ``width`` wide so that the column stays as wide as the longest name."""
    lines = [(name, "bold")]
    lines += [(line, "") for line in textwrap.wrap(description, width, break_on_hyphens=False)]
    lines += [(line, "dim") for line in _cut(source, width).splitlines()]
    return Text("\n").join(Text(line, style=style) for line, style in lines)


def _cut(text: str, width: int) -> str:
    """``text`` with every word longer than ``width`` cut into lines of ``width``."""
    words = []
    for word in text.split(" "):
        words.append("\n".join(word[i:i + width] for i in range(0, len(word), width)) or word)
    return " ".join(words)


def _component_table(kind: str, title: str, extra: tuple[str, ...] = ()) -> Table:
    command = "scorers" if kind == "metric" else f"{kind}s"
    t = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, show_lines=True,
              caption=f"* required; `eval-anything {command} NAME`: types, defaults, help")
    t.add_column(kind if kind in ("metric", "aggregator") else "name", no_wrap=True)
    for col in extra:
        t.add_column(col, overflow="fold", max_width=16)
    t.add_column("description", ratio=3, overflow="fold")
    t.add_column("arguments", ratio=2, overflow="fold")
    return t


def _arguments(kind: str, name: str) -> component_args.Arguments:
    from eval_anything import registry

    obj = registry.get(kind, name)
    if kind == "model":
        return component_args.model_arguments(obj)
    if kind == "judge":
        return component_args.judge_arguments(name, obj)
    if kind == "scorer":
        return component_args.scorer_arguments(obj)
    return component_args.metric_arguments(obj)


def _show_one(kind: str, name: str, where: str) -> None:
    """Everything about one component: what it is, where it comes from, every argument with
    its type, default and help."""
    from eval_anything import registry

    with user_errors():
        obj = registry.get(kind, name, where=where)
        args = _arguments(kind, name)
    console.print(f"[bold]{name}[/] ({kind}): {escape(registry.description(kind, name))}")
    target = registry._LAZY[kind].get(name) or f"{obj.__module__}:{obj.__qualname__}"
    console.print(f"provided by {target}")
    for line in _facts(kind, obj):
        console.print(escape(line))
    if not args.items:
        console.print("arguments: none" + (f" ({args.note})" if args.note else ""))
        return
    # one argument per line, its help indented under it: a value such as a URL default is
    # never cut, whatever the width
    console.print(f"arguments{f' ({args.note})' if args.note else ''}:")
    for a in args.items:
        typed = f": {a.type}" if a.type else ""
        default = " (required)" if a.default == REQUIRED else (
            f" = {a.default}" if a.default else "")
        console.print(f"  [bold]{a.name}[/]{escape(typed + default)}", soft_wrap=True)
        if a.help:
            console.print(Padding(escape(a.help), (0, 0, 0, 6), expand=False))


def _facts(kind: str, obj: Any) -> list[str]:
    if kind == "model":
        note = obj.__dict__.get("output_modalities_note")
        outputs = note or ", ".join(obj.output_modalities)
        inputs = obj.__dict__.get("input_modalities", getattr(obj, "input_modalities", None))
        shown = ", ".join(inputs) if isinstance(inputs, tuple | list) else "per model"
        return [f"inputs: {shown}", f"outputs: {outputs}"]
    if kind == "judge":
        rates = _judge_rates(obj)
        return [f"rates: {rates}"] if rates else []
    return []


def _judge_rates(obj: Any) -> str:
    from eval_anything.judges.llm import LLMJudge

    kinds = getattr(obj, "kinds", None)
    if kinds is None and component_args._returns(obj, LLMJudge):
        kinds = LLMJudge.kinds
    return ", ".join(kinds) if kinds else "what its members rate"


def _list(kind: str, extra: tuple[str, ...] = ()) -> Table:
    from eval_anything import registry

    t = _component_table(kind, f"{kind}s", extra)
    for name in registry.names(kind):
        cells = [escape(c) for c in _extra_cells(kind, name)]
        t.add_row(name, *cells, escape(registry.description(kind, name)),
                  escape(_arguments(kind, name).names()))
    return t


def _extra_cells(kind: str, name: str) -> list[str]:
    from eval_anything import registry
    from eval_anything.models.build import takes

    if kind == "model":
        cls = registry.model_class(name)
        note = cls.__dict__.get("output_modalities_note")  # declared by this class itself
        if note is None and takes(cls, "modality"):
            note = "the modality= it is built for"
        return [note or ",".join(cls.output_modalities)]
    if kind == "judge":
        return [_judge_rates(registry.get("judge", name))]
    return []


NAME_ARG = typer.Argument(help="Show one of them in full: every argument with its type, "
                          "default and help.", show_default=False)


def models(name: Annotated[str | None, NAME_ARG] = None) -> None:
    """List model adapters: what each answers with, what it is, its --model-args (NAME: all
    of one adapter's arguments with types and defaults)."""
    if name:
        _show_one("model", name, "eval-anything models")
        return
    with user_errors():
        console.print(_list("model", ("outputs",)))


def judges(name: Annotated[str | None, NAME_ARG] = None) -> None:
    """List judge kinds (bind with --judge ROLE=KIND[:ARGS]): what each rates and its options
    (NAME: one judge in full)."""
    if name:
        _show_one("judge", name, "eval-anything judges")
        return
    with user_errors():
        console.print(_list("judge", ("rates",)))


def scorers(name: Annotated[str | None, NAME_ARG] = None) -> None:
    """List scorers (a task's scorers: with YAML args) and metrics (NAME: one in full)."""
    from eval_anything import registry

    if name:
        is_scorer = name in registry.names("scorer") or name not in registry.names("metric")
        _show_one("scorer" if is_scorer else "metric", name, "eval-anything scorers")
        return
    with user_errors():
        console.print(_list("scorer"))
        console.print(_list("metric"))


def register(app: typer.Typer) -> None:
    app.command("tasks")(tasks)
    app.command("models")(models)
    app.command("judges")(judges)
    app.command("scorers")(scorers)
