"""Load, save and convert media. Decoding is lazy: parts call these only when asked."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eval_anything.media.kinds import FRAME_FOLDER_FPS

if TYPE_CHECKING:
    from eval_anything.core.content import AudioPart, ImagePart, VideoPart


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
    part: VideoPart,
    base_dir: Path | None = None,
    max_frames: int | None = None,
    fps: float | None = None,
) -> list[Any]:
    """RGB frames of a video part (any container PyAV reads, a GIF, or a folder of frames),
    through :func:`eval_anything.media.video.sample_video_frames`: ``max_frames`` uniformly over the
    clip, or frames at ``fps`` (capped at ``max_frames``), found by seeking."""
    from eval_anything.media.video import sample_video_frames

    source = video_source(part, base_dir)
    return sample_video_frames(
        source, num_frames=max_frames, fps=fps, folder_fps=part.fps or FRAME_FOLDER_FPS
    )


def video_source(part: VideoPart, base_dir: Path | None = None) -> Path | bytes:
    """What :mod:`eval_anything.media.video` reads for a part: its resolved path, or its inline
    bytes."""
    return part.data if part.data is not None else part.resolve(base_dir)


def load_video_audio(
    part: VideoPart, base_dir: Path | None = None, sample_rate: int | None = None
) -> tuple[np.ndarray, int]:
    """The audio track of a video part, mono float32 (VideoError when it has none)."""
    from eval_anything.media.video import read_video_audio

    return read_video_audio(video_source(part, base_dir), sample_rate)


def image_to_png_bytes(img: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def audio_to_wav_bytes(wave: np.ndarray, sr: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.asarray(wave, dtype=np.float32), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def frames_to_mp4_bytes(
    frames: list[Any],
    fps: float = 8.0,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
) -> bytes:
    """MP4 (H.264, or VP9 without an H.264 encoder) with an AAC track when ``audio`` is given."""
    from eval_anything.media.video import encode_mp4

    return encode_mp4(frames, fps, audio, sample_rate)


def frames_to_gif_bytes(frames: list[Any], fps: float = 8.0) -> bytes:
    buf = io.BytesIO()
    frames[0].save(
        buf, format="GIF", save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0
    )
    return buf.getvalue()
