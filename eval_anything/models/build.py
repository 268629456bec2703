"""Building a model adapter from what a user typed: the one place that looks the name up,
types the arguments by the adapter's signature and turns a refusal into a user error."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from eval_anything import registry
from eval_anything.errors import ConfigError, UserError
from eval_anything.model_args import split_model_args, typed_model_args
from eval_anything.models.base import ModelAdapter


def adapter_class(name: str, where: str = "--model") -> type[ModelAdapter]:
    """The registered adapter class called ``name`` (unknown: a user error listing the known)."""
    return registry.model_class(name, where=where)


def takes(cls: type[ModelAdapter], arg: str) -> bool:
    """Whether the adapter's constructor names ``arg``."""
    return arg in inspect.signature(cls.__init__).parameters


def build_adapter(
    name: str,
    args: Mapping[str, Any] | str | None = None,
    where: str = "--model-args",
    text_args: Mapping[str, str] | None = None,
) -> ModelAdapter:
    """The adapter ``name`` built from ``args``: a ``key=value,...`` string (and ``text_args``,
    values as typed) is typed by the adapter's signature; a mapping is passed as it is. An
    argument the adapter refuses is a :class:`ConfigError` that names ``where`` it came from."""
    cls = adapter_class(name, "--model" if where == "--model-args" else where)
    if args is None or isinstance(args, str):
        kwargs = typed_model_args(cls, split_model_args(args, flag=where), flag=where)
    else:
        kwargs = dict(args)
    if text_args:
        kwargs.update(typed_model_args(cls, dict(text_args), flag=where))
    try:
        return cls(**kwargs)
    except UserError:
        raise
    except (TypeError, ValueError, FileNotFoundError) as e:
        # adapters check their arguments in __init__ and say which flag is wrong
        msg = str(e)
        raise ConfigError(msg if where in msg else f"{where} for {name!r}: {msg}") from e
