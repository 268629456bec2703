"""One lazy registry for every pluggable component: tasks, models, judges, scorers, metrics,
sample loaders and group aggregators.

Built-ins are listed by import path and imported only when first asked for, so listing the
registry never loads torch. Components register with ``@register(kind, name)``. Third-party
packages add components through the entry-point group ``eval_anything.plugins``: an entry point
named ``<kind>.<name>`` whose value is ``module:object`` (for kind ``tasks`` the object is a
folder of task YAML files, or a callable returning one).
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from eval_anything.builtins import BUILTINS
from eval_anything.errors import UserError

if TYPE_CHECKING:
    from pathlib import Path

    from eval_anything.core.sample import Sample
    from eval_anything.judges.base import Judge
    from eval_anything.models.base import ModelAdapter
    from eval_anything.run.cache import ResponseCache
    from eval_anything.scoring.base import MetricInput, Scorer
    from eval_anything.stats.intervals import MetricValue

KINDS = ("model", "judge", "scorer", "metric", "loader", "aggregator", "tasks")
ENTRY_POINT_GROUP = "eval_anything.plugins"

T = TypeVar("T")

# kind -> name -> "module:attr" (lazy); the built-ins (eval_anything/builtins.py) and plugins
_LAZY: dict[str, dict[str, str]] = {k: {} for k in KINDS}
_LOADED: dict[str, dict[str, Any]] = {k: {} for k in KINDS}
_plugins_loaded = False


class UnknownComponentError(UserError, KeyError):
    """Raised for a name that no registry holds; the message suggests the nearest names.
    A KeyError too, for callers that caught it as one."""

    def __str__(self) -> str:
        return str(self.args[0])


def register(kind: str, name: str) -> Callable[[T], T]:
    """Decorator: ``@register("scorer", "exact_match")``."""
    _check_kind(kind)

    def deco(obj: T) -> T:
        _LOADED[kind][name] = obj
        try:
            obj.registry_name = name  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            pass
        return obj

    return deco


def register_lazy(kind: str, name: str, target: str) -> None:
    _check_kind(kind)
    _LAZY[kind].setdefault(name, target)


def names(kind: str) -> list[str]:
    _check_kind(kind)
    _ensure_builtins()
    return sorted(set(_LAZY[kind]) | set(_LOADED[kind]))


def get(kind: str, name: str, where: str = "") -> Any:
    """The component registered as ``name``; ``where`` prefixes error messages (file: field)."""
    _check_kind(kind)
    _ensure_builtins()
    if name in _LOADED[kind]:
        return _LOADED[kind][name]
    if name in _LAZY[kind]:
        obj = _import(_LAZY[kind][name])
        if isinstance(obj, type) and not getattr(obj, "registry_name", ""):
            obj.registry_name = name  # type: ignore[attr-defined]
        # importing may have registered it under its decorator; prefer that object
        _LOADED[kind].setdefault(name, obj)
        return _LOADED[kind][name]
    raise UnknownComponentError(unknown_message(kind, name, names(kind), where))


# ------------------------------------------------------------- typed accessors, one per kind


class JudgeFactory(Protocol):
    """``factory(ARGS or None, cache=...)``: the judge a ``--judge ROLE=KIND[:ARGS]`` names."""

    def __call__(self, arg: str | None, cache: ResponseCache | None = None) -> Judge: ...


class Loader(Protocol):
    """``loader(row, index, base_dir, **args)``: one source row as a :class:`Sample`."""

    def __call__(self, row: dict[str, Any], index: int, base_dir: Path, **args: Any) -> Sample: ...


class Metric(Protocol):
    """``metric(values, **args)``: named metric values from one score's per-sample values."""

    def __call__(self, inp: MetricInput, **args: Any) -> dict[str, MetricValue]: ...


class Aggregator(Protocol):
    """``aggregator(members, task_results=..., groups=..., **args)``: a group's metrics from its
    members' primary metrics."""

    def __call__(
        self, members: dict[str, MetricValue], **kwargs: Any
    ) -> dict[str, MetricValue]: ...


def model_class(name: str, where: str = "") -> type[ModelAdapter]:
    return cast("type[ModelAdapter]", get("model", name, where))


def judge_factory(name: str, where: str = "") -> JudgeFactory:
    return cast(JudgeFactory, get("judge", name, where))


def scorer_class(name: str, where: str = "") -> type[Scorer]:
    return cast("type[Scorer]", get("scorer", name, where))


def metric(name: str, where: str = "") -> Metric:
    return cast(Metric, get("metric", name, where))


def aggregator(name: str, where: str = "") -> Aggregator:
    return cast(Aggregator, get("aggregator", name, where))


def loader(name: str, where: str = "") -> Loader:
    return cast(Loader, get("loader", name, where))


def description(kind: str, name: str) -> str:
    """One line saying what the component ``name`` is, for listings: the first sentence of its
    own docstring, or of its module's when it has none of its own or its own opens with its
    arguments (``args: ...``): a description inherited from a base class would describe every
    adapter alike."""
    obj = get(kind, name)
    own = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    text = first_sentence(own or "")
    if not text or text.lower().startswith("args:"):
        module = sys.modules.get(getattr(obj, "__module__", ""))
        text = first_sentence(getattr(module, "__doc__", None) or "") or text
    named = re.match(rf"(--\w+ )?{re.escape(name)}: ", text)  # "tts: speech..." names itself
    if named:
        text = text[named.end():]
        text = text[:1].upper() + text[1:]
    return text


def first_sentence(doc: str) -> str:
    """The first sentence of a docstring's first paragraph, on one line, reST roles and double
    backticks dropped (a terminal shows them as noise)."""
    paragraph = inspect.cleandoc(doc).split("\n\n", 1)[0]
    text = " ".join(paragraph.split())
    text = re.sub(r":\w+:`([^`]*)`", r"\1", text).replace("``", "")
    end = re.search(r"(?<=[.!?])\s+(?=[A-Z(])", text)
    return text[: end.start()] if end else text


def unknown_message(kind: str, name: str, known: list[str], where: str = "") -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    prefix = f"{where}: " if where else ""
    listing = f"; known: {', '.join(known)}" if len(known) <= 30 else ""
    return f"{prefix}{kind} {name!r} is not registered{hint}{listing}"


def _import(target: str) -> Any:
    module, _, attr = target.partition(":")
    mod = importlib.import_module(module)
    return getattr(mod, attr) if attr else mod


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown registry kind {kind!r}; kinds: {', '.join(KINDS)}")


def _ensure_builtins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for kind, entries in BUILTINS.items():
        for name, target in entries.items():
            register_lazy(kind, name, target)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        kind, _, name = ep.name.partition(".")
        if kind in KINDS and name:
            register_lazy(kind, name, ep.value)
