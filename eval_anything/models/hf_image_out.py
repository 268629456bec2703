"""Images out of models that draw themselves: Janus / Janus-Pro and Emu3, for the hf adapter.

Both write an image as a grid of discrete image tokens that their VQ decoder turns into pixels.
The rules transformers (5.2x) imposes, kept here:

- Janus: the prompt (chat template applied, as its model card does) goes through the processor
  with ``generation_mode="image"``, which appends the begin-of-image token; ``generate(...,
  generation_mode="image")`` writes ``vision_config.num_image_tokens`` tokens (``max_new_tokens``
  is ignored) with classifier-free guidance, whose scale must be above 1 and whose unconditional
  rows need the begin-of-image id in the generation config's ``generation_kwargs``;
  ``decode_image_tokens`` gives channels-last pixels.
- Emu3: the processor with ``return_for_image_generation=True`` and an ``image_area`` appends the
  image header and says the token grid (height x width); every step is held to the grid by a
  ``prefix_allowed_tokens_fn`` (image tokens, an end-of-line token closing each row, then the
  end-of-frame, end-of-image and end tokens); ``decode_image_tokens(image_tokens=, height=,
  width=)`` gives channels-first pixels. Its model card prompts with plain text.
- Pixels come back normalised the way the image processor normalises inputs: the PNG is the
  inverse of that normalisation (what the processors' ``postprocess`` computes).

Image tokens are sampled (temperature 1 unless ``image_temperature`` says otherwise, the models'
own practice: greedy image tokens repeat) from a fixed seed, so an image is reproducible.
"""

from __future__ import annotations

import copy
from typing import Any

from eval_anything.core.content import ImagePart, text_of
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest
from eval_anything.media.io import image_to_png_bytes

#: classes that draw, by the name transformers gives them -> how they are asked
IMAGE_CLASSES = {"JanusForConditionalGeneration": "janus", "Emu3ForConditionalGeneration": "emu3"}
JANUS_DEFAULT_GUIDANCE = 5.0  # transformers' own default for Janus, the model card's value


def drawing_kind(model: Any) -> str | None:
    """``janus`` or ``emu3`` for a model that draws, else None."""
    return IMAGE_CLASSES.get(type(model).__name__)


def to_png(pixels: Any, image_processor: Any, channels_last: bool) -> bytes:
    """One decoded image (normalised float pixels) as PNG bytes."""
    import torch
    from PIL import Image

    x = pixels.detach().float().cpu()
    if channels_last:
        x = x.permute(2, 0, 1)
    if getattr(image_processor, "do_normalize", True):
        mean = torch.tensor(list(image_processor.image_mean), dtype=torch.float32).view(-1, 1, 1)
        std = torch.tensor(list(image_processor.image_std), dtype=torch.float32).view(-1, 1, 1)
        x = x * std + mean
    scale = float(getattr(image_processor, "rescale_factor", 1 / 255) or 1 / 255)
    arr = (x / scale).clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return image_to_png_bytes(Image.fromarray(arr, mode="RGB"))


def generate_images(adapter: Any, batch: list[GenerateRequest]) -> list[ModelOutput]:
    """One image per request, drawn from the request's text (media inputs are not used)."""
    import torch

    settings = adapter.media_settings
    kind = drawing_kind(adapter.model)
    torch.manual_seed(batch[0].gen.seed or 0)
    with torch.inference_mode():
        if kind == "janus":
            pixels, channels_last, facts = _janus(adapter, batch, settings)
        elif kind == "emu3":
            pixels, channels_last, facts = _emu3(adapter, batch, settings)
        else:
            raise ValueError(f"{type(adapter.model).__name__} does not draw images")
    image_processor = adapter.processor.image_processor
    outs = []
    for req, px in zip(batch, pixels, strict=True):
        png = to_png(px, image_processor, channels_last)
        dropped = sorted({p.type for p in req.parts if p.type != "text"})
        details: dict[str, Any] = {"generation": {"mode": "image", **facts}}
        if dropped:
            details["dropped_modalities"] = dropped
        outs.append(ModelOutput(
            parts=[ImagePart(data=png, mime="image/png")],
            usage={"completion_tokens": int(facts["image_tokens"])},
            consumed_modalities=["text"],
            details=details,
            finish_reason="length",
        ))
    return outs


def _sampling(settings: Any) -> dict[str, Any]:
    t = settings.image_temperature
    return {"do_sample": True, "temperature": t} if t > 0 else {"do_sample": False}


def _janus(adapter: Any, batch: list[GenerateRequest], settings: Any) -> tuple[Any, bool, dict]:
    model, processor = adapter.model, adapter.processor
    prompts = [adapter.render(r.messages) for r in batch]
    enc = processor(text=prompts, generation_mode="image", return_tensors="pt", padding=True)
    enc = {k: v.to(adapter.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
    config = copy.deepcopy(model.generation_config)
    extra = dict(getattr(config, "generation_kwargs", None) or {})
    extra.setdefault(
        "boi_token_id", processor.tokenizer.convert_tokens_to_ids(processor.image_start_token)
    )
    config.generation_kwargs = extra
    config.guidance_scale = settings.guidance_scale
    config.pad_token_id = adapter.tokenizer.pad_token_id
    for key, value in _sampling(settings).items():
        setattr(config, key, value)
    tokens = model.generate(**enc, generation_mode="image", generation_config=config)
    pixels = model.decode_image_tokens(tokens)
    facts = {
        "image_tokens": int(tokens.shape[1]),
        "guidance_scale": settings.guidance_scale,
        "image_temperature": settings.image_temperature,
        "size": [int(pixels.shape[1]), int(pixels.shape[2])],
    }
    return pixels, True, facts


def _emu3(adapter: Any, batch: list[GenerateRequest], settings: Any) -> tuple[Any, bool, dict]:
    model, processor = adapter.model, adapter.processor
    tok = processor.tokenizer
    tok.padding_side = "left"
    prompts = [text_of([p for m in r.messages for p in m.content]) for r in batch]
    enc = processor(
        text=prompts, return_for_image_generation=True, image_area=settings.image_area,
        return_tensors="pt", padding=True,
    )
    height, width = (int(v) for v in enc.pop("image_sizes")[0])
    enc = {k: v.to(adapter.device) for k, v in enc.items()}
    allowed = _emu3_grid(model, tok, height, width)
    n_new = (width + 1) * height + 3  # rows closed by end-of-line, then end-of-frame/-image/-text
    kwargs: dict[str, Any] = {
        "max_new_tokens": n_new, "prefix_allowed_tokens_fn": allowed,
        "pad_token_id": tok.pad_token_id, **_sampling(settings),
    }
    if settings.guidance_scale is not None:
        kwargs["guidance_scale"] = settings.guidance_scale
    out = model.generate(**enc, **kwargs)
    new = out[:, enc["input_ids"].shape[1]:][:, :n_new]
    pixels = model.decode_image_tokens(image_tokens=new, height=height, width=width)
    facts = {
        "image_tokens": height * width,
        "guidance_scale": settings.guidance_scale,
        "image_temperature": settings.image_temperature,
        "image_area": settings.image_area,
        "size": [int(pixels.shape[-2]), int(pixels.shape[-1])],
    }
    return pixels, False, facts


def _emu3_grid(model: Any, tok: Any, height: int, width: int) -> Any:
    """The ``prefix_allowed_tokens_fn`` that keeps Emu3 on a ``height`` x ``width`` token grid,
    counted from the last image-wrapper token of each row (the header the processor appended)."""
    import torch

    visual = list(model.model.vocabulary_mapping.image_tokens)
    eol = model.model.vocabulary_mapping.eol_token_id
    wrapper = tok.image_wrapper_token_id
    tail = [[tok.eof_token_id], [tok.eoi_token_id], [tok.eos_token_id]]
    body = (width + 1) * height

    def allowed(_row: int, ids: Any) -> list[int]:
        start = int(torch.nonzero(ids == wrapper, as_tuple=True)[0][-1])
        offset = ids.shape[0] - start
        if offset <= body:
            return [eol] if offset % (width + 1) == 0 else visual
        step = offset - body - 1
        return tail[step] if step < len(tail) else [tok.pad_token_id]

    return allowed
