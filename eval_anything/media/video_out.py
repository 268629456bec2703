"""Video out: MP4 bytes from frames (and an audio track), for generators and tests.

H.264 (libx264) when the bundled FFmpeg has it, else OpenH264, else VP9; all three play in
browsers inside MP4, which is what the sample browser and the leaderboard show. The MP4 has its
index first (faststart) so a browser plays it while loading. One encoder thread and FFmpeg's
bitexact flags make equal inputs decode to identical frames; the bitstream itself is usually, not
always, byte-identical across processes (x264 occasionally picks an equivalent encoding), so
comparisons of generated clips compare decoded frames.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

#: Video encoders in order of preference (browsers play all of them in MP4).
VIDEO_ENCODERS = ("libx264", "libopenh264", "libvpx-vp9")


def _av() -> Any:
    import av

    return av


def video_encoder() -> str:
    """The first of :data:`VIDEO_ENCODERS` the bundled FFmpeg can encode with."""
    av = _av()
    for name in VIDEO_ENCODERS:
        if name in av.codecs_available:
            try:
                av.Codec(name, "w")
                return name
            except av.FFmpegError:
                continue
    raise RuntimeError(
        f"this FFmpeg build has none of the video encoders {', '.join(VIDEO_ENCODERS)}"
    )


def _rgb_even(frame: Any) -> np.ndarray:
    """An RGB uint8 array padded (edge pixels repeated) to even sides, as yuv420p needs."""
    arr = np.asarray(frame.convert("RGB") if hasattr(frame, "convert") else frame, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"a video frame must be RGB (height, width, 3), got shape {arr.shape}")
    pad_h, pad_w = arr.shape[0] % 2, arr.shape[1] % 2
    if pad_h or pad_w:
        arr = np.pad(arr, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return arr


def encode_mp4(
    frames: Sequence[Any],
    fps: float,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
) -> bytes:
    """MP4 bytes of ``frames`` (PIL images or RGB uint8 arrays) at ``fps``, with a mono AAC track
    of ``audio`` (float samples at ``sample_rate``) when given. Equal inputs, equal frames."""
    av = _av()
    if not frames:
        raise ValueError("encode_mp4 needs at least one frame")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if audio is not None and not sample_rate:
        raise ValueError("encode_mp4 needs sample_rate with audio")
    first = _rgb_even(frames[0])
    # faststart (the index before the data, so a browser plays while loading) rewrites the
    # file at close, which FFmpeg does through its own file I/O: write a temporary file.
    with tempfile.TemporaryDirectory(prefix="eval-anything-mp4-") as tmp:
        path = Path(tmp) / "out.mp4"
        _write_mp4(av, path, frames, first, fps, audio, sample_rate)
        return path.read_bytes()


def _write_mp4(
    av: Any,
    path: Path,
    frames: Sequence[Any],
    first: np.ndarray,
    fps: float,
    audio: np.ndarray | None,
    sample_rate: int | None,
) -> None:
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        out.flags |= av.container.Flags.bitexact.value
        codec = video_encoder()
        vs = out.add_stream(codec, rate=rate)
        vs.width, vs.height = first.shape[1], first.shape[0]
        vs.pix_fmt = "yuv420p"
        vs.time_base = 1 / rate
        vs.codec_context.flags |= av.codec.context.Flags.bitexact.value
        vs.codec_context.options = {"threads": "1"} | (
            {"crf": "23", "preset": "medium"} if codec == "libx264" else {}
        )
        aud = None
        if audio is not None:
            aud = out.add_stream("aac", rate=int(sample_rate or 0))
            aud.layout = "mono"
            aud.codec_context.flags |= av.codec.context.Flags.bitexact.value
        for i, img in enumerate(frames):
            arr = first if i == 0 else _rgb_even(img)
            if arr.shape != first.shape:
                raise ValueError(
                    f"frame {i} is {arr.shape[1]}x{arr.shape[0]},"
                    f" frame 0 {first.shape[1]}x{first.shape[0]}: all frames need one size"
                )
            vf = av.VideoFrame.from_ndarray(arr, format="rgb24")
            vf.pts = i
            out.mux(vs.encode(vf))
        out.mux(vs.encode(None))
        if aud is not None and audio is not None:
            wave = np.clip(np.asarray(audio, dtype=np.float32).reshape(1, -1), -1.0, 1.0)
            af = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(wave), format="fltp", layout="mono"
            )
            af.sample_rate = int(sample_rate or 0)
            af.pts = 0
            out.mux(aud.encode(af))
            out.mux(aud.encode(None))
