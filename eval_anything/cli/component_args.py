"""The arguments each registered component takes, read from where the component declares them,
so a listing can never disagree with what the component accepts.

- a model adapter: its constructor's signature (``--model-args`` are typed by it), with the
  help text of the class docstring's ``Args:`` section;
- a judge: the options table it types its binding with (``binding_options``), or, for an LLM
  judge, the model adapter's arguments plus the judge options of :class:`LLMJudge`;
- a scorer: the YAML ``args`` its code reads (``args.get("name", default)``);
- a metric: its function's keyword parameters.
"""

from __future__ import annotations

import inspect
import re
import typing
from dataclasses import dataclass
from typing import Any

REQUIRED = "required"
_ARGS_READ = re.compile(r"args\.get\(\s*[\"'](\w+)[\"']\s*(?:,\s*(.+?))?\s*\)")


@dataclass(frozen=True)
class Argument:
    """One argument as a listing shows it; ``default`` is ``required`` when there is none."""

    name: str
    type: str = ""
    default: str = ""
    help: str = ""


@dataclass(frozen=True)
class Arguments:
    """A component's arguments and a note on what else it accepts (``""`` when nothing)."""

    items: tuple[Argument, ...]
    note: str = ""
    summary: str = ""

    def names(self) -> str:
        """Argument names for a listing (or its ``summary``); required ones end with ``*``."""
        if self.summary:
            return self.summary
        shown = [a.name + ("*" if a.default == REQUIRED else "") for a in self.items]
        return ", ".join(shown + ([self.note] if self.note else [])) or "-"


def model_arguments(cls: type) -> Arguments:
    """The adapter's constructor parameters. A parameter typed ``Any`` defaulting to ``None``
    (an engine object, a key object) is for Python callers, never for ``--model-args``, and is
    left out. An adapter whose constructor takes only ``**kwargs`` forwards them to its base
    class, whose required arguments it then supplies itself."""
    params = _init_parameters(cls)
    if params and all(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        base = next((b for b in cls.__mro__[1:] if _named(_init_parameters(b))), None)
        if base is not None:
            inherited = model_arguments(base)
            kept = tuple(a for a in inherited.items if a.default != REQUIRED)
            dropped = [a.name for a in inherited.items if a.default == REQUIRED]
            base_name = getattr(base, "registry_name", base.__name__)
            but = f" but {', '.join(dropped)}" if dropped else ""
            return Arguments(kept, f"passed on to {base_name}",
                             f"those of {base_name}{but} (`eval-anything models {base_name}`)")
    helps = docstring_args(cls.__dict__.get("__doc__") or "")
    items = []
    for p in params:
        if p.kind in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL):
            continue
        if str(p.annotation) == "Any" and p.default is None:
            continue
        items.append(_argument(p, helps.get(p.name, "")))
    open_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    return Arguments(tuple(items), "other key=value passed on" if open_kwargs else "")


def judge_arguments(name: str, obj: Any) -> Arguments:
    """The options a judge binding takes (``--judge ROLE=KIND:ARGS``)."""
    from eval_anything import registry
    from eval_anything.judges.llm import JUDGE_OPTIONS, LLMJudge

    declared = getattr(obj, "binding_options", None)
    if declared is not None:
        return Arguments(tuple(Argument(k, _type_name(t)) for k, t in declared.items()))
    if _returns(obj, LLMJudge):
        judge_opts = [_argument(p, "judge option") for p in _init_parameters(LLMJudge)
                      if p.name in JUDGE_OPTIONS]
        options = ", ".join(a.name for a in judge_opts)
        if name not in registry.names("model"):
            return Arguments(tuple(judge_opts), "and the ADAPTER's model args",
                             f"the ADAPTER's model args; judge options: {options}")
        adapter = model_arguments(registry.model_class(name))
        return Arguments((*adapter.items, *judge_opts), adapter.note,
                         f"the model args of {name} (`eval-anything models {name}`); "
                         f"judge options: {options}")
    return Arguments(())


def scorer_arguments(cls: type) -> Arguments:
    """The YAML ``args`` a scorer reads, found in the source of the class and its bases."""
    seen: dict[str, Argument] = {}
    for klass in cls.__mro__:
        if klass.__module__ in ("builtins", "abc"):
            continue
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        for m in _ARGS_READ.finditer(source):
            seen.setdefault(m.group(1), Argument(m.group(1), default=m.group(2) or "None"))
    return Arguments(tuple(seen.values()))


def metric_arguments(fn: Any) -> Arguments:
    """A metric's (or aggregator's) keyword parameters, after the values it reduces."""
    params = list(inspect.signature(fn).parameters.values())[1:]
    return Arguments(tuple(_argument(p, "") for p in params
                           if p.kind is not inspect.Parameter.VAR_KEYWORD))


def docstring_args(doc: str) -> dict[str, str]:
    """``name: help`` entries of a Google-style ``Args:`` section, each on one line; an entry
    naming several arguments (``a, b: ...``) gives each the same help."""
    lines = inspect.cleandoc(doc).splitlines()
    out: dict[str, str] = {}
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Args:")
    except StopIteration:
        return out
    current: list[str] = []
    for line in lines[start + 1:]:
        if not line.strip() or not line.startswith(" "):
            break
        entry = re.match(r"^ {2,8}([\w, ]+):\s+(.*)$", line)
        if entry and not line.startswith(" " * 9):
            current = [n.strip() for n in entry.group(1).split(",")]
            for n in current:
                out[n] = entry.group(2).strip()
        else:
            for n in current:
                out[n] += " " + line.strip()
    return {k: v.replace("``", "") for k, v in out.items()}


def _init_parameters(cls: type) -> list[inspect.Parameter]:
    try:
        sig = inspect.signature(cls)  # the constructor's parameters, ``self`` left out
    except (TypeError, ValueError):
        return []
    return [p for n, p in sig.parameters.items() if n != "self"]


def _named(params: list[inspect.Parameter]) -> bool:
    return any(p.kind is not inspect.Parameter.VAR_KEYWORD for p in params)


def _argument(p: inspect.Parameter, help_text: str) -> Argument:
    annotation = "" if p.annotation is inspect.Parameter.empty else str(p.annotation)
    default = REQUIRED if p.default is inspect.Parameter.empty else repr(p.default)
    return Argument(p.name, annotation.strip("'"), default, help_text)


def _type_name(t: Any) -> str:
    return getattr(t, "__name__", str(t))


def _returns(obj: Any, cls: type) -> bool:
    if isinstance(obj, type):
        return issubclass(obj, cls)
    try:
        returned = typing.get_type_hints(obj).get("return")
    except Exception:  # noqa: BLE001 - an unresolvable annotation: not an LLM judge we can list
        return False
    return isinstance(returned, type) and issubclass(returned, cls)
