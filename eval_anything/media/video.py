"""Video in and out: the one place a video file, inline video bytes or a folder of frames is read.

Everything goes through PyAV (the ``av`` package ships its own FFmpeg, so an MP4, WebM, MOV, MKV
or GIF decodes on a default install with no system ffmpeg). Why one home (this module, with its
parts :mod:`eval_anything.media.video_probe` and :mod:`eval_anything.media.video_out`):

- :func:`probe_video` is what run validation calls before any model is loaded: a file that is
  not a decodable video (a text file named ``.mp4``, a truncated download, an audio-only file)
  is a :class:`VideoError` (exit 2) naming the file, not a crash in the middle of a batch.
- :func:`sample_video_frames` picks frames *by timestamp* and seeks to them, so sampling 8
  frames from a ten-minute clip decodes a few groups of pictures instead of the whole stream,
  and memory holds only the frames kept (``benchmarks/video_decode.py`` measures both).
- :func:`read_video_audio` gives the audio track to models that take audio.
- :func:`encode_mp4` writes what generators produce: H.264 (or VP9 when the bundled FFmpeg has
  no H.264 encoder) in MP4 at the given fps, with an AAC track when there is audio. Output is
  bit-exact for the same input, so generated suites and caches are reproducible.

A frame folder (image files sorted by name) has no timestamps of its own: it plays at
``folder_fps`` (default :data:`FRAME_FOLDER_FPS`), which only matters when sampling by fps.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval_anything.media.kinds import FRAME_FOLDER_FPS
from eval_anything.media.video_out import encode_mp4, video_encoder
from eval_anything.media.video_probe import (
    SEEK_AHEAD_S,
    VideoError,
    VideoInfo,
    VideoSource,
    describe,
    ffmpeg_reason,
    folder_files,
    is_folder,
    open_container,
    probe_container,
    probe_video,
)


def _av() -> Any:
    import av

    return av


def frame_indices(
    frame_count: int, native_fps: float, num_frames: int | None = None, fps: float | None = None
) -> list[int]:
    """Which frames to keep: every ``native_fps / fps``-th when ``fps`` is given, then at most
    ``num_frames`` of those spread uniformly (first and last included), as video processors
    sample. Neither given: every frame."""
    if num_frames is not None and num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    if fps is not None and fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    idx = list(range(frame_count))
    if fps is not None and fps < native_fps:
        step = native_fps / fps
        idx = sorted(
            {
                min(frame_count - 1, int(math.floor(k * step + 1e-9)))
                for k in range(int(math.ceil(frame_count / step)))
            }
        )
    if num_frames is not None and len(idx) > num_frames:
        picks = np.linspace(0, len(idx) - 1, num_frames).round().astype(int)
        idx = [idx[int(i)] for i in picks]
    return idx


def _keyframe_times(stream: Any) -> list[float]:
    """Keyframe times (s) from the container's index (MP4/MOV carry one; empty when unknown)."""
    entries = getattr(stream, "index_entries", None)
    if entries is None or stream.time_base is None:
        return []
    tb = float(stream.time_base)
    return sorted(e.timestamp * tb for e in entries if e.is_keyframe)


def _should_seek(t: float, cur_time: float, keyframes: list[float], started: bool) -> bool:
    """Seek only when a keyframe lies between the decoder's position and ``t`` (decoding on is
    cheaper than restarting the group of pictures); without an index, when ``t`` is more than
    :data:`SEEK_AHEAD_S` ahead."""
    if t <= SEEK_AHEAD_S and not started:
        return False
    if keyframes:
        k = bisect.bisect_right(keyframes, t) - 1
        return k >= 0 and keyframes[k] > cur_time
    return not started or t - cur_time > SEEK_AHEAD_S


def _decode_at(
    container: Any, stream: Any, times: Sequence[float], tol: float, name: str
) -> Iterator[Any]:
    """Yield, for each target time (ascending), the frame on screen at that time, seeking to the
    keyframe before it when that skips frames (see :func:`_should_seek`). Only one decoded frame
    is alive at a time; the caller keeps what it converts."""
    av = _av()
    can_seek = container.format.name not in {"gif"} and stream.time_base is not None
    keyframes = _keyframe_times(stream) if can_seek else []
    frames: Iterator[Any] | None = None
    cur: Any = None
    cur_time = -math.inf
    try:
        for t in times:
            if can_seek and _should_seek(t + tol, cur_time, keyframes, frames is not None):
                container.seek(
                    int(t / stream.time_base), stream=stream, backward=True, any_frame=False
                )
                frames, cur, cur_time = container.decode(stream), None, -math.inf
            elif frames is None:
                frames = container.decode(stream)
            while cur is None or cur_time < t - tol:
                nxt = next(frames, None)
                if nxt is None:
                    if cur is not None and cur_time < t - SEEK_AHEAD_S:
                        raise VideoError(
                            f"{name}: the video ends at {cur_time:.2f} s, before {t:.2f} s that its"
                            " header promises; the file is truncated"
                        )
                    break  # within a second of the end: the last frame stays on screen
                cur = nxt
                cur_time = float(nxt.time) if nxt.time is not None else cur_time + 2 * tol
            if cur is None:
                raise VideoError(
                    f"{name}: no frame decodes at {t:.3f} s; the file is truncated or corrupt"
                )
            yield cur
    except av.FFmpegError as e:
        raise VideoError(
            f"{name}: the video stream fails to decode ({ffmpeg_reason(e)}); the file is corrupt"
        ) from e


def sample_video_frames(
    source: VideoSource,
    num_frames: int | None = None,
    fps: float | None = None,
    folder_fps: float = FRAME_FOLDER_FPS,
) -> list[Any]:
    """RGB ``PIL.Image`` frames of a video file, inline bytes or frame folder.

    ``num_frames`` alone: that many frames uniformly over the clip (first and last included).
    ``fps``: frames at that rate, capped at ``num_frames`` when both are given. Neither: all
    frames. Frames are found by timestamp and reached by seeking; memory holds the kept frames
    only."""
    from PIL import Image

    if is_folder(source):
        files = folder_files(Path(source))  # type: ignore[arg-type]
        keep = frame_indices(len(files), folder_fps, num_frames, fps)
        out = []
        for i in keep:
            try:
                with Image.open(files[i]) as img:
                    out.append(img.convert("RGB"))
            except OSError as e:
                raise VideoError(f"{files[i]}: not a readable frame image ({e})") from e
        return out
    name = describe(source)
    with open_container(source) as container:
        if container.streams.video:
            container.streams.video[0].thread_type = "AUTO"  # before the probe opens the decoder
        info = probe_container(container, name)
        stream = container.streams.video[0]
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        keep = frame_indices(info.frame_count, info.fps, num_frames, fps)
        times = [start + i / info.fps for i in keep]
        container.seek(0)
        return [
            frame.to_image().convert("RGB")
            for frame in _decode_at(container, stream, times, 0.5 / info.fps, name)
        ]


def read_video_audio(source: VideoSource, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """The video's first audio track as mono float32 samples and their rate (resampled to
    ``sample_rate`` when given). A video without an audio track is a VideoError."""
    name = describe(source)
    if is_folder(source):
        raise VideoError(f"{name}: a folder of frames has no audio track")
    av = _av()
    with open_container(source) as container:
        if not container.streams.audio:
            raise VideoError(
                f"{name}: the video has no audio track; give the audio as its own part"
            )
        stream = container.streams.audio[0]
        rate = int(sample_rate or stream.rate or stream.codec_context.sample_rate)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        except av.FFmpegError as e:
            raise VideoError(
                f"{name}: the audio track fails to decode ({ffmpeg_reason(e)}); the file is corrupt"
            ) from e
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    if not chunks:
        raise VideoError(f"{name}: the audio track holds no samples")
    return np.concatenate(chunks).astype(np.float32), rate


__all__ = [
    "FRAME_FOLDER_FPS",
    "VideoError",
    "VideoInfo",
    "VideoSource",
    "describe",
    "encode_mp4",
    "frame_indices",
    "probe_video",
    "read_video_audio",
    "sample_video_frames",
    "video_encoder",
]
