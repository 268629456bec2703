"""A Sample is one item to evaluate: what goes in, and what a scorer compares against."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from eval_anything.core.content import Part, TextPart, modalities_of, parts_hash


class Sample(BaseModel):
    """One evaluation item. Scorers read ``target``, ``choices``, ``references`` and
    ``metadata``; the runner only reads ``id``, ``input`` and ``cluster``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Unique within its task; the gate pairs runs by it.")
    input: list[Part] = Field(description="Input parts, in order (text, images, audio, video).")
    target: str | None = Field(default=None, description="The expected answer, when there is one.")
    choices: list[str] | None = Field(
        default=None, description="Answer options for multiple-choice tasks."
    )
    target_index: int | None = Field(default=None, description="Index of the correct choice.")
    references: list[str] = Field(
        default_factory=list, description="Reference answers (e.g. human annotations)."
    )
    metadata: dict[str, Any] = Field(default_factory=dict, description="Task-specific fields.")
    cluster: str | None = Field(
        default=None,
        description="Cluster key for clustered standard errors (items not independent).",
    )

    @property
    def modalities(self) -> list[str]:
        return modalities_of(self.input)

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.input if isinstance(p, TextPart))

    def content_hash(self) -> str:
        """sha256 over the input media bytes and every scoring field."""
        h = hashlib.sha256()
        h.update(parts_hash(self.input).encode())
        rest = self.model_dump(mode="json", exclude={"input"})
        h.update(json.dumps(rest, sort_keys=True, ensure_ascii=False).encode())
        return h.hexdigest()

    def absolutize(self, base_dir: Path) -> Sample:
        """Resolve relative media paths against ``base_dir`` (the dataset's folder); the loader
        then checks that they stay inside it (symlinks resolved)."""
        parts = []
        changed = False
        for p in self.input:
            path = getattr(p, "path", None)
            if path is not None and not Path(path).is_absolute():
                # lexical: a symlink keeps its name, so errors show the path the row gave
                absolute = os.path.normpath(Path(base_dir).absolute() / path)
                p = p.model_copy(update={"path": absolute})
                changed = True
            parts.append(p)
        # a sample without relative paths is returned as it is: it is frozen, and a copy per
        # row would cost more than the loader's own work
        return self.model_copy(update={"input": parts}) if changed else self
