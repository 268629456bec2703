"""Media as the chat-completions format carries them: images as data URLs, audio as
``input_audio`` (base64 WAV or MP3), video frames as JPEG data URLs. Used by the ``openai``
adapter (``eval_anything/models/openai.py``)."""

from __future__ import annotations

import base64
import io
from typing import Any

from eval_anything.core.content import AudioPart


def image_data_url(raw: bytes) -> str:
    """PNG and JPEG go as they are (no re-encoding loss); anything else becomes PNG, which
    every vision endpoint accepts."""
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return data_url(raw, "image/png")
    if raw.startswith(b"\xff\xd8\xff"):
        return data_url(raw, "image/jpeg")
    from PIL import Image

    from eval_anything.media.io import image_to_png_bytes

    return data_url(image_to_png_bytes(Image.open(io.BytesIO(raw)).convert("RGB")), "image/png")


def audio_payload(part: AudioPart) -> tuple[str, str]:
    """(base64 data, format) for ``input_audio``, which takes ``wav`` or ``mp3``."""
    raw = part.read_bytes()
    if raw[:4] == b"RIFF" and raw[8:12] == b"WAVE":
        return base64.b64encode(raw).decode("ascii"), "wav"
    if raw[:3] == b"ID3" or (len(raw) > 1 and raw[0] == 0xFF and raw[1] & 0xE0 == 0xE0):
        return base64.b64encode(raw).decode("ascii"), "mp3"
    from eval_anything.media.io import audio_to_wav_bytes

    wave, sr = part.load()
    return base64.b64encode(audio_to_wav_bytes(wave, sr)).decode("ascii"), "wav"


def image_url_part(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def data_url(raw: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


def jpeg_bytes(img: Any) -> bytes:
    """Video frames as JPEG: eight PNG frames of a clip would make requests of many MB."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()
