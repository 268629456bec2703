"""One grammar for what users type to name and configure models and judges, parsed strictly.

- ``--model-args key=value,...``: typed by the adapter's own signature.
- A binding, ``KIND[:[POSITIONAL,]key=value,...]`` (``--judge ROLE=BINDING``, a trainer's
  ``critic``/``policy`` role): :func:`parse_binding`; its arguments are typed by the signature of
  what they configure (:func:`typed_model_args`) or by a declared table (:func:`typed_options`).

``default=2`` for an adapter whose ``default`` is a ``str`` stays the string ``"2"``; the
value is converted only to a type the parameter declares, and a key the adapter does not take
is refused with the nearest names before anything is loaded. Adapters that take ``**kwargs``
get the old guess (bool, int, float, else string) for keys they do not declare.
"""

from __future__ import annotations

import difflib
import inspect
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eval_anything.errors import UserError

#: An argument whose name holds one of these words is a secret: kept out of results and logs.
SECRET_ARG_WORDS = ("key", "token", "secret", "password", "authorization")


class ModelArgsError(UserError):
    """A ``--model-args`` item that is malformed or does not fit the adapter."""


def _split_outside_brackets(text: str, sep: str) -> list[str]:
    """``text`` split on ``sep`` wherever it stands outside ``[]``, ``{}`` and ``()``."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def split_top_level(text: str) -> list[str]:
    """``'a=1,b=[1,2]'`` -> ``['a=1', 'b=[1,2]']``: commas inside brackets kept, blanks dropped."""
    return [p for p in _split_outside_brackets(text, ",") if p.strip()]


def split_members(text: str) -> list[str]:
    """``'keyword+openai:m,base_url=U+[hf:/a+b]'`` -> ``['keyword', 'openai:m,base_url=U',
    'hf:/a+b']``: split on ``+`` outside brackets; a member wrapped whole in ``[...]`` is
    unwrapped (the way to write a member that holds ``+`` itself)."""
    parts = _split_outside_brackets(text, "+")
    out = []
    for p in (p.strip() for p in parts):
        if p.startswith("[") and p.endswith("]"):
            p = p[1:-1].strip()
        if p:
            out.append(p)
    return out


def split_model_args(text: str | None, flag: str = "--model-args") -> dict[str, str]:
    """``'a=1,b=[1,2]'`` -> ``{'a': '1', 'b': '[1,2]'}`` (commas inside brackets kept)."""
    out: dict[str, str] = {}
    if not text:
        return out
    for item in (i.strip() for i in split_top_level(text)):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ModelArgsError(f"{flag}: {item!r} is not key=value (e.g. pretrained=DIR)")
        if key in out:
            raise ModelArgsError(f"{flag}: {key!r} is given twice; keep one")
        out[key] = value.strip()
    return out


@dataclass(frozen=True)
class Binding:
    """``KIND[:[POSITIONAL,]key=value,...]``: what a judge role or a trainer role is bound to.
    ``rest`` is everything after the first colon, as typed (a binding may nest another)."""

    kind: str
    positional: str | None = None
    args: dict[str, str] = field(default_factory=dict)
    rest: str | None = None


#: Binding kinds whose arguments hold whole bindings (``panel:mean:A+B``, ``repeats:3:A``): their
#: ``rest`` is left for their factory to split, never read as key=value items.
NESTING_KINDS = ("panel", "repeats")


def parse_binding(text: str, flag: str = "--judge") -> Binding:
    """``'openai:gpt-4o,base_url=URL'`` -> ``Binding('openai', 'gpt-4o', {'base_url': 'URL'})``."""
    kind, sep, rest = text.strip().partition(":")
    if not kind.strip():
        raise ModelArgsError(f"{flag} {text!r}: expected KIND[:ARGS], e.g. openai:gpt-4o")
    if kind.strip() in NESTING_KINDS:
        return Binding(kind.strip(), None, {}, rest if sep else None)
    positional, args = parse_binding_args(rest if sep else None, f"{flag} {text}")
    return Binding(kind.strip(), positional, args, rest if sep else None)


def parse_binding_args(text: str | None, flag: str) -> tuple[str | None, dict[str, str]]:
    """``'gpt-4o,attempts=2'`` -> ``('gpt-4o', {'attempts': '2'})``: a first item without ``=``
    is the positional argument (a model name or folder); every other item is key=value."""
    items = [i.strip() for i in split_top_level(text or "")]
    positional = items.pop(0) if items and "=" not in items[0] else None
    return positional, split_model_args(",".join(items), flag=flag)


def typed_options(raw: Mapping[str, str], types: Mapping[str, Any], flag: str) -> dict[str, Any]:
    """Options typed by a declared table; a key not in it is refused with the nearest names."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in types:
            close = difflib.get_close_matches(key, list(types), n=3, cutoff=0.5)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            takes = ", ".join(types) or "no options"
            raise ModelArgsError(f"{flag}: unknown option {key!r}{hint}; it takes: {takes}")
        out[key] = convert(value, types[key], f"{flag} {key}={value}")
    return out


def typed_model_args(
    adapter_cls: Any, raw: dict[str, str], flag: str = "--model-args"
) -> dict[str, Any]:
    """Each value converted to the type ``adapter_cls.__init__`` declares for it (any callable:
    its own signature)."""
    init = typing.cast(Any, adapter_cls).__init__ if isinstance(adapter_cls, type) else adapter_cls
    sig = inspect.signature(init)
    try:
        hints = typing.get_type_hints(init)
    except Exception:  # noqa: BLE001 - unresolvable annotations: fall back to guessing
        hints = {}
    params = {n: p for n, p in sig.parameters.items() if n != "self"}
    open_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    named = [n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in params or params[key].kind is inspect.Parameter.VAR_KEYWORD:
            if not open_kwargs:
                close = difflib.get_close_matches(key, named, n=3, cutoff=0.5)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise ModelArgsError(
                    f"{flag} {key}={value}: the {getattr(adapter_cls, 'registry_name', '')} "
                    f"adapter takes no argument {key!r}{hint}; it takes: {', '.join(named)}"
                )
            out[key] = guess(value)
            continue
        out[key] = convert(value, hints.get(key, Any), f"{flag} {key}={value}")
    return out


def guess(value: str) -> Any:
    """The untyped reading: true/false, none, int, float, else the string."""
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def convert(value: str, annotation: Any, where: str) -> Any:
    """``value`` as ``annotation`` (a plain type, an Optional or a Union of them)."""
    if annotation is Any or annotation is inspect.Parameter.empty:
        return guess(value)
    options = _union_members(annotation)
    if type(None) in options and value.lower() in ("none", "null", ""):
        return None
    for t in options:
        try:
            return _as(value, t)
        except (ValueError, TypeError):
            continue
    names = " or ".join(getattr(t, "__name__", str(t)) for t in options if t is not type(None))
    raise ModelArgsError(f"{where}: expected {names}")


def _union_members(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return list(typing.get_args(annotation))
    return [annotation]


def _as(value: str, t: Any) -> Any:
    origin = typing.get_origin(t) or t
    if origin is bool:
        low = value.lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ValueError(value)
    if origin is int:
        return int(value)
    if origin is float:
        return float(value)
    if origin is str:
        return value
    if origin in (dict, list, tuple):
        parsed = json.loads(value)
        if not isinstance(parsed, dict if origin is dict else list):
            raise ValueError(value)
        return parsed if origin is not tuple else tuple(parsed)
    if origin is typing.Literal and value in typing.get_args(t):
        return value
    raise ValueError(value)


def public_args(args: dict[str, Any]) -> dict[str, Any]:
    """Model args with secrets removed, for results files and logs."""
    return {k: v for k, v in args.items() if not any(w in k.lower() for w in SECRET_ARG_WORDS)}
