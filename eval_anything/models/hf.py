"""Hugging Face transformers adapter: causal LMs, image-text-to-text models, and models that
answer with images or speech themselves.

Generation is batched, sorted by prompt length, left-padded, with the chat template applied (its
sha256 is recorded). Multiple-choice scoring packs each item's context and all its choices into
one row (see :mod:`eval_anything.models.hf_loglik`), so the shared context is computed once.
Media parts a text-only model cannot take are dropped and recorded as not consumed. Audio and
video go through the model's processor (:mod:`eval_anything.models.hf_av`); ``video_audio=true``
also gives each video's audio track to a processor that takes audio.

Models that emit media natively (Janus / Janus-Pro and Emu3 draw, Qwen2.5-Omni and Qwen3-Omni
speak) generate what each request's ``output_modalities`` asks for
(:mod:`eval_anything.models.hf_output_modes`); ``output_modalities`` is per model. Their settings
are model args: ``guidance_scale``, ``image_area`` (Emu3), ``image_temperature``, ``speaker``,
``talker_max_new_tokens``, ``talker_temperature``; ``talker=false`` loads an Omni model without
its talker and vocoder (text only, less memory).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, ClassVar

from eval_anything.core.content import TextPart
from eval_anything.core.outputs import LoglikelihoodOutput, ModelOutput
from eval_anything.core.requests import GenerateRequest, LoglikelihoodRequest, Message
from eval_anything.models.base import ModelAdapter
from eval_anything.models.weights_identity import weights_identity
from eval_anything.registry import register

if TYPE_CHECKING:
    from eval_anything.models.hf_output_modes import MediaSettings

_DTYPES = ("auto", "float32", "float16", "bfloat16")


def pick_device(device: str) -> str:
    import torch

    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(dtype: str, device: str) -> Any:
    """float32 on CPUs (bf16 matmuls are several times slower on CPUs without bf16 support),
    bf16 on GPUs that support it."""
    import torch

    if dtype not in _DTYPES:
        raise ValueError(f"--model-args dtype={dtype!r}: choose one of {', '.join(_DTYPES)}")
    if dtype != "auto":
        return getattr(torch, dtype)
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


@register("model", "hf")
class HFModel(ModelAdapter):
    supports_loglikelihood = True
    output_modalities_note: ClassVar[str] = (
        "per model: text; + image (Janus, Janus-Pro, Emu3); + audio (Qwen2.5-Omni, Qwen3-Omni "
        "with their talker)"
    )

    def __init__(
        self,
        pretrained: str,
        revision: str | None = None,
        dtype: str = "auto",
        device: str = "auto",
        batch_size: int | None = None,
        max_length: int | None = None,
        gguf_file: str | None = None,
        base: str | None = None,
        trust_remote_code: bool = False,
        add_bos_token: bool | None = None,
        chat_template: bool = True,
        name: str | None = None,
        video_audio: bool = False,
        talker: bool | None = None,
        speaker: str | None = None,
        talker_max_new_tokens: int | None = None,
        talker_temperature: float | None = None,
        guidance_scale: float | None = None,
        image_area: int | None = None,
        image_temperature: float | None = None,
    ) -> None:
        from eval_anything.models.hf_loading import load_model_and_tokenizer
        from eval_anything.models.hf_output_modes import MediaSettings

        self.pretrained = str(pretrained)
        self.revision = revision
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.batch_size = batch_size
        self.add_bos_token = add_bos_token
        self.use_chat_template = chat_template
        self.video_audio = bool(video_audio)
        self._name = name
        loaded = load_model_and_tokenizer(
            self.pretrained,
            revision=revision,
            dtype=self.dtype,
            device=self.device,
            gguf_file=gguf_file,
            base=base,
            trust_remote_code=trust_remote_code,
            config_overrides=None if talker is None else {"enable_audio_output": bool(talker)},
        )
        self.model: Any = loaded.model
        self.tokenizer: Any = loaded.tokenizer
        self.processor: Any = loaded.processor
        self.base_identity = loaded.base_identity
        self.multimodal = loaded.processor is not None
        self.max_length = max_length or _model_max_length(self.model, self.tokenizer)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._identity = {
            "adapter": "hf",
            "name": name or self.pretrained,
            "weights": weights_identity(self.pretrained, revision),
            "base": self.base_identity,
            "gguf_file": gguf_file,
            "dtype": str(self.dtype).replace("torch.", ""),
            "add_bos_token": add_bos_token,
            "chat_template": self.chat_template_sha() if chat_template else None,
        }
        if self.video_audio:  # only when on, so existing identities (and caches) stay valid
            self._identity["video_audio"] = True
        given = MediaSettings(
            guidance_scale=guidance_scale, image_area=image_area,
            image_temperature=image_temperature, speaker=speaker,
            talker_max_new_tokens=talker_max_new_tokens, talker_temperature=talker_temperature,
        )
        self._set_output_modalities(given, talker)

    def _set_output_modalities(self, given: MediaSettings, talker: bool | None) -> None:
        """What this model emits and its media settings, checked and resolved; a model that emits
        only text keeps the identity it always had (so its cache stays valid)."""
        from eval_anything.models.hf_output_modes import (
            emitted_modalities,
            resolve_settings,
            settings_identity,
        )
        from eval_anything.models.hf_speech_out import is_omni

        if talker is not None and not is_omni(self.model):
            raise ValueError(
                f"--model-args talker={str(talker).lower()}: {self.pretrained} "
                f"({type(self.model).__name__}) has no talker; remove it"
            )
        self.media_settings = resolve_settings(self.model, self.processor, given, self.pretrained)
        self.output_modalities = emitted_modalities(self.model)  # type: ignore[misc]
        if self.output_modalities != ("text",) or is_omni(self.model):
            self._identity["media"] = settings_identity(self.model, self.media_settings)

    # ------------------------------------------------------------------ identity

    @property
    def input_modalities(self) -> tuple[str, ...]:  # type: ignore[override]
        if not self.multimodal:
            return ("text",)
        from eval_anything.models.hf_av import accepted_modalities

        return accepted_modalities(self.processor)

    def identity(self) -> dict[str, Any]:
        return self._identity

    def model_identity(self) -> dict[str, Any]:
        from eval_anything.models.weights_identity import checkpoint_identity

        return checkpoint_identity(self._identity)

    def details(self) -> dict[str, Any]:
        from eval_anything.models.hf_av import av_details

        return {
            **(av_details(self.processor) if self.multimodal else {}),
            **({"media": self._identity["media"]} if "media" in self._identity else {}),
            "dtype": str(self.dtype).replace("torch.", ""),
            "device": self.device,
            "chat_template_sha256": self.chat_template_sha(),
            "max_length": self.max_length,
            "architecture": type(self.model).__name__,
            "parameters": sum(p.numel() for p in self.model.parameters()),
        }

    def chat_template_sha(self) -> str | None:
        tpl = getattr(self.processor or self.tokenizer, "chat_template", None)
        if not tpl:
            tpl = getattr(self.tokenizer, "chat_template", None)
        if not tpl:
            return None
        text = tpl if isinstance(tpl, str) else json.dumps(tpl, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    # ------------------------------------------------------------------ prompts

    def uses_template(self, apply_chat_template: bool = True) -> bool:
        has_template = self.chat_template_sha() is not None
        return apply_chat_template and self.use_chat_template and has_template

    def render(
        self, messages: list[Message], add_generation_prompt: bool = True, raw: bool = False
    ) -> str:
        """Messages -> prompt text (chat template when the tokenizer has one and not ``raw``)."""
        if not self.uses_template(not raw):
            return "\n\n".join(_text(m) for m in messages)
        if self.multimodal:
            from eval_anything.models.hf_av import chat_message

            hears = self.video_audio and {"audio", "video"} <= set(self.input_modalities)
            chat = [chat_message(m, video_audio=hears) for m in messages]
            return str(
                self.processor.apply_chat_template(
                    chat, add_generation_prompt=add_generation_prompt, tokenize=False
                )
            )
        chat = [{"role": m.role, "content": _text(m)} for m in messages]
        return str(
            self.tokenizer.apply_chat_template(
                chat, add_generation_prompt=add_generation_prompt, tokenize=False
            )
        )

    def encode(self, text: str, add_special_tokens: bool | None = None) -> list[int]:
        """Token ids as lm-eval's hf backend makes them: the tokenizer's default special tokens
        (or ``add_bos_token`` when set), none when the text already starts with the BOS text."""
        tok = self.tokenizer
        if add_special_tokens is None:
            add_special_tokens = True if self.add_bos_token is None else self.add_bos_token
            prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
            if prefix is not None and text.startswith(tok.decode(prefix)):
                add_special_tokens = False
        return list(tok.encode(text, add_special_tokens=add_special_tokens))

    def consumed(self, messages: list[Message]) -> list[str]:
        kinds = {p.type for m in messages for p in m.content}
        return [
            k
            for k in ("text", "image", "audio", "video")
            if k in kinds and k in self.input_modalities
        ]

    # ------------------------------------------------------------------ generate

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        """Requests grouped by the generation calls they need (text, image, speech: see
        :func:`~eval_anything.models.hf_output_modes.route_of`), then batched by length."""
        from eval_anything.models.hf_output_modes import generate_route, route_of

        if not requests:
            return []
        size = self.batch_size or len(requests)
        routes: dict[tuple[str, ...], list[int]] = {}
        for i, r in enumerate(requests):
            routes.setdefault(route_of(r, self.output_modalities), []).append(i)
        outputs: list[ModelOutput | None] = [None] * len(requests)
        for route, members in routes.items():
            order = sorted(members, key=lambda i: -len(_text(requests[i].messages[-1])))
            for start in range(0, len(order), size):
                idx = order[start : start + size]
                batch = [requests[i] for i in idx]
                for i, out in zip(idx, generate_route(self, batch, route), strict=True):
                    outputs[i] = out
        return [o for o in outputs if o is not None]

    # ------------------------------------------------------------------ loglikelihood

    def loglikelihood(self, requests: list[LoglikelihoodRequest]) -> list[LoglikelihoodOutput]:
        from eval_anything.models.hf_loglik import score_requests

        return score_requests(self, requests)

    def close(self) -> None:
        self.model = None


def _text(m: Message) -> str:
    return "\n".join(p.text for p in m.content if isinstance(p, TextPart))


def _model_max_length(model: Any, tokenizer: Any) -> int:
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        cfg = getattr(model.config, "get_text_config", lambda: model.config)()
        v = getattr(cfg, attr, None)
        if isinstance(v, int) and v > 0:
            return v
    tl = getattr(tokenizer, "model_max_length", None)
    return tl if isinstance(tl, int) and tl < 1_000_000 else 2048
