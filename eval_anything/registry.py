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
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from eval_anything.errors import UserError

KINDS = ("model", "judge", "scorer", "metric", "loader", "aggregator", "tasks")
ENTRY_POINT_GROUP = "eval_anything.plugins"

T = TypeVar("T")

# kind -> name -> "module:attr" (lazy) ; filled in by eval_anything/builtins.py
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
    from eval_anything import builtins  # noqa: F401  (fills _LAZY)

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        kind, _, name = ep.name.partition(".")
        if kind in KINDS and name:
            register_lazy(kind, name, ep.value)
