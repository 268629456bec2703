"""Load, save and convert media. Decoding is lazy: parts call these only when asked."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from eval_anything.content import AudioPart, ImagePart, VideoPart

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def load_image(part: ImagePart, base_dir: Path | None = None) -> Any:
    from PIL import Image

    img = Image.open(io.BytesIO(part.read_bytes(base_dir)))
    return img.convert("RGB")


def load_audio(part: AudioPart, base_dir: Path | None = None) -> tuple[np.ndarray, int]:
    """Mono float32 waveform and its sample rate (soundfile; torchaudio.load needs torchcodec)."""
    import soundfile as sf

    data, sr = sf.read(io.BytesIO(part.read_bytes(base_dir)), dtype="float32", always_2d=True)
    return data.mean(axis=1), int(sr)


def resample(wave: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    if sr == target_sr:
        return wave
    import torch
    import torchaudio.functional as F

    return F.resample(torch.from_numpy(wave), sr, target_sr).numpy()


def load_video_frames(
    part: VideoPart, base_dir: Path | None = None, max_frames: int | None = None
) -> list[Any]:
    """Frames of a GIF, a folder of images, or (with PyAV installed) a container file.

    With ``max_frames`` the frames are sampled uniformly over the clip, as video processors do.
    """
    from PIL import Image, ImageSequence

    frames: list[Any]
    if part.path is not None and part.resolve(base_dir).is_dir():
        folder = part.resolve(base_dir)
        files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        frames = [Image.open(f).convert("RGB") for f in files]
    else:
        raw = part.read_bytes(base_dir)
        try:
            img = Image.open(io.BytesIO(raw))
            frames = [f.convert("RGB") for f in ImageSequence.Iterator(img)]
        except Exception:
            frames = _decode_container(raw)
    return sample_frames(frames, max_frames)


def sample_frames(frames: list[Any], max_frames: int | None) -> list[Any]:
    if max_frames is None or len(frames) <= max_frames:
        return frames
    idx = np.linspace(0, len(frames) - 1, max_frames).round().astype(int)
    return [frames[i] for i in idx]


def _decode_container(raw: bytes) -> list[Any]:
    try:
        import av  # type: ignore[import-not-found]
    except ImportError as e:  # pragma: no cover - depends on optional package
        raise RuntimeError(
            "this video is not a GIF or frame folder; install PyAV (`pip install av`) to decode it"
        ) from e
    from PIL import Image

    with av.open(io.BytesIO(raw)) as container:
        return [Image.fromarray(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


def image_to_png_bytes(img: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def audio_to_wav_bytes(wave: np.ndarray, sr: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.asarray(wave, dtype=np.float32), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def frames_to_gif_bytes(frames: list[Any], fps: float = 8.0) -> bytes:
    buf = io.BytesIO()
    frames[0].save(
        buf, format="GIF", save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0
    )
    return buf.getvalue()
