"""``procedural``: a deterministic media generator for offline tests and the demo.

It is *not* a generative model. It reads the small vocabulary of
:mod:`eval_anything.analyzers.vocabulary` from an instruction (colors, the shapes circle / square /
triangle, counts, a background, a motion direction, beeps and their pitch) and renders exactly
that: a PNG drawing, a WAV of sine beeps, or an MP4 of a moving shape (with the beeps as its
audio track when the instruction asks for a sound). Anything outside the vocabulary is left out,
so a vague instruction gives an empty picture. The same instruction always gives the same bytes.

``--model procedural --model-args modality=image`` (or audio / video); the agent adapter uses it
as a generator: ``--model agent --model-args lm=smollm2,image=procedural,audio=procedural``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from eval_anything.analyzers.vocabulary import (
    COLORS,
    SceneSpec,
    SoundSpec,
    mentions_sound,
    parse_scene,
    parse_sound,
)
from eval_anything.core.content import AudioPart, ImagePart, VideoPart, text_of
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest
from eval_anything.media.io import audio_to_wav_bytes, image_to_png_bytes
from eval_anything.media.video import encode_mp4
from eval_anything.models.base import ModelAdapter
from eval_anything.registry import register

IMAGE_SIZE = 128
VIDEO_SIZE = 96
VIDEO_FRAMES = 8
VIDEO_FPS = 4.0
SAMPLE_RATE = 16000
BEEP_S = 0.18
GAP_S = 0.14
VERSION = "2"  # 2: video as MP4 (H.264), with an audio track when asked for a sound


def _layout(n: int, size: int) -> list[tuple[int, int, int]]:
    """Centers and radius for ``n`` objects on a square grid (row-major, deterministic)."""
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    cell = size / max(cols, rows, 2)
    radius = int(cell * 0.32)
    x0 = (size - cols * cell) / 2
    y0 = (size - rows * cell) / 2
    return [
        (int(x0 + (k % cols + 0.5) * cell), int(y0 + (k // cols + 0.5) * cell), radius)
        for k in range(n)
    ]


def draw_shape(
    draw: Any, shape: str, cx: int, cy: int, r: int, color: tuple[int, int, int]
) -> None:
    if shape == "square":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=color)
    elif shape == "triangle":
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=color)
    else:
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=color)


def render_scene(spec: SceneSpec, size: int = IMAGE_SIZE) -> Any:
    """A PIL image of the scene: every object of every group, laid out on a grid."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), COLORS.get(spec.background, COLORS["white"]))
    draw = ImageDraw.Draw(img)
    items = [(o.shape, o.color) for o in spec.objects for _ in range(min(o.count, 12))]
    for (shape, color), (cx, cy, r) in zip(items, _layout(len(items), size), strict=True):
        draw_shape(draw, shape, cx, cy, r, COLORS.get(color, COLORS["black"]))
    return img


def render_clip(spec: SceneSpec, size: int = VIDEO_SIZE, frames: int = VIDEO_FRAMES) -> list[Any]:
    """Frames of the scene's first object moving in ``spec.motion`` (still when None)."""
    from PIL import Image, ImageDraw

    obj = spec.objects[0] if spec.objects else None
    steps = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
    step = steps.get(spec.motion or "", (0, 0))
    r = size // 8
    travel = size - 4 * r
    out = []
    for k in range(frames):
        img = Image.new("RGB", (size, size), COLORS.get(spec.background, COLORS["white"]))
        if obj is not None:
            t = k / max(1, frames - 1) - 0.5
            cx = int(size / 2 + step[0] * t * travel)
            cy = int(size / 2 + step[1] * t * travel)
            color = COLORS.get(obj.color, COLORS["black"])
            draw_shape(ImageDraw.Draw(img), obj.shape, cx, cy, r, color)
        out.append(img)
    return out


def render_sound(spec: SoundSpec, sr: int = SAMPLE_RATE) -> np.ndarray:
    """``spec.beeps`` sine beeps with short fades, separated by silence, plus a silent tail."""
    f = spec.frequency()
    n_beep, n_gap = int(BEEP_S * sr), int(GAP_S * sr)
    t = np.arange(n_beep) / sr
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
    beep = (0.5 * np.sin(2 * np.pi * f * t) * fade).astype(np.float32)
    gap = np.zeros(n_gap, dtype=np.float32)
    pieces = [gap]
    for _ in range(max(0, min(spec.beeps, 12))):
        pieces += [beep, gap]
    return np.concatenate(pieces)


def render_video(instruction: str) -> bytes:
    """MP4 of the scene's clip at :data:`VIDEO_FPS`; the sound it names as the audio track."""
    frames = render_clip(parse_scene(instruction))
    if not mentions_sound(instruction):
        return encode_mp4(frames, VIDEO_FPS)
    return encode_mp4(frames, VIDEO_FPS, render_sound(parse_sound(instruction)), SAMPLE_RATE)


def render(modality: str, instruction: str) -> ImagePart | AudioPart | VideoPart:
    """The media part for ``instruction`` (inline bytes; the runner stores them in the run dir)."""
    if modality == "image":
        png = image_to_png_bytes(render_scene(parse_scene(instruction)))
        return ImagePart(data=png, mime="image/png")
    if modality == "audio":
        wave = render_sound(parse_sound(instruction))
        return AudioPart(data=audio_to_wav_bytes(wave, SAMPLE_RATE), mime="audio/wav")
    if modality == "video":
        return VideoPart(data=render_video(instruction), mime="video/mp4", fps=VIDEO_FPS)
    raise ValueError(f"procedural generator: modality {modality!r} is not image, audio or video")


@register("model", "procedural")
class ProceduralGenerator(ModelAdapter):
    """Renders the last user turn's text as one medium (``modality`` arg)."""

    input_modalities = ("text",)

    def __init__(self, modality: str = "image") -> None:
        if modality not in ("image", "audio", "video"):
            raise ValueError(f"--model-args modality={modality!r}: choose image, audio or video")
        self.modality = modality
        self.output_modalities = (modality,)  # type: ignore[misc]
        self.calls = 0

    def identity(self) -> dict[str, Any]:
        return {"adapter": "procedural", "name": f"procedural-{self.modality}", "version": VERSION,
                "modality": self.modality}

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        self.calls += len(requests)
        outs = []
        for r in requests:
            text = text_of(r.messages[-1].content)
            part = render(self.modality, text)
            outs.append(ModelOutput(parts=[part], consumed_modalities=["text"]))
        return outs
