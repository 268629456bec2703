"""Fingerprints of a media part: its bytes, and what it decodes to.

Two files are the same medium when their bytes are equal, or when they decode to the same
content: the same RGB pixels (an image saved as PNG and as lossless WebP, or with other
metadata), the same audio samples at the same rate (WAV and FLAC of one recording), the same
frames (a GIF and a folder of its frames). A re-encoding with a lossy codec changes the decoded
content and is not caught; docs/training.md says so.

Decoding costs far more than hashing bytes, so the training side decodes a medium only when a
cheap header fact (an image's size, an audio file's rate, length and channels) equals that of
some evaluation medium: :func:`shape_key` is that fact, and the index keeps the set of them.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np

#: frames decoded from a video for its content fingerprint (spread uniformly over the clip)
VIDEO_FRAMES = 8


def _digest(*chunks: bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for c in chunks:
        h.update(c)
    return h.hexdigest()


def _folder_bytes(folder: Path) -> list[bytes]:
    return [f.name.encode() + b"\0" + f.read_bytes() for f in sorted(folder.iterdir())
            if f.is_file()]


def bytes_key(part: Any) -> str:
    """Hash of the part's bytes (a frame folder: of its files' names and bytes), any name."""
    if part.path is not None and Path(part.path).is_dir():
        return _digest(part.type.encode(), *_folder_bytes(Path(part.path)))
    return _digest(part.type.encode(), part.read_bytes())


def shape_key(part: Any) -> tuple[Any, ...] | None:
    """A header fact two equal media share (None when the header says nothing cheap: video)."""
    if part.type == "image":
        from PIL import Image

        with Image.open(io.BytesIO(part.read_bytes())) as img:
            return ("image", *img.size)
    if part.type == "audio":
        import soundfile as sf

        info = sf.info(io.BytesIO(part.read_bytes()))
        return ("audio", int(info.samplerate), int(info.frames), int(info.channels))
    return None


def decoded_key(part: Any) -> str:
    """Hash of the decoded content: RGB pixels with the size, samples with rate and channels,
    or the RGB pixels of :data:`VIDEO_FRAMES` frames spread over a video."""
    if part.type == "image":
        from PIL import Image

        with Image.open(io.BytesIO(part.read_bytes())) as img:
            rgb = img.convert("RGB")
            return _digest(b"image", repr(rgb.size).encode(), rgb.tobytes())
    if part.type == "audio":
        import soundfile as sf

        data, rate = sf.read(io.BytesIO(part.read_bytes()), dtype="float32", always_2d=True)
        return _digest(b"audio", repr((int(rate), data.shape)).encode(),
                       np.ascontiguousarray(data).tobytes())
    frames = part.load(max_frames=VIDEO_FRAMES)
    chunks = [np.asarray(f.convert("RGB")).tobytes() for f in frames]
    return _digest(b"video", repr([f.size for f in frames]).encode(), *chunks)
