"""Batched text generation for the hf adapter, and the pieces its media routes share: encoding a
batch (:func:`encode_batch`), decoding settings (:func:`decoding_kwargs`) and turning generated
ids into text outputs (:func:`text_outputs`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest, GenerationConfig


def truncate_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


@dataclass
class Encoded:
    """A left-padded batch on the model's device, with each request's prepared media."""

    enc: dict[str, Any]
    media: list[Any] = field(default_factory=list)  # hf_av.MediaInputs per request (media models)


def encode_batch(adapter: Any, batch: list[GenerateRequest]) -> Encoded:
    """Prompts rendered (chat template unless the request is raw) and tokenized, media through the
    processor; all requests of a batch share their generation config (the runner batches per
    task, so they do)."""
    gen = batch[0].gen
    raw = not batch[0].apply_chat_template
    prompts = [adapter.render(r.messages, raw=raw) for r in batch]
    media: list[Any] = []
    if adapter.multimodal:
        from eval_anything.models.hf_av import load_media, processor_inputs

        hears = getattr(adapter, "video_audio", False)
        media = [load_media(r.parts, adapter.processor, video_audio=hears) for r in batch]
        adapter.processor.tokenizer.padding_side = "left"
        enc = adapter.processor(**processor_inputs(adapter.processor, prompts, media))
    else:
        enc = adapter.tokenizer(
            prompts,
            return_tensors="pt",
            padding=True,
            padding_side="left",
            add_special_tokens=_special_tokens(adapter, prompts, raw),
            truncation=True,
            max_length=max(adapter.max_length - gen.max_new_tokens, 1),
        )
    return Encoded({k: v.to(adapter.device) for k, v in enc.items()}, media)


def decoding_kwargs(adapter: Any, gen: GenerationConfig) -> dict[str, Any]:
    """``generate()`` settings for ``gen`` (seeding torch when it samples)."""
    import torch

    kwargs: dict[str, Any] = {
        "max_new_tokens": gen.max_new_tokens,
        "do_sample": not gen.greedy,
        "pad_token_id": adapter.tokenizer.pad_token_id,
    }
    if not gen.greedy:
        kwargs.update(temperature=gen.temperature, top_p=gen.top_p)
        torch.manual_seed(gen.seed or 0)
    else:
        kwargs.update(temperature=None, top_p=None, top_k=None)
    return kwargs


def generate_batch(
    adapter: Any, batch: list[GenerateRequest], generate: Callable[..., Any] | None = None
) -> list[ModelOutput]:
    """One left-padded ``generate`` call giving text: the model's own ``generate``, or the one
    given (a thinker-talker model passes its thinker's, so the talker never runs for text)."""
    import torch

    encoded = encode_batch(adapter, batch)
    gen_kwargs = decoding_kwargs(adapter, batch[0].gen)
    with torch.inference_mode():
        out = (generate or adapter.model.generate)(**encoded.enc, **gen_kwargs)
    return text_outputs(adapter, batch, out, encoded)


def text_outputs(
    adapter: Any, batch: list[GenerateRequest], out: Any, encoded: Encoded
) -> list[ModelOutput]:
    """Generated ids (prompt included, as ``generate`` returns them) -> one text output per
    request: cut at end of sequence, padding or a stop string, with token counts and media facts."""
    tok = adapter.tokenizer
    gen = batch[0].gen
    prompt_len = encoded.enc["input_ids"].shape[1]
    n_prompt = encoded.enc["attention_mask"].sum(dim=1).tolist()
    media = encoded.media
    results = []
    eos = tok.eos_token_id
    for i, req in enumerate(batch):
        new = out[i, prompt_len:].tolist()
        n_new = len(new)
        finish = "length"
        if eos is not None and eos in new:
            n_new = new.index(eos)
            finish = "stop"
        elif tok.pad_token_id in new:
            n_new = new.index(tok.pad_token_id)
            finish = "stop"
        text = tok.decode(new[:n_new], skip_special_tokens=True)
        text, stopped = truncate_at_stop(text, gen.stop)
        results.append(
            ModelOutput(
                parts=[{"type": "text", "text": text}],  # type: ignore[list-item]
                usage={"prompt_tokens": int(n_prompt[i]), "completion_tokens": n_new},
                consumed_modalities=(
                    media[i].consumed() if media else adapter.consumed(req.messages)
                ),
                details=media_details(media[i]) if media else {},
                finish_reason="stop" if stopped else finish,
            )
        )
    return results


def _special_tokens(adapter: Any, prompts: list[str], raw: bool) -> bool:
    """A chat-templated prompt carries its own special tokens. A raw prompt gets the tokenizer's
    defaults (or ``add_bos_token``), except when it already starts with the BOS text: the same
    rule lm-eval's hf backend applies, so raw-prompt generations match it."""
    if adapter.uses_template(not raw):
        return False
    if adapter.add_bos_token is not None:
        return bool(adapter.add_bos_token)
    tok = adapter.tokenizer
    prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    bos_text = tok.decode(prefix) if prefix is not None else None
    return not (bos_text and all(p.startswith(bos_text) for p in prompts))


def media_details(media: Any) -> dict[str, Any]:
    """How a request's media reached the model (resampling, frames kept, what was dropped)."""
    out: dict[str, Any] = dict(media.facts)
    if media.dropped:
        out["dropped_modalities"] = sorted(set(media.dropped))
    return out
