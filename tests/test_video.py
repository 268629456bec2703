"""Video through PyAV (eval_anything.media.video): every container decodes through one function,
frames are found by timestamp (seeking on long clips), the audio track is readable, corrupt files
are refused before any model call, and MP4 out is bit-exact. Clips are written here with PyAV; no
binary fixtures."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image
from test_judges_models import tiny_clip_dir  # noqa: F401  (a fixture, used by name)

from eval_anything.core.content import VideoPart
from eval_anything.errors import UserError
from eval_anything.judges.base import JudgeItem
from eval_anything.media.io import load_video_audio
from eval_anything.media.video import (
    VideoError,
    encode_mp4,
    frame_indices,
    probe_video,
    read_video_audio,
    sample_video_frames,
)

W, H = 48, 32


def coded(k: int) -> np.ndarray:
    """Frame ``k`` with its index in its colour: red = 16 * (k // 16), green = 16 * (k % 16), so
    a lossy codec's few levels of error still read back as ``k``."""
    frame = np.zeros((H, W, 3), dtype=np.uint8)
    frame[..., 0] = 16 * (k // 16)
    frame[..., 1] = 16 * (k % 16)
    return frame


def index_of(img: Any) -> int:
    r, g = np.asarray(img, dtype=np.float32)[H // 2 - 4 : H // 2 + 4, W // 2 - 4 : W // 2 + 4,
                                             :2].mean(axis=(0, 1))
    return int(round(r / 16)) * 16 + int(round(g / 16))


def write_clip(path: Path, fmt: str, codec: str, n: int, fps: int, audio: bool = False,
               gop: int = 12) -> Path:
    """A clip of ``n`` index-coded frames, with a mono tone track when ``audio``."""
    with av.open(str(path), "w", format=fmt) as out:
        vs = out.add_stream(codec, rate=fps)
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        vs.codec_context.gop_size = gop
        aud = None
        if audio:
            aud = out.add_stream("libopus" if fmt == "webm" else "aac", rate=48000)
            aud.layout = "mono"
        for k in range(n):
            frame = av.VideoFrame.from_ndarray(coded(k), format="rgb24")
            frame.pts = k
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        if aud is not None:
            t = np.arange(48000 * n // fps) / 48000
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            af = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            af.sample_rate, af.pts = 48000, 0
            out.mux(aud.encode(af))
            out.mux(aud.encode(None))
    return path


CONTAINERS = [("mp4", "mp4", "libx264"), ("webm", "webm", "libvpx-vp9"),
              ("mov", "mov", "libx264"), ("mkv", "matroska", "libx264")]


@pytest.mark.parametrize(("ext", "fmt", "codec"), CONTAINERS)
def test_every_container_decodes_and_samples_through_one_function(
    tmp_path: Path, ext: str, fmt: str, codec: str
) -> None:
    clip = write_clip(tmp_path / f"clip.{ext}", fmt, codec, n=30, fps=10, audio=True)
    info = probe_video(clip)
    assert (info.frame_count, info.fps, info.width, info.height) == (30, 10.0, W, H)
    assert info.has_audio and abs(info.duration_s - 3.0) < 0.1
    uniform = sample_video_frames(clip, num_frames=4)  # frames 0, 10, 19, 29
    assert [index_of(f) for f in uniform] == [0, 10, 19, 29]
    assert all(f.mode == "RGB" and f.size == (W, H) for f in uniform)
    by_rate = sample_video_frames(clip, fps=2.0)  # every fifth frame
    assert [index_of(f) for f in by_rate] == [0, 5, 10, 15, 20, 25]
    # at most 3 of those 6, spread uniformly (numpy rounds 2.5 to 2)
    assert [index_of(f) for f in sample_video_frames(clip, num_frames=3, fps=2.0)] == [0, 10, 25]
    assert [index_of(f) for f in sample_video_frames(clip)] == list(range(30))
    # inline bytes read the same as the file
    assert [index_of(f) for f in sample_video_frames(clip.read_bytes(), 4)] == [0, 10, 19, 29]


def test_frames_far_into_a_clip_are_reached_by_seeking(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "long.mp4", "mp4", "libx264", n=240, fps=24, gop=24)  # 10 s
    got = [index_of(f) for f in sample_video_frames(clip, num_frames=5)]
    assert got == [0, 60, 120, 179, 239]
    # targets closer than a second apart decode on without seeking; both give the same frames
    got = [index_of(f) for f in sample_video_frames(clip, fps=4.0, num_frames=40)]
    assert got == frame_indices(240, 24.0, 40, 4.0)


def test_frame_indices_follow_the_processors_rules() -> None:
    assert frame_indices(12, 6.0, num_frames=4) == [0, 4, 7, 11]
    assert frame_indices(3, 6.0, num_frames=8) == [0, 1, 2]  # short clips are not padded
    assert frame_indices(10, 10.0, fps=20.0) == list(range(10))  # no upsampling
    assert frame_indices(30, 30.0, fps=1.0) == [0]
    with pytest.raises(ValueError, match="num_frames"):
        frame_indices(10, 10.0, num_frames=0)


def test_gif_and_frame_folders_read_through_the_same_function(tmp_path: Path) -> None:
    frames = [Image.fromarray(coded(k)) for k in range(10)]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=100,
                   loop=0)
    info = probe_video(gif.getvalue())
    assert (info.container, info.frame_count, info.fps) == ("gif", 10, 10.0)
    assert [index_of(f) for f in sample_video_frames(gif.getvalue(), 4)] == [0, 3, 6, 9]
    folder = tmp_path / "frames"
    folder.mkdir()
    for k, f in enumerate(frames):
        f.save(folder / f"{k:03d}.png")
    (folder / "notes.txt").write_text("not a frame")
    info = probe_video(folder, folder_fps=5.0)
    assert (info.container, info.frame_count, info.duration_s) == ("frames", 10, 2.0)
    assert [index_of(f) for f in sample_video_frames(folder, 4)] == [0, 3, 6, 9]
    assert [index_of(f) for f in sample_video_frames(folder, fps=2.5, folder_fps=5.0)] == [
        0, 2, 4, 6, 8]
    part = VideoPart(path=str(folder), fps=5.0)
    assert len(part.load(max_frames=3)) == 3
    with pytest.raises(VideoError, match="no audio track"):
        read_video_audio(folder)


def test_the_audio_track_is_read_mono_and_resampled(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "talk.mkv", "matroska", "libx264", n=20, fps=10, audio=True)
    wave, rate = read_video_audio(clip)
    assert rate == 48000 and wave.dtype == np.float32 and wave.ndim == 1
    rms = float(np.sqrt(np.mean(wave[4800:-4800] ** 2)))
    assert abs(wave.size - 96000) < 2048 and abs(rms - 0.3 / np.sqrt(2)) < 0.02
    wave16, rate16 = load_video_audio(VideoPart(path=str(clip)), sample_rate=16000)
    assert rate16 == 16000 and abs(wave16.size - 32000) < 1024
    spectrum = np.abs(np.fft.rfft(wave16[4000:20000]))
    assert abs(np.argmax(spectrum) * 16000 / 16000 - 440) < 5  # the 440 Hz tone survives
    silent = write_clip(tmp_path / "silent.mp4", "mp4", "libx264", n=10, fps=10)
    with pytest.raises(VideoError, match="no audio track"):
        read_video_audio(silent)


def test_encode_mp4_is_bit_exact_with_fps_and_audio(tmp_path: Path) -> None:
    frames = [Image.fromarray(coded(k)[:31, :47]) for k in range(15)]  # odd sides are padded
    tone = (0.2 * np.sin(np.arange(24000) / 16000 * 2 * np.pi * 500)).astype(np.float32)
    a = encode_mp4(frames, 30000 / 1001, tone, 16000)
    assert a == encode_mp4(frames, 30000 / 1001, tone, 16000)
    info = probe_video(a)
    assert info.codec in ("h264", "vp9") and info.has_audio
    assert (info.frame_count, info.width, info.height) == (15, 48, 32)
    assert info.fps == pytest.approx(29.97, abs=0.01)
    assert [index_of(f) for f in sample_video_frames(a, 3)] == [0, 7, 14]
    assert read_video_audio(a)[1] == 16000
    with pytest.raises(ValueError, match="sample_rate"):
        encode_mp4(frames, 10, tone)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"this is a text file, not a video\n", "cannot open it as a video"),
        (b"", "cannot open it as a video"),
    ],
)
def test_not_a_video_is_a_user_error(tmp_path: Path, content: bytes, why: str) -> None:
    fake = tmp_path / "x.mp4"
    fake.write_bytes(content)
    with pytest.raises(VideoError, match=why) as err:
        probe_video(fake)
    assert str(fake) in str(err.value) and isinstance(err.value, UserError)
    with pytest.raises(VideoError):
        sample_video_frames(fake, 4)


def test_truncated_audio_only_missing_and_empty_are_refused(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "whole.mp4", "mp4", "libx264", n=60, fps=10)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with pytest.raises(VideoError, match="cut.mp4"):
        probe_video(cut)
    sound = tmp_path / "sound.m4a"
    with av.open(str(sound), "w", format="mp4") as out:
        aud = out.add_stream("aac", rate=16000)
        aud.layout = "mono"
        af = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.float32), format="fltp",
                                        layout="mono")
        af.sample_rate, af.pts = 16000, 0
        out.mux(aud.encode(af))
        out.mux(aud.encode(None))
    with pytest.raises(VideoError, match="no video stream"):
        probe_video(sound)
    with pytest.raises(VideoError, match="not found"):
        probe_video(tmp_path / "absent.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="frame images"):
        probe_video(tmp_path / "empty")


def test_clip_judge_answers_video_questions_from_sampled_frames(
    tiny_clip_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    from eval_anything.judges.base import build_judge

    judge = build_judge(f"clip:{tiny_clip_dir}")
    clip = write_clip(tmp_path / "q.webm", "webm", "libvpx-vp9", n=24, fps=12)
    meta = {"question": "Which way does it move?", "choices": "A. left\nB. right\nC. up",
            "answer": "B"}
    video, audio_item = judge.judge([
        JudgeItem(kind="tifa", prompt="p", media=[VideoPart(path=str(clip))], metadata=meta),
        JudgeItem(kind="tifa", prompt="p", media=[], metadata=meta),
    ])
    sims = video.details["cosines"]
    assert video.details["frames"] == 8 and len(sims) == 3
    assert video.details["predicted"] == "ABC"[int(np.argmax(sims))]
    assert video.value == (10.0 if video.details["predicted"] == "B" else 0.0)
    assert audio_item.value is None and "videos only" in (audio_item.reason or "")


TASK = "task: {name}\nsource: {{jsonl: data.jsonl}}\nloader: {{name: sample}}\n" \
       "scorers: [{{name: exact_match}}]\n"


def run_video_task(tmp_path: Path, clip_bytes: bytes) -> tuple[subprocess.CompletedProcess[str],
                                                               Path]:
    folder = tmp_path / "task"
    folder.mkdir()
    (folder / "task.yaml").write_text(TASK.format(name="clips"))
    (folder / "visual").mkdir()
    (folder / "visual" / "x.mp4").write_bytes(clip_bytes)
    row = {"id": "v1", "input": [{"type": "text", "text": "What moves?"},
                                 {"type": "video", "path": "visual/x.mp4"}], "target": "x"}
    (folder / "data.jsonl").write_text(json.dumps(row) + "\n")
    calls = tmp_path / "calls.log"
    exe = Path(sys.executable).parent / "eval-anything"
    proc = subprocess.run(
        [str(exe), "run", "--model", "scripted", "--model-args", f"default=x,calls_log={calls}",
         "--tasks", "clips", "--include-path", str(folder), "--output-dir",
         str(tmp_path / "out"), "--no-cache", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    return proc, calls


@pytest.mark.slow
def test_a_text_file_named_mp4_is_refused_before_any_model_call(tmp_path: Path) -> None:
    proc, calls = run_video_task(tmp_path, b"hello, I am not a video\n")
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    for needle in ("row 0", "input[1].path", "x.mp4", "not a readable video"):
        assert needle in proc.stderr, (needle, proc.stderr)
    assert not calls.exists() and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_real_mp4_passes_the_same_check_and_runs(tmp_path: Path) -> None:
    frames = [Image.fromarray(coded(k)) for k in range(8)]
    proc, calls = run_video_task(tmp_path, encode_mp4(frames, 4.0))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert calls.exists()


def test_an_audio_track_longer_than_the_video_does_not_stretch_it(tmp_path: Path) -> None:
    clip = tmp_path / "long-audio.mkv"
    with av.open(str(clip), "w", format="matroska") as out:
        vs = out.add_stream("libx264", rate=10)
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        aud = out.add_stream("aac", rate=16000)
        aud.layout = "mono"
        for k in range(10):  # 1 s of video
            frame = av.VideoFrame.from_ndarray(coded(k), format="rgb24")
            frame.pts = k
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        af = av.AudioFrame.from_ndarray(np.zeros((1, 48000), np.float32), format="fltp",
                                        layout="mono")  # 3 s of audio
        af.sample_rate, af.pts = 16000, 0
        out.mux(aud.encode(af))
        out.mux(aud.encode(None))
    info = probe_video(clip)
    assert (info.frame_count, info.has_audio) == (10, True) and abs(info.duration_s - 1.0) < 0.15
    assert [index_of(f) for f in sample_video_frames(clip, 4)] == [0, 3, 6, 9]
    assert abs(read_video_audio(clip)[0].size - 48000) < 2048
