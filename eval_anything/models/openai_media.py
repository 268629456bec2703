"""Media as the chat-completions format carries them: images as data URLs, audio as
``input_audio`` (base64 WAV or MP3), video frames as JPEG data URLs; and the audio of an answer
(``message.audio``), which is stored as WAV whatever format the server encoded it in. Used by the
``openai`` adapter (``eval_anything/models/openai.py``) and the served generators."""

from __future__ import annotations

import base64
import io
from typing import Any

from eval_anything.core.content import AudioPart, TextPart
from eval_anything.core.outputs import ModelOutput

#: ``audio.format`` values an answer's audio may come in; ``pcm16`` is raw 16-bit mono
AUDIO_FORMATS = ("wav", "flac", "mp3", "pcm16")
PCM16_RATE = 24000  # the rate OpenAI documents for pcm16 audio answers


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


def wav_from_answer(raw: bytes, fmt: str) -> tuple[bytes, float]:
    """(WAV bytes, seconds) of audio a server sent in ``fmt``; raises ``ValueError`` naming
    the format when the bytes do not decode, so a broken answer fails its item, never stored."""
    import numpy as np
    import soundfile as sf

    from eval_anything.media.io import audio_to_wav_bytes

    if fmt == "pcm16":
        if not raw or len(raw) % 2:
            raise ValueError(f"pcm16 audio of {len(raw)} bytes is not whole 16-bit samples")
        wave = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
        return audio_to_wav_bytes(wave, PCM16_RATE), len(wave) / PCM16_RATE
    try:
        wave, sr = sf.read(io.BytesIO(raw), dtype="float32", always_2d=False)
    except Exception as e:  # soundfile raises its own error types per codec
        raise ValueError(f"the {fmt} audio does not decode ({type(e).__name__}: {e})") from None
    if len(wave) == 0:
        raise ValueError(f"the {fmt} audio holds no samples")
    if fmt == "wav" and raw[:4] == b"RIFF":
        return raw, len(wave) / sr  # kept as sent
    return audio_to_wav_bytes(wave, sr), len(wave) / sr


def chat_audio_answer(out: ModelOutput, body: dict[str, Any], fmt: str) -> ModelOutput:
    """``out`` with the answer's ``message.audio`` appended as a WAV part; its transcript is the
    text when the answer carries no text. An answer without audio is returned as it is (the
    request did not ask for audio, or the model chose text)."""
    choices = body.get("choices") or [{}]
    msg = (choices[0] if isinstance(choices[0], dict) else {}).get("message") or {}
    audio = msg.get("audio")
    if not isinstance(audio, dict) or not audio.get("data"):
        return out
    try:
        raw = base64.b64decode(audio["data"], validate=True)
    except (ValueError, TypeError):
        raise ValueError("message.audio.data is not base64") from None
    wav, seconds = wav_from_answer(raw, fmt)
    parts = list(out.parts)
    transcript = audio.get("transcript")
    if not out.text and isinstance(transcript, str):
        parts = [TextPart(text=transcript)]
    parts.append(AudioPart(data=wav, mime="audio/wav"))
    details = {**out.details, "audio": {"format": fmt, "seconds": round(seconds, 3)}}
    return out.model_copy(update={"parts": parts, "details": details})
