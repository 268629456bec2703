"""Make the contrastive starter tasks in tasks/mini/contrastive/ (deterministic: same files).

- ``mini_zero_shot_shapes``: 18 drawn images of 9 classes (colour x shape); the choices are the
  class prompts ``a photo of a <colour> <shape>.``; scored by top-1/top-3 accuracy.
- ``mini_image_text_retrieval``: 8 images, 2 captions each; every sample's choices are the whole
  16-caption gallery and ``metadata.positives`` its own two captions; scored by image-to-text
  and text-to-image recall@k.

Images are drawn with Pillow from a seeded generator, so the tasks need no download.
Usage: ``python scripts/make_contrastive_tasks.py [OUT_DIR]`` (default tasks/mini/contrastive).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 64
COLOURS = {"red": (220, 30, 30), "green": (30, 170, 60), "blue": (30, 60, 220)}
SHAPES = ("circle", "square", "triangle")
BACKGROUNDS = {"white": (250, 250, 250), "black": (15, 15, 15), "grey": (128, 128, 128)}
TEMPLATE = "a photo of a {}."


def draw(colour: str, shape: str, background: str, rng: random.Random) -> Image.Image:
    img = Image.new("RGB", (SIZE, SIZE), BACKGROUNDS[background])
    pen = ImageDraw.Draw(img)
    half = rng.randint(14, 24)
    cx, cy = rng.randint(half + 2, SIZE - half - 2), rng.randint(half + 2, SIZE - half - 2)
    box = (cx - half, cy - half, cx + half, cy + half)
    fill = COLOURS[colour]
    if shape == "circle":
        pen.ellipse(box, fill=fill)
    elif shape == "square":
        pen.rectangle(box, fill=fill)
    else:
        pen.polygon([(cx, cy - half), (cx - half, cy + half), (cx + half, cy + half)], fill=fill)
    return img


def save_png(img: Image.Image, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG", optimize=False)
    return path.name


def zero_shot_rows(out: Path, rng: random.Random) -> list[dict]:
    classes = [f"{c} {s}" for c in COLOURS for s in SHAPES]
    prompts = [TEMPLATE.format(c) for c in classes]
    rows = []
    for k, label in enumerate(classes):
        colour, shape = label.split()
        for copy in range(2):
            sid = f"zs-{k}-{copy}"
            background = ("white", "grey")[copy]
            name = save_png(draw(colour, shape, background, rng), out / "images" / f"{sid}.png")
            rows.append(
                {
                    "id": sid,
                    "input": [{"type": "image", "path": f"images/{name}"}],
                    "target": prompts[k],
                    "choices": prompts,
                    "target_index": k,
                    "metadata": {"label": label, "background": background},
                }
            )
    return rows


def retrieval_rows(out: Path, rng: random.Random) -> list[dict]:
    combos = [
        ("red", "circle", "white"), ("green", "square", "black"), ("blue", "triangle", "grey"),
        ("red", "square", "black"), ("green", "triangle", "white"), ("blue", "circle", "black"),
        ("red", "triangle", "grey"), ("blue", "square", "white"),
    ]
    gallery: list[str] = []
    for colour, shape, background in combos:
        gallery.append(f"a {colour} {shape} on a {background} background")
        gallery.append(f"a picture of a {colour} {shape}")
    rows = []
    for i, (colour, shape, background) in enumerate(combos):
        sid = f"ret-{i}"
        name = save_png(draw(colour, shape, background, rng), out / "images" / f"{sid}.png")
        rows.append(
            {
                "id": sid,
                "input": [{"type": "image", "path": f"images/{name}"}],
                "target": gallery[2 * i],
                "choices": gallery,
                "target_index": 2 * i,
                "metadata": {"positives": [2 * i, 2 * i + 1]},
            }
        )
    return rows


ZERO_SHOT_YAML = """\
task: mini_zero_shot_shapes
version: "1"
description: >-
  Zero-shot image classification (CLIP-style): each drawn image is matched against the nine
  class prompts "a photo of a <colour> <shape>."; made by scripts/make_contrastive_tasks.py.
groups: [mini_contrastive]
source: {jsonl: zero_shot_shapes.jsonl}
request: multiple_choice
choice_delimiter: ""
apply_chat_template: false
scorers:
  - {name: zero_shot, args: {topk: [3]}}
primary_metric: top1
input_modalities: [image]
output_modalities: [text]
"""

RETRIEVAL_YAML = """\
task: mini_image_text_retrieval
version: "1"
description: >-
  Image-text retrieval: 8 drawn images, 2 captions each; every image is scored against the
  16-caption gallery. Image-to-text and text-to-image recall@1/@5; made by
  scripts/make_contrastive_tasks.py.
groups: [mini_contrastive]
source: {jsonl: image_text_retrieval.jsonl}
request: multiple_choice
choice_delimiter: ""
apply_chat_template: false
scorers:
  - {name: retrieval, args: {ks: [1, 5]}}
metrics:
  - {name: retrieval_recall, score: "i2t_R@1", args: {ks: [1, 5]}}
primary_metric: mean_R
input_modalities: [image]
output_modalities: [text]
"""


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows), encoding="utf-8")


def make(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "zero_shot_shapes.jsonl", zero_shot_rows(out, random.Random(1234)))
    write_jsonl(out / "image_text_retrieval.jsonl", retrieval_rows(out, random.Random(5678)))
    (out / "mini_zero_shot_shapes.yaml").write_text(ZERO_SHOT_YAML, encoding="utf-8")
    (out / "mini_image_text_retrieval.yaml").write_text(RETRIEVAL_YAML, encoding="utf-8")


if __name__ == "__main__":
    default = Path(__file__).resolve().parent.parent / "tasks" / "mini" / "contrastive"
    make(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
