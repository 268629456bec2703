"""Contrastive image-text models (CLIP, SigLIP...) over open_clip or transformers.

A contrastive model does not write text: it scores how well texts match an image. It answers
``multiple_choice`` requests: the context holds one image (its text, if any, is not used), the
continuations are candidate texts (class prompts for zero-shot classification, gallery captions
for retrieval), and each candidate's score is ``logit_scale * cos(image, text)``. That is the
candidate's log-probability under the softmax over the candidates *up to the softmax
normalizer*, which is the same for every candidate of a request: it ranks candidates exactly as
log-probabilities would, and unlike normalized ones it is comparable across requests, which
text-to-image retrieval needs (see :mod:`eval_anything.scoring.contrastive`).

``--model-args``:
- open_clip: ``model=ViT-B-32,pretrained=laion2b_s34b_b79k`` (architecture + tag),
  ``model=ViT-B-32,pretrained=/path/ckpt.pt`` (architecture + checkpoint file),
  ``pretrained=DIR`` (a folder with ``open_clip_config.json`` and weights) or
  ``pretrained=hf-hub:org/repo``;
- transformers: ``pretrained=DIR_OR_HUB_ID`` of a CLIP/SigLIP model (``backend=transformers``
  forces it for hub ids).
Embeddings are cached in memory per text and per image content, so a gallery caption shared by
every retrieval query is encoded once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval_anything.core.content import ImagePart
from eval_anything.core.outputs import LoglikelihoodOutput, ModelOutput
from eval_anything.core.requests import GenerateRequest, LoglikelihoodRequest
from eval_anything.models.base import ModelAdapter
from eval_anything.models.weights_identity import weights_identity
from eval_anything.registry import register

BACKENDS = ("auto", "open_clip", "transformers")


def resolve_backend(pretrained: str | None, model: str | None, backend: str) -> str:
    """Which library loads these args (pure, so the rules are testable without loading)."""
    if backend not in BACKENDS:
        raise ValueError(f"--model-args backend={backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    if model:
        return "open_clip"
    if pretrained is None:
        raise ValueError(
            "--model-args: give pretrained=DIR (open_clip or transformers folder) or "
            "model=ARCH,pretrained=TAG (open_clip)"
        )
    path = Path(pretrained)
    schema = pretrained.startswith(("hf-hub:", "local-dir:"))
    if schema or (path / "open_clip_config.json").exists():
        return "open_clip"
    if (path / "config.json").exists() or not path.exists():
        return "transformers"
    raise ValueError(
        f"--model-args pretrained={pretrained}: folder has neither open_clip_config.json "
        "(open_clip) nor config.json (transformers)"
    )


class OpenClipBackend:
    def __init__(self, pretrained: str | None, model: str | None, device: str) -> None:
        import open_clip

        if model:
            name, tag = model, pretrained
        elif pretrained and pretrained.startswith(("hf-hub:", "local-dir:")):
            name, tag = pretrained, None
        else:
            name, tag = f"local-dir:{pretrained}", None
        self.model, _, self.preprocess = open_clip.create_model_and_transforms(
            name, pretrained=tag, device=device
        )
        self.model.eval()
        self.tokenizer = open_clip.get_tokenizer(name)
        self.device = device
        self.architecture = model or type(self.model).__name__

    def embed_images(self, images: list[Any]) -> Any:
        import torch

        batch = torch.stack([self.preprocess(im) for im in images]).to(self.device)
        return self.model.encode_image(batch, normalize=True).float()

    def embed_texts(self, texts: list[str]) -> Any:
        return self.model.encode_text(self.tokenizer(texts).to(self.device), normalize=True).float()

    def logit_scale(self) -> float:
        return float(self.model.logit_scale.detach().exp())


class TransformersBackend:
    def __init__(self, pretrained: str, device: str) -> None:
        from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

        self.model = AutoModel.from_pretrained(pretrained).to(device).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(pretrained)
        self.image_processor = AutoImageProcessor.from_pretrained(pretrained)
        self.device = device
        self.architecture = type(self.model).__name__

    def embed_images(self, images: list[Any]) -> Any:
        px = self.image_processor(images=images, return_tensors="pt")["pixel_values"]
        return _normalized(self.model.get_image_features(pixel_values=px.to(self.device)))

    def embed_texts(self, texts: list[str]) -> Any:
        enc = self.tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        enc = {k: v.to(self.device) for k, v in enc.items()}
        return _normalized(self.model.get_text_features(**enc))

    def logit_scale(self) -> float:
        return float(self.model.logit_scale.detach().exp())


def _normalized(out: Any) -> Any:
    """transformers 5 returns a model output (projected features in ``pooler_output``), 4.x a
    tensor."""
    import torch

    feats = getattr(out, "pooler_output", out)
    return torch.nn.functional.normalize(feats.float(), dim=-1)


@register("model", "clip")
class ClipModel(ModelAdapter):
    input_modalities = ("text", "image")
    output_modalities = ("text",)
    supports_loglikelihood = True

    def __init__(
        self,
        pretrained: str | None = None,
        model: str | None = None,
        backend: str = "auto",
        device: str = "auto",
        batch_size: int = 32,
        name: str | None = None,
    ) -> None:
        from eval_anything.models.hf import pick_device

        self.backend_name = resolve_backend(pretrained, model, backend)
        self.device = pick_device(device)
        self.batch_size = batch_size
        self.pretrained = pretrained
        if self.backend_name == "open_clip":
            self.backend: Any = OpenClipBackend(pretrained, model, self.device)
        else:
            assert pretrained is not None
            self.backend = TransformersBackend(pretrained, self.device)
        local = pretrained.removeprefix("local-dir:") if pretrained else None
        self._identity = {
            "adapter": "clip",
            "name": name or pretrained or model,
            "backend": self.backend_name,
            "model": model,
            "weights": weights_identity(local) if local else None,
        }
        self._text_cache: dict[str, Any] = {}
        self._image_cache: dict[str, Any] = {}

    def identity(self) -> dict[str, Any]:
        return self._identity

    def details(self) -> dict[str, Any]:
        return {
            "backend": self.backend_name,
            "architecture": self.backend.architecture,
            "device": self.device,
            "logit_scale": round(self.backend.logit_scale(), 4),
            "parameters": sum(p.numel() for p in self.backend.model.parameters()),
        }

    # ------------------------------------------------------------------ embeddings

    def embed_texts(self, texts: list[str]) -> Any:
        """Unit-norm text embeddings (rows), cached per text."""
        import torch

        todo = list(dict.fromkeys(t for t in texts if t not in self._text_cache))
        with torch.inference_mode():
            for start in range(0, len(todo), self.batch_size):
                chunk = todo[start : start + self.batch_size]
                for t, v in zip(chunk, self.backend.embed_texts(chunk).cpu(), strict=True):
                    self._text_cache[t] = v
        return torch.stack([self._text_cache[t] for t in texts]) if texts else torch.empty(0)

    def embed_images(self, parts: list[ImagePart]) -> Any:
        """Unit-norm image embeddings (rows), cached per image content."""
        import torch

        keys = [p.content_hash() for p in parts]
        todo = {k: p for k, p in zip(keys, parts, strict=True) if k not in self._image_cache}
        items = list(todo.items())
        with torch.inference_mode():
            for start in range(0, len(items), self.batch_size):
                chunk = items[start : start + self.batch_size]
                vecs = self.backend.embed_images([p.load() for _k, p in chunk]).cpu()
                for (k, _p), v in zip(chunk, vecs, strict=True):
                    self._image_cache[k] = v
        return torch.stack([self._image_cache[k] for k in keys]) if keys else torch.empty(0)

    # ------------------------------------------------------------------ requests

    def loglikelihood(self, requests: list[LoglikelihoodRequest]) -> list[LoglikelihoodOutput]:
        images = [_the_image(r) for r in requests]
        img = self.embed_images(images)
        texts = [c.strip() for r in requests for c in r.continuations]
        txt = self.embed_texts(texts)
        scale = self.backend.logit_scale()
        out, k = [], 0
        for i, r in enumerate(requests):
            n = len(r.continuations)
            scores = (scale * (txt[k : k + n] @ img[i])).tolist()
            best = max(range(n), key=lambda j: scores[j]) if n else -1
            out.append(
                LoglikelihoodOutput(logprobs=scores, greedy=[j == best for j in range(n)])
            )
            k += n
        return out

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        msg = (
            "the clip adapter scores image-text matches and writes no text; run "
            "multiple_choice tasks (zero-shot classification, retrieval) with it"
        )
        return [ModelOutput(error=msg) for _ in requests]

    def close(self) -> None:
        self._text_cache.clear()
        self._image_cache.clear()


def _the_image(req: LoglikelihoodRequest) -> ImagePart:
    found = [p for m in req.context for p in m.content if isinstance(p, ImagePart)]
    if len(found) != 1:
        raise ValueError(
            f"the clip adapter needs exactly one image in a request's input, got {len(found)}: "
            "give each sample one image part"
        )
    return found[0]
