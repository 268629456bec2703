"""The examples a config's ``data`` section names: its file, its format and its media root.

Every algorithm loads its data through here, so a preference algorithm (DPO, a reward model)
and a supervised one read the same file the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from eval_anything.errors import ConfigError
from eval_anything.trainers.config import DataSection, TrainConfig
from eval_anything.trainers.data.examples import Completion, Pair
from eval_anything.trainers.data.formats import (
    resolve_format,
    to_completions,
    to_critique_completions,
    to_pairs,
)
from eval_anything.trainers.data.row_files import read_rows

Example = TypeVar("Example", Pair, Completion)


def data_root(data: DataSection) -> Path:
    """The folder relative media paths are read from."""
    if data.media_root:
        return Path(data.media_root)
    p = Path(data.train)
    return p if p.is_dir() else p.parent


def _section(cfg: TrainConfig) -> tuple[DataSection, list[dict[str, Any]]]:
    if cfg.data is None:
        raise ConfigError(f"{cfg.where()}: field 'data.train' is required (or pass --data FILE)")
    return cfg.data, read_rows(cfg.data.train, cfg.data.limit)


def _kept(data: DataSection, examples: list[Example]) -> list[Example]:
    """``examples`` less those from the rows the overlap check drops (``exclude_overlap``).
    Examples are dropped by the row their ``source`` names, after conversion, so every error
    and source still names the row's number in the file."""
    skip = data._skip_rows
    if not skip:
        return examples
    prefix = f"{data.train}: row "
    return [e for e in examples
            if not (e.source.startswith(prefix)
                    and int(e.source[len(prefix):].split()[0]) in skip)]


def load_pairs(cfg: TrainConfig) -> list[Pair]:
    """Preference pairs (DPO, reward models)."""
    data, rows = _section(cfg)
    fmt = resolve_format(rows, data.format, data.train)
    return _kept(data, to_pairs(rows, fmt, data.train, data_root(data), data.preference_field))


def load_completions(cfg: TrainConfig) -> list[Completion]:
    """Supervised examples (SFT); preference rows give their preferred answer."""
    data, rows = _section(cfg)
    fmt = resolve_format(rows, data.format, data.train)
    return _kept(data, to_completions(rows, fmt, data.train, data_root(data),
                                      data.preference_field))


def load_critique_completions(cfg: TrainConfig) -> list[Completion]:
    """``train critic`` examples: the critique template over (prompt, response) -> critique."""
    data, rows = _section(cfg)
    return _kept(data, to_critique_completions(rows, cfg.critic.template, data.train,
                                               data_root(data)))
