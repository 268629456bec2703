"""Probing a video: does it open, hold a video stream that decodes, and have a positive duration
and frame count; and what it holds (fps, size, audio). Part of :mod:`eval_anything.media.video`,
which re-exports :class:`VideoError`, :class:`VideoInfo` and :func:`probe_video`; run validation
calls ``probe_video`` over every video of a task before any model is loaded.

The length comes from the stream's header, else the container's, else from counting packets
(no decoding). A header can promise more than a file holds (a truncated download): the packets
near the stated end are read, and the keyframe there decoded, so that is caught here too.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval_anything.errors import UserError
from eval_anything.media.kinds import FRAME_FOLDER_FPS, IMAGE_SUFFIXES

VideoSource = str | Path | bytes

#: Without a container index, a target this far past the decoder is reached by seeking; it is
#: also how far before its stated end a video may stop (estimated frame counts of WebM/MKV).
SEEK_AHEAD_S = 1.0
FRAME_SUFFIXES = IMAGE_SUFFIXES


class VideoError(UserError):
    """A video that cannot be used: missing, not a video, no video stream, empty, or corrupt.

    The message names the file (or the inline bytes) and what to fix; the CLI exits 2."""


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` found; every field is known and positive for a usable video."""

    duration_s: float
    frame_count: int
    fps: float
    width: int
    height: int
    has_audio: bool
    container: str
    """Demuxer name (``mov,mp4,m4a,3gp,3g2,mj2``, ``matroska,webm``, ``gif``) or ``frames``."""
    codec: str
    """Video codec name (``h264``, ``vp9``, ``gif``...) or ``images`` for a frame folder."""


def describe(source: VideoSource) -> str:
    """How messages name a source: its path, or the size of inline bytes."""
    if isinstance(source, bytes):
        return f"inline video ({len(source)} bytes)"
    return str(source)


def is_folder(source: VideoSource) -> bool:
    return not isinstance(source, bytes) and Path(source).is_dir()


def folder_files(folder: Path) -> list[Path]:
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in FRAME_SUFFIXES)
    if not files:
        raise VideoError(
            f"{folder}: a video folder must hold frame images"
            f" ({', '.join(sorted(FRAME_SUFFIXES))}); it has none"
        )
    return files


def ffmpeg_reason(e: BaseException) -> str:
    """FFmpeg's reason without PyAV's errno and '<none>' filename decoration."""
    return str(getattr(e, "strerror", None) or e)


def _av() -> Any:
    import av

    return av


def open_container(source: VideoSource) -> Any:
    """Open a container for reading, turning every way that fails into a VideoError."""
    av = _av()
    name = describe(source)
    if not isinstance(source, bytes) and not Path(source).exists():
        raise VideoError(
            f"{name}: video file not found; check the path (relative to the task folder)"
        )
    try:
        if isinstance(source, bytes):
            return av.open(io.BytesIO(source), mode="r")
        return av.open(str(source), mode="r")
    except (av.FFmpegError, OSError, ValueError) as e:
        raise VideoError(
            f"{name}: FFmpeg cannot open it as a video ({ffmpeg_reason(e)}); supply an MP4, WebM,"
            " MOV, MKV or GIF file"
        ) from e


def probe_folder(folder: Path, folder_fps: float) -> VideoInfo:
    from PIL import Image

    files = folder_files(folder)
    try:
        with Image.open(files[0]) as first:
            width, height = first.size
    except OSError as e:
        raise VideoError(f"{files[0]}: not a readable frame image ({e})") from e
    return VideoInfo(
        duration_s=len(files) / folder_fps,
        frame_count=len(files),
        fps=folder_fps,
        width=width,
        height=height,
        has_audio=False,
        container="frames",
        codec="images",
    )


def _stream_facts(container: Any, stream: Any) -> tuple[float, int, float]:
    """(duration in seconds, frame count, fps) from the headers, 0 where a header is silent."""
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    duration = 0.0
    if stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / 1_000_000  # AV_TIME_BASE
    frames = int(stream.frames or 0)
    if frames <= 0 and duration > 0 and fps > 0:
        frames = max(1, round(duration * fps))  # WebM/MKV headers carry no frame count
    if duration <= 0 and frames > 0 and fps > 0:
        duration = frames / fps
    return duration, frames, fps


def _count_packets(container: Any, stream: Any) -> tuple[float, int]:
    """Duration and frame count by demuxing (no decoding), for headers that give neither."""
    frames, end = 0, 0.0
    for packet in container.demux(stream):
        if packet.size == 0:
            continue
        frames += 1
        if packet.pts is not None and packet.time_base:
            stop = packet.pts + (packet.duration or 0)
            end = max(end, float(stop * packet.time_base))
    container.seek(0)
    return end, frames


def _reaches_end(container: Any, stream: Any, duration: float, fps: float) -> bool:
    """Whether the video's packets reach its stated end. A truncated download keeps a header
    that promises the whole clip, and would otherwise fail (or repeat its last frame) only when
    sampled. The keyframe there is decoded (corrupt data raises); the packets after it are only
    read (cheap on long GOPs)."""
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    target = start + duration - min(SEEK_AHEAD_S, duration / 4) - 1 / fps
    container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
    reached, decoded_key = False, False
    for packet in container.demux(stream):
        if packet.size == 0 or packet.pts is None:
            continue
        if not decoded_key:
            stream.codec_context.decode(packet)  # raises on corrupt data near the end
            decoded_key = True
        if float(packet.pts * packet.time_base) >= target:
            reached = True
            break
    stream.codec_context.flush_buffers()
    container.seek(0)
    return reached


def probe_container(container: Any, name: str) -> VideoInfo:
    """Probe an open container (the sampler keeps it open and decodes from it next); the
    position is back at the start afterwards."""
    av = _av()
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["none"]
        raise VideoError(
            f"{name}: has no video stream (streams: {', '.join(kinds)}); supply a video file"
        )
    stream = container.streams.video[0]
    try:
        duration, frames, fps = _stream_facts(container, stream)
        if duration <= 0 or frames <= 0:
            duration, frames = _count_packets(container, stream)
            fps = fps or (frames / duration if duration > 0 else 0.0)
        first = next(iter(container.decode(stream)), None)
        if first is not None and container.format.name != "gif":
            if not _reaches_end(container, stream, duration, fps):
                if stream.duration or stream.frames:  # the stream's own header says more
                    raise VideoError(
                        f"{name}: the video stops before its stated {duration:.2f} s;"
                        " the file is truncated"
                    )
                # the length came from the container (an audio track may run longer): count
                duration, frames = _count_packets(container, stream)
    except av.FFmpegError as e:
        raise VideoError(
            f"{name}: the video stream does not decode ({ffmpeg_reason(e)}); the file is corrupt"
        ) from e
    if first is None:
        raise VideoError(
            f"{name}: the video stream holds no decodable frame; the file is empty or corrupt"
        )
    if duration <= 0 or frames <= 0 or fps <= 0:
        raise VideoError(
            f"{name}: the video has no positive duration and frame count "
            f"(duration {duration:.3f} s, {frames} frames); re-encode it"
        )
    return VideoInfo(
        duration_s=duration,
        frame_count=frames,
        fps=fps,
        width=int(first.width),
        height=int(first.height),
        has_audio=bool(container.streams.audio),
        container=str(container.format.name),
        codec=str(stream.codec_context.name),
    )


def probe_video(source: VideoSource, folder_fps: float = FRAME_FOLDER_FPS) -> VideoInfo:
    """Check that ``source`` is a usable video and say what it holds, decoding one frame.

    Raises :class:`VideoError` unless the source opens, has a video stream that decodes, and a
    positive duration and frame count. Cheap enough to run over every video of a task."""
    if is_folder(source):
        return probe_folder(Path(source), folder_fps)  # type: ignore[arg-type]
    with open_container(source) as container:
        return probe_container(container, describe(source))
