"""Tiny models of real media-taking classes (LLaVA for images, Qwen2-Audio for audio,
LLaVA-NeXT-Video for video), media files that differ per index, and a local task of the matching
input modality for auto-scoring. Everything is built on the spot, offline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

KINDS = ("image", "audio", "video")
FIELD = {"image": "image", "audio": "audio_path", "video": "video_path"}


def build_model(kind: str, folder: Path) -> Path:
    """A tiny random model of a real class whose processor takes ``kind``."""
    if kind == "image":
        from tiny import build_tiny_llava

        return build_tiny_llava(folder)
    from test_hf_av_inputs import build_tiny_llava_next_video, build_tiny_qwen2_audio

    folder.mkdir(parents=True, exist_ok=True)
    return (build_tiny_qwen2_audio if kind == "audio" else build_tiny_llava_next_video)(folder)


def write_media(folder: Path, kind: str, k: int) -> str:
    """A media file of ``kind`` whose content depends on ``k``; returns its name."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    if kind == "image":
        name = f"img{k}.png"
        Image.new("RGB", (40, 40), ((60 * k) % 256, 200 - 40 * k % 200, 30)).save(folder / name)
    elif kind == "audio":
        import soundfile as sf

        name = f"clip{k}.wav"
        t = np.linspace(0, 1, 8000, dtype=np.float32)
        sf.write(folder / name, np.sin(2 * np.pi * (220 + 330 * k) * t) * (0.2 + 0.3 * k), 8000)
    else:
        name = f"vid{k}.gif"
        frames = [Image.new("RGB", (40, 40), ((50 * k + 20 * f) % 256, 40 * f % 256, 90))
                  for f in range(6)]
        frames[0].save(folder / name, save_all=True, append_images=frames[1:], duration=100)
    return name


def preference_rows(folder: Path, kind: str, n: int = 4) -> Path:
    """align-anything text+media preference rows (``response_1/2``, ``overall_response``)."""
    rows = [{"question": f"What is in this {kind} {k}?",
             FIELD[kind]: write_media(folder, kind, k % 2),
             "response_1": "A red square.", "response_2": "Nothing at all, sorry.",
             "overall_response": 1 + k % 2, "p_response": 1, "prompt_following_rate_1": 3}
            for k in range(n)]
    path = folder / f"{kind}_pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def feedback_rows(folder: Path, kind: str, n: int = 4) -> Path:
    """Language-feedback rows with media (``prompt, response, refinement, critique``)."""
    rows = [{"id": f"f{k}", "prompt": f"Describe the {kind} {k}.",
             FIELD[kind]: write_media(folder, kind, k % 2), "response": "It is blue.",
             "critique": "Name the colour you see.", "refinement": "It is red."}
            for k in range(n)]
    path = folder / f"{kind}_feedback.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_task(folder: Path, kind: str) -> str:
    """A two-item generation task whose inputs carry ``kind``; returns the task name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"tiny_{kind}_qa"
    rows = [{"id": f"q{k}", "target": "red",
             "input": [{"type": kind, "path": write_media(folder, kind, k)},
                       {"type": "text", "text": f"What colour is this {kind}?"}]}
            for k in range(2)]
    (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / f"{name}.yaml").write_text(
        f"task: {name}\nversion: '1'\ndescription: tiny {kind} question for tests\n"
        f"source: {{jsonl: {name}.jsonl}}\nloader: {{name: sample}}\n"
        "generation: {max_new_tokens: 4, temperature: 0.0}\n"
        "scorers:\n  - name: exact_match\nprimary_metric: exact_match\n"
        "scale: {min: 0, max: 1, higher_is_better: true}\n"
        f"input_modalities: [text, {kind}]\noutput_modalities: [text]\n"
    )
    return name
