"""The fields of one row in the align-anything layouts: its media, which response is preferred,
and the fine-grained metadata (what a row means, not how the file is read or batched).

The public align-anything data spells the same things several ways; this module reads them all
into content parts (``eval_anything.core.content``) so a row's media travel with it to the model:

- images: ``image`` (or ``images``, ``image_path``) as a path relative to the data file, an HF
  ``Image`` feature ``{"bytes", "path"}``, raw bytes, or base64 (a ``data:`` URI or bare);
- audio: ``audio_path``, or ``audio`` as a path, an HF ``Audio`` feature (``{"bytes", "path"}``
  undecoded, or ``{"array", "sampling_rate"}`` decoded), or base64;
- video: ``video_path`` or ``video`` (a path: GIF, frame folder, or a container PyAV reads).

A relative path must stay inside the media root (the data file's folder unless
``data.media_root`` says otherwise), symlinks resolved: ``../`` paths are refused. Every media
value is decoded once here (its header, or its frames for a video), so a missing or broken file
stops the run before anything is written, with the file, row, field and modality named.

Preference rows hold two responses numbered from 0 (``response_0, response_1``, the
PKU-SafeRLHF layout) or from 1 (``response_1, response_2``, the text+media layouts); the field
that decides which one is chosen is ``better_response_id`` / ``overall_response`` by default, or
any other (``safer_response_id``, ``p_response``, ``o_response``, ...) through
``data.preference_field``. Every field not consumed (ratings, critiques, feedback text) is kept in
the pair's ``metadata``.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval_anything.core.content import AudioPart, ImagePart, VideoPart
from eval_anything.errors import ConfigError

MEDIA_FIELDS: dict[str, tuple[str, ...]] = {
    "image": ("image", "images", "image_path"),
    "audio": ("audio_path", "audio"),
    "video": ("video_path", "video"),
}
FIELD_MODALITY = {f: m for m, fields in MEDIA_FIELDS.items() for f in fields}
PART_CLASS: dict[str, Any] = {"image": ImagePart, "audio": AudioPart, "video": VideoPart}
DEFAULT_PREFERENCE_FIELDS = ("better_response_id", "overall_response")


@dataclass
class MediaRef:
    """One media value of a row: where it came from and the part that loads it."""

    field: str
    part: Any  # ImagePart | AudioPart | VideoPart

    @property
    def modality(self) -> str:
        return str(self.part.type)

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "part": self.part.model_dump(mode="json")}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MediaRef:
        part = d["part"]
        return cls(d["field"], PART_CLASS[part["type"]].model_validate(part))


def row_media(row: dict[str, Any], where: str, i: int, root: Path) -> list[MediaRef]:
    """The media of one row, each checked to exist inside ``root`` and to decode."""
    out: list[MediaRef] = []
    for name, value in row.items():
        modality = FIELD_MODALITY.get(name)
        if modality is None or value is None or value == "" or value == []:
            continue
        values = value if isinstance(value, list) and name == "images" else [value]
        out.extend(read_media(modality, v, where, i, name, root) for v in values)
    return out


def read_media(modality: str, value: Any, where: str, i: int, name: str, root: Path) -> MediaRef:
    """One media value of field ``name`` (any spelling above), checked to exist inside ``root``
    and to decode; for layouts whose media fields have names of their own."""
    part = _part(modality, value, where, i, name, root)
    _check_decodes(part, where, i, name)
    return MediaRef(name, part)


def _fail(where: str, i: int, name: str, modality: str, why: str) -> ConfigError:
    return ConfigError(f"{where}: row {i}: field {name!r} ({modality}): {why}")


def _part(modality: str, v: Any, where: str, i: int, name: str, root: Path) -> Any:
    cls = PART_CLASS[modality]
    if isinstance(v, dict):
        if v.get("bytes"):
            return cls(data=bytes(v["bytes"]))
        if v.get("array") is not None and modality == "audio":
            import numpy as np

            from eval_anything.media.io import audio_to_wav_bytes

            rate = v.get("sampling_rate")
            if not rate:
                raise _fail(where, i, name, modality, "an audio array without 'sampling_rate'")
            return cls(data=audio_to_wav_bytes(np.asarray(v["array"], dtype="float32"), rate))
        if v.get("path"):
            return cls(path=_inside(str(v["path"]), where, i, name, modality, root))
        raise _fail(where, i, name, modality, "expected 'bytes' or 'path' in the media value")
    if isinstance(v, bytes | bytearray):
        return cls(data=bytes(v))
    if hasattr(v, "save") and modality == "image":  # a decoded PIL image
        from eval_anything.media.io import image_to_png_bytes

        return cls(data=image_to_png_bytes(v))
    if not isinstance(v, str):
        raise _fail(where, i, name, modality,
                    f"expected a path, base64 or {{'bytes', 'path'}}, got {type(v).__name__}")
    raw = _base64(v, root)
    if raw is not None:
        return cls(data=raw)
    return cls(path=_inside(v, where, i, name, modality, root))


def _base64(text: str, root: Path) -> bytes | None:
    """Bytes of a ``data:`` URI, or of a bare base64 string that names no file; None when the
    text is a path (then it is checked as one)."""
    if text.startswith("data:") and ";base64," in text:
        text = text.split(";base64,", 1)[1]
    elif len(text) < 64 or len(text) % 4 or (root / text).exists() or Path(text).exists():
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _inside(path: str, where: str, i: int, name: str, modality: str, root: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        resolved = p.resolve()
    else:
        resolved = (root / p).resolve()
        if not resolved.is_relative_to(root.resolve()):
            raise _fail(where, i, name, modality,
                        f"{path!r} resolves outside the media root {root}; keep media inside the "
                        "data folder, or set data.media_root to the folder that holds them")
    if not resolved.exists():
        raise _fail(where, i, name, modality,
                    f"{resolved}: file not found (relative paths are read from {root}; set "
                    "data.media_root if the media live elsewhere)")
    return str(resolved)


def _check_decodes(part: Any, where: str, i: int, name: str) -> None:
    """Decode the header (image, audio) or the frames (video) once; name what failed."""
    try:
        if isinstance(part, ImagePart):
            from PIL import Image

            with Image.open(io.BytesIO(part.read_bytes())) as img:
                img.verify()
        elif isinstance(part, AudioPart):
            import soundfile as sf

            sf.info(io.BytesIO(part.read_bytes()))
        else:
            frames = part.load(max_frames=2)
            if not frames:
                raise ValueError("no frames")
    except ConfigError:
        raise
    except Exception as e:  # each decoder raises its own types
        raise _fail(where, i, name, part.type,
                    f"cannot be decoded as {part.type} ({type(e).__name__}: {e})") from e


# ---------------------------------------------------------------------- preference layouts


def prompt_of(row: dict[str, Any], where: str, i: int) -> str:
    for key in ("prompt", "question"):
        if isinstance(row.get(key), str):
            return str(row[key])
    raise ConfigError(f"{where}: row {i}: field 'prompt' (or 'question') is missing")


def indexed_choice(
    row: dict[str, Any], where: str, i: int, preference_field: str | None
) -> tuple[str, str, str]:
    """(chosen, rejected, deciding field) of a two-response row numbered from 0 or 1."""
    base = 0 if "response_0" in row else 1
    keys = (f"response_{base}", f"response_{base + 1}")
    for k in keys:
        if not isinstance(row.get(k), str):
            raise ConfigError(f"{where}: row {i}: field {k!r} is missing or not text")
    field = preference_field or next(
        (f for f in DEFAULT_PREFERENCE_FIELDS if f in row), DEFAULT_PREFERENCE_FIELDS[base]
    )
    if field not in row:
        raise ConfigError(
            f"{where}: row {i}: preference field {field!r} is missing (data.preference_field "
            f"names it; this row has {sorted(row)})"
        )
    try:
        better = int(row[field])
    except (TypeError, ValueError):
        better = -1
    if better not in (base, base + 1) or isinstance(row[field], bool):
        raise ConfigError(
            f"{where}: row {i}: field {field!r} must be {base} or {base + 1} (which of "
            f"{keys[0]}, {keys[1]} is better), got {row[field]!r}"
        )
    chosen = row[f"response_{better}"]
    rejected = row[keys[1] if better == base else keys[0]]
    return chosen, rejected, field


def metadata_of(row: dict[str, Any], consumed: set[str]) -> dict[str, Any]:
    """Every field not consumed and JSON-friendly (ratings, critiques, ids)."""
    return {k: v for k, v in row.items() if k not in consumed and k not in FIELD_MODALITY
            and isinstance(v, str | int | float | bool | type(None) | list | dict)}
