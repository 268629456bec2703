"""The examples every built-in trainer trains on, whatever file layout they were read from.

A :class:`Pair` (preference) or a :class:`Completion` (supervised) keeps the row's media with it,
so the trainer either feeds them to a model whose processor takes them or refuses the run before
writing anything; and its ``source`` (file and row), so an error about it names where it came
from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eval_anything.trainers.data.layouts import MediaRef


@dataclass
class Pair:
    """One preference pair; ``media`` are the row's images/audio/video (in row order),
    ``metadata`` its other fields (fine-grained ratings, critiques), ``source`` where it came
    from (file and row) for error messages, and ``system`` an optional system prompt."""

    prompt: str
    chosen: str
    rejected: str
    media: list[MediaRef] = field(default_factory=list)
    system: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""


@dataclass
class Completion:
    """One supervised row (media, system and source as in :class:`Pair`)."""

    prompt: str
    completion: str
    system: str | None = None
    media: list[MediaRef] = field(default_factory=list)
    source: str = ""
