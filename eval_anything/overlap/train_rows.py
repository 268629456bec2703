"""Training rows as the overlap check sees them: the texts and media of each row, with the
file and row number it came from, in every layout and file type the trainers read.

Files are read by the trainers' own readers (:func:`~eval_anything.trainers.data.row_files.
read_rows`, the layout detection of :mod:`~eval_anything.trainers.data.formats`, the media
readers of :mod:`~eval_anything.trainers.data.layouts`), so a file the trainers accept is read
here the same way and a file they refuse is refused with the same message. JSONL files, the
usual form of a large training set, are streamed row by row (with the same strict checks) so
memory does not grow with the file; the other file types are read whole, one file at a time.

Every text a trainer could train on counts: prompts and questions, every response (chosen and
rejected: a model trained on a rejected answer has still seen its words), refinements,
critiques, completions and every message of a chat.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval_anything.core.json_rows import RowError, jsonl_values
from eval_anything.errors import ConfigError
from eval_anything.trainers.data.formats import detect_format, sample_completion
from eval_anything.trainers.data.layouts import MediaRef, read_media, row_media
from eval_anything.trainers.data.row_files import read_rows

#: fields whose text a trainer reads, in any layout
TEXT_FIELDS = ("system", "prompt", "question", "caption", "chosen", "rejected", "response",
               "response_0", "response_1", "response_2", "refinement", "critique",
               "completion", "messages", "target")
#: the image fields of text-to-image preference rows (align_anything_t2i, pick_a_pic)
T2I_IMAGE_FIELDS = ("better_image", "worse_image", "jpg_0", "jpg_1")


@dataclass
class TrainRow:
    """One training row: where it is (``file``, 0-based ``row``), its texts and its media."""

    file: str
    row: int
    texts: list[str] = field(default_factory=list)
    media: list[MediaRef] = field(default_factory=list)


def iter_train_rows(paths: Sequence[str | Path], media_root: Path | None = None
                    ) -> Iterator[TrainRow]:
    """Every row of every training file or folder in ``paths``, in order."""
    for path in paths:
        p = Path(path)
        root = media_root if media_root is not None else (p if p.is_dir() else p.parent)
        where = str(p)
        layout: str | None = None
        for i, row in enumerate(_raw_rows(p)):
            if layout is None:
                layout = _layout(row, where)
            yield TrainRow(where, i, _texts(row), _media(row, layout, where, i, root))


def _raw_rows(p: Path) -> Iterator[dict[str, Any]]:
    if p.is_file() and p.suffix in (".jsonl", ".ndjson"):
        yield from _jsonl_stream(p)
    else:
        yield from read_rows(p)


def _jsonl_stream(p: Path) -> Iterator[dict[str, Any]]:
    """The rows of a JSONL file one at a time, checked as :func:`read_rows` checks them."""
    n = 0
    try:
        for lineno, value in jsonl_values(p):
            if not isinstance(value, dict):
                raise ConfigError(f"{p}:{lineno}: expected a JSON object with named fields, got "
                                  f"{type(value).__name__}")
            n += 1
            yield value
    except RowError as e:
        raise ConfigError(f"{p}:{e.line}: {e}") from None
    if n == 0:
        raise ConfigError(f"{p}: no rows; give a file of training rows")


def _layout(row: dict[str, Any], where: str) -> str:
    """The row's layout, by the trainers' detection (text-to-image rows, which only DPO of a
    drawing model reads, named here since the detection refuses them for other trainers)."""
    if {"better_image", "worse_image"} <= set(row) or {"jpg_0", "jpg_1"} <= set(row):
        return "text_to_image"
    return detect_format(row, f"{where}: row 0")


def _texts(row: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for name in TEXT_FIELDS:
        _collect_text(row.get(name), out)
    if isinstance(row.get("input"), list):  # a Sample row: its text parts
        _collect_text(row["input"], out)
    return [t for t in out if t.strip()]


def _collect_text(value: Any, out: list[str]) -> None:
    """Strings, chat messages (``content`` a string or a list of parts) and text parts."""
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for v in value:
            _collect_text(v, out)
    elif isinstance(value, dict):
        if isinstance(value.get("text"), str) and value.get("type", "text") == "text":
            out.append(value["text"])
        elif "content" in value:
            _collect_text(value["content"], out)


def _media(row: dict[str, Any], layout: str, where: str, i: int, root: Path) -> list[MediaRef]:
    if layout == "sample":
        return sample_completion(row, where, i, root).media
    media = row_media(row, where, i, root)
    if layout == "text_to_image":
        media += [read_media("image", row[f], where, i, f, root) for f in T2I_IMAGE_FIELDS
                  if row.get(f) not in (None, "")]
    return media
