"""The files of ``train llf``: its prompts (with their media) and the JSONL file each stage
appends its rows to; the stages that write them are in the ``llf`` module beside this one."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval_anything.core.json_rows import RowError, loads
from eval_anything.trainers.config import ConfigError, TrainConfig

FILES = {
    "sample": "responses.jsonl", "critique": "critiques.jsonl",
    "refine": "refinements.jsonl", "pairs": "pairs.jsonl",
}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class StageFile:
    """A JSONL file of rows keyed by ``id``; appended and fsynced batch by batch. A torn last
    line (a kill mid-write) is ignored and redone; any other unreadable line is an error naming
    the file and the line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[str, dict[str, Any]] = {}
        if not path.exists():
            return
        raw = path.read_text(encoding="utf-8")
        lines = raw.split("\n")
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = loads(line, lineno)
                self.rows[str(row["id"])] = row
            except (RowError, KeyError, TypeError):
                if lineno == len(lines) and not raw.endswith("\n"):
                    continue  # a torn last line from a kill: its row is redone
                raise ConfigError(
                    f"{path}:{lineno}: not a row of this stage (JSON with an 'id'); the file "
                    "was edited or damaged: fix or remove that line (a rerun redoes the row)"
                ) from None

    def append(self, rows: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            if f.tell() > 0:
                with self.path.open("rb") as tail:
                    tail.seek(-1, os.SEEK_END)
                    if tail.read(1) != b"\n":
                        f.write("\n")
            f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
            f.flush()
            os.fsync(f.fileno())
        for r in rows:
            self.rows[str(r["id"])] = r


@dataclass
class Prompt:
    """One LLF prompt with its media; ``key`` hashes both, so a changed image redoes its rows."""

    id: str
    text: str
    media: list[Any] = field(default_factory=list)  # MediaRef
    source: str = ""

    @property
    def parts(self) -> list[Any]:
        return [m.part for m in self.media]

    def key(self, text: str) -> str:
        return sha(text + "".join(m.part.content_hash() for m in self.media))


def load_prompts(cfg: TrainConfig) -> list[Prompt]:
    """Prompts from ``data.train``: rows with ``prompt`` or ``question`` (optional ``id``) and
    their media, or Sample rows."""
    from eval_anything.trainers.data.formats import sample_completion
    from eval_anything.trainers.data.layouts import row_media
    from eval_anything.trainers.data.loading import data_root
    from eval_anything.trainers.data.row_files import read_rows

    assert cfg.data is not None
    where, root = cfg.data.train, data_root(cfg.data)
    out = []
    for i, row in enumerate(read_rows(where, cfg.data.limit)):
        src = f"{where}: row {i}"
        text = row.get("prompt", row.get("question"))
        if isinstance(text, str):
            out.append(Prompt(str(row.get("id", i)), text, row_media(row, where, i, root), src))
        elif "input" in row:
            c = sample_completion({**row, "target": row.get("target", "")}, where, i, root)
            out.append(Prompt(str(row.get("id", i)), c.prompt, c.media, src))
        else:
            raise ConfigError(
                f"{where}: row {i}: field 'prompt' (or 'question') is missing (LLF needs prompts)"
            )
    if len({p.id for p in out}) != len(out):
        raise ConfigError(f"{where}: prompt ids are not unique")
    return out


def render(template: str, **values: str) -> str:
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=False).from_string(template).render(**values).strip()
