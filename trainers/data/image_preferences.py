"""Text-to-image preference rows: a prompt with a preferred and a rejected image, for DPO of a
model that draws (``data.format``: ``align_anything_t2i`` or ``pick_a_pic``; ``auto`` tells
them apart by their fields).

The field names are those of the public data:

- ``align_anything_t2i``: ``prompt, better_image, worse_image`` (align-anything's Janus
  text-to-image preference layout, ``projects/janus/example/preference/text_to_image``);
- ``pick_a_pic``: ``caption, jpg_0, jpg_1, label_0`` (Pick-a-Pic, align-anything's ``Pickapic``
  template for diffusion DPO): ``label_0`` is 1 when ``jpg_0`` is preferred, 0 when ``jpg_1``
  is, 0.5 for a tie (or ``label_1``, the same for ``jpg_1``). A tie says nothing about which
  image is better, so it is left out (and counted), as align-anything does.

Each image is read by :func:`eval_anything.trainers.data.layouts.read_media`: a path inside the
media root, an HF ``Image`` feature, bytes or base64, decoded once here, so a missing or broken
image stops the run before anything is written, naming the file, the row and the field.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval_anything.errors import ConfigError
from eval_anything.trainers.config import TEXT_TO_IMAGE_FORMATS, DataSection, TrainConfig
from eval_anything.trainers.data.layouts import MediaRef, metadata_of, read_media
from eval_anything.trainers.data.loading import data_root
from eval_anything.trainers.data.row_files import read_rows

log = logging.getLogger(__name__)

#: fields each layout consumes (the rest goes to the pair's metadata)
CONSUMED = {
    "align_anything_t2i": {"prompt", "better_image", "worse_image"},
    "pick_a_pic": {"caption", "jpg_0", "jpg_1", "label_0", "label_1"},
}


@dataclass
class ImagePair:
    """One text-to-image preference: the prompt, the preferred and the rejected image, where it
    came from (file and row, for error messages) and the row's other fields."""

    prompt: str
    chosen: MediaRef
    rejected: MediaRef
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


def detect_text_to_image(row: dict[str, Any]) -> str | None:
    """The text-to-image layout of ``row``, or None for any other row."""
    keys = set(row)
    if {"better_image", "worse_image"} <= keys:
        return "align_anything_t2i"
    if {"jpg_0", "jpg_1"} <= keys and keys & {"label_0", "label_1"}:
        return "pick_a_pic"
    return None


def text_to_image_format(data: DataSection, rows: list[dict[str, Any]]) -> str | None:
    """The configured text-to-image format, the one ``auto`` detects on the first row, or None
    when the rows are of another kind."""
    if data.format in TEXT_TO_IMAGE_FORMATS:
        return data.format
    if data.format == "auto" and rows:
        return detect_text_to_image(rows[0])
    return None


def _text(row: dict[str, Any], name: str, where: str, i: int) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: row {i}: field {name!r} is missing or not text (the prompt "
                          "the images were drawn for)")
    return value


def _pick_a_pic_order(row: dict[str, Any], where: str, i: int) -> tuple[str, str] | None:
    """(chosen field, rejected field), or None for a tie."""
    name = "label_0" if "label_0" in row else "label_1"
    value = row[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or value not in (0, 0.5, 1):
        raise ConfigError(
            f"{where}: row {i}: field {name!r} must be 1 (this image preferred), 0 (the other "
            f"one) or 0.5 (a tie), got {value!r}"
        )
    if value == 0.5:
        return None
    first_wins = (value == 1) == (name == "label_0")
    return ("jpg_0", "jpg_1") if first_wins else ("jpg_1", "jpg_0")


def to_image_pairs(
    rows: list[dict[str, Any]], fmt: str, where: str, root: Path
) -> list[ImagePair]:
    """Text-to-image pairs from rows in ``fmt``, every image checked to exist and decode."""
    if fmt not in TEXT_TO_IMAGE_FORMATS:
        raise ConfigError(f"{where}: {fmt!r} is not a text-to-image preference format; use one "
                          f"of {', '.join(TEXT_TO_IMAGE_FORMATS)}")
    pairs, ties = [], 0
    for i, row in enumerate(rows):
        if fmt == "align_anything_t2i":
            prompt, order = _text(row, "prompt", where, i), ("better_image", "worse_image")
        else:
            prompt, tie_or_order = _text(row, "caption", where, i), _pick_a_pic_order(row, where, i)
            if tie_or_order is None:
                ties += 1
                continue
            order = tie_or_order
        images = []
        for name in order:
            if row.get(name) in (None, "", b""):
                raise ConfigError(f"{where}: row {i}: field {name!r} (image) is missing")
            images.append(read_media("image", row[name], where, i, name, root))
        pairs.append(ImagePair(prompt, images[0], images[1], f"{where}: row {i}",
                               metadata_of(row, CONSUMED[fmt])))
    if ties:
        log.info("%s: %d tied rows (label 0.5) left out: they prefer neither image", where, ties)
    return pairs


def load_image_pairs(cfg: TrainConfig, rows: list[dict[str, Any]] | None = None) -> list[ImagePair]:
    """The config's text-to-image pairs (``rows``: the data file's rows when already read)."""
    data = cfg.data
    if data is None:
        raise ConfigError(f"{cfg.where()}: field 'data.train' is required (or pass --data FILE)")
    rows = read_rows(data.train, data.limit) if rows is None else rows
    fmt = text_to_image_format(data, rows)
    if fmt is None:
        raise ConfigError(
            f"{data.train}: row 0: fields {sorted(rows[0]) if rows else []} are not a "
            "text-to-image preference row; expected (prompt, better_image, worse_image) or "
            "(caption, jpg_0, jpg_1, label_0)"
        )
    if data.preference_field:
        raise ConfigError(
            f"{cfg.where()}: field 'data.preference_field' does not apply to {fmt} rows (the "
            "layout itself says which image is preferred); remove it"
        )
    return to_image_pairs(rows, fmt, data.train, data_root(data))


def text_to_image_pairs(cfg: TrainConfig, given: Sequence[Any] | None) -> list[ImagePair] | None:
    """The run's text-to-image pairs when it is one (given ones, or the data's rows in a
    text-to-image layout), else None: the rows then go the text or media DPO path."""
    if given is not None:
        items = list(given)
        return items if items and all(isinstance(p, ImagePair) for p in items) else None
    data = cfg.data
    if data is None or data.format not in ("auto", *TEXT_TO_IMAGE_FORMATS):
        return None
    rows = read_rows(data.train, data.limit)
    if text_to_image_format(data, rows) is None:
        return None
    return load_image_pairs(cfg, rows)
