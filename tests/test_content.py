from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from eval_anything.core.content import AudioPart, ImagePart, TextPart, VideoPart
from eval_anything.core.sample import Sample
from eval_anything.media.io import (
    audio_to_wav_bytes,
    frames_to_gif_bytes,
    frames_to_mp4_bytes,
    image_to_png_bytes,
)


def _png(color: tuple[int, int, int]) -> bytes:
    return image_to_png_bytes(Image.new("RGB", (8, 8), color))


def test_parts_round_trip_through_json_with_inline_bytes() -> None:
    s = Sample(
        id="a",
        input=[TextPart(text="hi"), ImagePart(data=_png((255, 0, 0)))],
        target="x",
    )
    back = Sample.model_validate_json(s.model_dump_json())
    assert back == s
    assert back.input[1].load().getpixel((0, 0)) == (255, 0, 0)


def test_content_hash_depends_on_bytes_not_path(tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "sub" / "b.png"
    b.parent.mkdir()
    a.write_bytes(_png((0, 255, 0)))
    b.write_bytes(_png((0, 255, 0)))
    assert ImagePart(path=str(a)).content_hash() == ImagePart(path=str(b)).content_hash()
    assert ImagePart(path=str(a)).content_hash() == ImagePart(data=a.read_bytes()).content_hash()
    b.write_bytes(_png((0, 0, 255)))
    assert ImagePart(path=str(a)).content_hash() != ImagePart(path=str(b)).content_hash()


def test_media_part_needs_exactly_one_source() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        ImagePart()
    with pytest.raises(ValidationError):
        ImagePart(path="x.png", data=b"1")


def test_audio_and_video_load_lazily(tmp_path: Path) -> None:
    wave = np.sin(np.linspace(0, 2 * np.pi * 440, 16000)).astype(np.float32) * 0.5
    wav = tmp_path / "tone.wav"
    wav.write_bytes(audio_to_wav_bytes(wave, 16000))
    loaded, sr = AudioPart(path=str(wav)).load()
    assert sr == 16000 and loaded.shape == (16000,)
    assert np.abs(loaded - wave).max() < 1e-3

    frames = [Image.new("RGB", (8, 8), (i * 20, 0, 0)) for i in range(10)]
    gif = tmp_path / "clip.gif"
    gif.write_bytes(frames_to_gif_bytes(frames))
    assert len(VideoPart(path=str(gif)).load()) == 10
    sampled = VideoPart(path=str(gif)).load(max_frames=4)
    assert len(sampled) == 4

    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(frames[:3]):
        f.save(folder / f"{i:03d}.png")
    assert len(VideoPart(path=str(folder)).load()) == 3

    mp4 = tmp_path / "clip.mp4"  # a container file: decoded by PyAV, which the install carries
    mp4.write_bytes(frames_to_mp4_bytes(frames, fps=5))
    clip = VideoPart(path=str(mp4)).load(max_frames=4)
    assert len(clip) == 4 and clip[0].mode == "RGB"
    assert [round(np.asarray(f)[4, 4, 0] / 20) for f in clip] == [0, 3, 6, 9]
    assert len(VideoPart(data=mp4.read_bytes(), mime="video/mp4").load()) == 10


def test_sample_hash_covers_targets() -> None:
    a = Sample(id="1", input=[TextPart(text="q")], target="x")
    b = Sample(id="1", input=[TextPart(text="q")], target="y")
    assert a.content_hash() != b.content_hash()
