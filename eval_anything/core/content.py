"""Typed multimodal content: the parts a prompt or a model output is made of.

A part is a pydantic model discriminated by ``type``. Media parts hold a *reference* (a file
path) or inline bytes; nothing is decoded until :meth:`load` is called, so a task of thousands
of videos costs nothing until a batch needs them. Every part has a stable content hash over its
bytes (never its path), so a task fingerprint is the same on every machine.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

MODALITIES = ("text", "image", "audio", "video")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @property
    def modality(self) -> str:
        return self.type  # type: ignore[attr-defined,no-any-return]

    def content_hash(self) -> str:
        raise NotImplementedError


class TextPart(_Part):
    """Plain text."""

    type: Literal["text"] = "text"
    text: str = Field(description="The text itself.")

    def content_hash(self) -> str:
        return sha256_bytes(b"text\0" + self.text.encode("utf-8"))


class _MediaPart(_Part):
    path: str | None = Field(
        default=None, description="File path (absolute, or relative to a run dir)."
    )
    data: bytes | None = Field(default=None, description="Inline bytes (base64 in JSON).")
    mime: str | None = Field(default=None, description="MIME type when known, e.g. image/png.")

    @field_validator("data", mode="before")
    @classmethod
    def _decode_b64(cls, v: Any) -> Any:
        if isinstance(v, str):
            return base64.b64decode(v)
        return v

    @field_serializer("data")
    def _encode_b64(self, v: bytes | None) -> str | None:
        return None if v is None else base64.b64encode(v).decode("ascii")

    @model_validator(mode="after")
    def _one_source(self) -> _MediaPart:
        if (self.path is None) == (self.data is None):
            raise ValueError(f"a {self.type} part needs exactly one of 'path' or 'data'")  # type: ignore[attr-defined]
        return self

    def read_bytes(self, base_dir: Path | None = None) -> bytes:
        if self.data is not None:
            return self.data
        return self.resolve(base_dir).read_bytes()

    def resolve(self, base_dir: Path | None = None) -> Path:
        assert self.path is not None
        p = Path(self.path)
        if not p.is_absolute() and base_dir is not None:
            p = base_dir / p
        if p.is_dir():
            return p
        if not p.exists():
            raise FileNotFoundError(f"{self.type} file not found: {p}")  # type: ignore[attr-defined]
        return p

    def content_hash(self) -> str:
        if self.path is not None and Path(self.path).is_dir():
            h = hashlib.sha256()
            for f in sorted(Path(self.path).iterdir()):
                h.update(f.name.encode() + b"\0" + f.read_bytes())
            return h.hexdigest()
        return sha256_bytes(f"{self.type}\0".encode() + self.read_bytes())  # type: ignore[attr-defined]


class ImagePart(_MediaPart):
    """An image. ``load()`` gives an RGB ``PIL.Image``."""

    type: Literal["image"] = "image"

    def load(self, base_dir: Path | None = None) -> Any:
        from eval_anything.media.io import load_image

        return load_image(self, base_dir)


class AudioPart(_MediaPart):
    """A waveform file (wav/flac/ogg). ``load()`` gives ``(float32 samples, sample_rate)``."""

    type: Literal["audio"] = "audio"

    def load(self, base_dir: Path | None = None) -> Any:
        from eval_anything.media.io import load_audio

        return load_audio(self, base_dir)


class VideoPart(_MediaPart):
    """A video: an animated GIF, a folder of frame images, or a container file that PyAV or
    torchvision can read. ``load()`` gives a list of RGB ``PIL.Image`` frames."""

    type: Literal["video"] = "video"
    fps: float | None = Field(default=None, description="Frames per second, when known.")

    def load(self, base_dir: Path | None = None, max_frames: int | None = None) -> Any:
        from eval_anything.media.io import load_video_frames

        return load_video_frames(self, base_dir, max_frames=max_frames)


Part = Annotated[TextPart | ImagePart | AudioPart | VideoPart, Field(discriminator="type")]
MediaPart = ImagePart | AudioPart | VideoPart


def text_of(parts: list[Any]) -> str:
    """All text parts joined with newlines (the text a text-only model sees)."""
    return "\n".join(p.text for p in parts if isinstance(p, TextPart))


def modalities_of(parts: list[Any]) -> list[str]:
    seen: list[str] = []
    for p in parts:
        if p.type not in seen:
            seen.append(p.type)
    return seen


def parts_hash(parts: list[Any]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.content_hash().encode())
    return h.hexdigest()
