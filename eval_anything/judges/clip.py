"""CLIP judges: text-image consistency from a contrastive image-text model.

- ``synergy`` (pair ``ti`` only): ``max(0, cos)`` between the text answer and the generated image;
- ``image_if``: CLIPScore of the instruction against the image, ``min(1, 2.5 * max(0, cos))``
  (Hessel et al.'s scaling), times 10 to sit on the 0-10 scale. This is a consistency score, not
  the paper's 4/3/2/1 rubric, and results name it as such (``clip:...``);
- ``tifa`` on a video: zero-shot choice of the option whose text ("question option") is closest to
  the clip, the clip being the mean of :data:`VIDEO_FRAMES` frame embeddings (frames sampled by
  :func:`eval_anything.media.video.sample_video_frames`, as every video reader does); 10 if it is
  the right option, else 0. Audio questions are unscored (CLIP sees no sound).

Bindings: ``clip:DIR`` (a transformers CLIPModel folder) and ``open_clip:MODEL[,pretrained=FILE]
[,config=FILE.json]`` (an open_clip architecture, its weights file, and optionally a model config
to register first, for custom architectures).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from eval_anything.errors import ConfigError
from eval_anything.judges.base import Judge, JudgeItem, Judgment, unsupported
from eval_anything.model_args import parse_binding_args, typed_options
from eval_anything.registry import register
from eval_anything.scoring.tifa import score_choice, split_choices

CLIPSCORE_W = 2.5
VIDEO_FRAMES = 8
LETTERS = "ABCDEFGH"


class _ClipBase(Judge):
    kinds = ("image_if", "synergy", "tifa")
    label = "clip"

    def embed(self, texts: list[str], images: list[Any]) -> tuple[Any, Any]:
        raise NotImplementedError

    def cosines(self, texts: list[str], images: list[Any]) -> list[float]:
        if not texts:
            return []
        t, v = self.embed(texts, images)
        t = t / t.norm(dim=-1, keepdim=True)
        v = v / v.norm(dim=-1, keepdim=True)
        return [float(x) for x in (t * v).sum(dim=-1)]

    def judge(self, items: list[JudgeItem]) -> list[Judgment]:
        results: list[Judgment | None] = [None] * len(items)
        idx, texts, images = [], [], []
        for i, it in enumerate(items):
            img = next((p for p in it.media if p.type == "image"), None)
            if it.kind not in self.kinds:
                results[i] = unsupported(self, it)
            elif it.kind == "tifa":
                results[i] = self.video_choice(it)
            elif it.kind == "synergy" and it.metadata.get("pair") != "ti":
                results[i] = Judgment(None, reason="a CLIP judge rates text-image pairs only")
            elif img is None:
                results[i] = Judgment(None, reason="no image to compare")
            else:
                idx.append(i)
                texts.append(it.response if it.kind == "synergy" else it.prompt)
                images.append(img.load())
        for i, cos in zip(idx, self.cosines(texts, images), strict=True):
            if items[i].kind == "synergy":
                results[i] = Judgment(max(0.0, cos), details={"cosine": round(cos, 4)})
            else:
                score = min(1.0, CLIPSCORE_W * max(0.0, cos))
                results[i] = Judgment(10.0 * score, details={"cosine": round(cos, 4)})
        return [r for r in results if r is not None]

    def video_choice(self, item: JudgeItem) -> Judgment:
        """Answer a multiple-choice question about a generated video by nearest option text."""
        video = next((p for p in item.media if p.type == "video"), None)
        if video is None:
            return Judgment(None, reason="a CLIP judge answers questions about videos only")
        options = split_choices(item.metadata.get("choices"))
        if not options:
            return Judgment(None, reason="the question has no options to choose from")
        frames = video.load(max_frames=VIDEO_FRAMES)
        question = str(item.metadata.get("question", "")).strip()
        t, v = self.embed([f"{question} {o}".strip() for o in options], frames)
        t = t / t.norm(dim=-1, keepdim=True)
        clip = v / v.norm(dim=-1, keepdim=True)
        clip = clip.mean(dim=0)
        sims = [float(x) for x in t @ (clip / clip.norm())]
        best = max(range(len(options)), key=lambda k: sims[k])
        letter = LETTERS[best]
        verdict = Judgment(
            None,
            choice=letter,
            raw=f"option {letter} ({options[best]!r}) nearest the clip",
            details={"predicted": letter, "cosines": [round(x, 4) for x in sims],
                     "frames": len(frames)},
        )
        return score_choice(verdict, item)


@register("judge", "clip")
class TransformersClipJudge(_ClipBase):
    def __init__(self, arg: str | None = None, cache: Any = None) -> None:
        if not arg or not Path(arg).is_dir():
            raise ValueError("--judge ROLE=clip:DIR: give a transformers CLIP model folder")
        from transformers import CLIPModel, CLIPProcessor

        self.path = Path(arg)
        self.model = CLIPModel.from_pretrained(self.path).eval()
        self.processor = CLIPProcessor.from_pretrained(self.path)
        self.digest = _digest(self.path)

    def identity(self) -> str:
        return f"clip:{self.path.name}:{self.digest[:12]}"

    def embed(self, texts: list[str], images: list[Any]) -> tuple[Any, Any]:
        import torch

        inputs = self.processor(
            text=texts, images=images, return_tensors="pt", padding=True, truncation=True
        )
        with torch.no_grad():
            out = self.model(**inputs)
        return out.text_embeds, out.image_embeds


@register("judge", "open_clip")
class OpenClipJudge(_ClipBase):
    binding_options = {"config": str, "pretrained": str}

    def __init__(self, arg: str | None = None, cache: Any = None) -> None:
        import open_clip

        if not arg:
            raise ValueError("--judge ROLE=open_clip:MODEL[,pretrained=FILE]: name the model")
        where = f"--judge ROLE=open_clip:{arg}"
        name, raw = parse_binding_args(arg, where)
        if name is None:
            raise ConfigError(f"{where}: give the model name first, e.g. open_clip:ViT-B-32")
        args = typed_options(raw, self.binding_options, where)
        if args.get("config"):
            open_clip.add_model_config(str(args["config"]))
        pretrained = args.get("pretrained")
        self.model, _, self.preprocess = open_clip.create_model_and_transforms(
            name, pretrained=pretrained, device="cpu"
        )
        self.model.eval()
        self.tokenizer = open_clip.get_tokenizer(name)
        self.name = name
        self.digest = _digest(pretrained) if pretrained else "random-init"

    def identity(self) -> str:
        return f"open_clip:{self.name}:{self.digest[:12]}"

    def embed(self, texts: list[str], images: list[Any]) -> tuple[Any, Any]:
        import torch

        pixel = torch.stack([self.preprocess(im) for im in images])
        with torch.no_grad():
            return self.model.encode_text(self.tokenizer(texts)), self.model.encode_image(pixel)


def _digest(path: str | Path) -> str:
    """Content digest of a weights folder or file (cached by the weights-identity helper)."""
    import json

    from eval_anything.models.weights_identity import weights_identity

    ident = weights_identity(str(path))
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()
