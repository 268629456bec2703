"""What a transformers model can answer with, and which generation path a request takes.

A model emits text, plus the media its class draws or speaks natively and this adapter has a
route for: images from Janus / Janus-Pro and Emu3 (:mod:`eval_anything.models.hf_image_out`),
speech from Qwen2.5-Omni and Qwen3-Omni when their talker is loaded
(:mod:`eval_anything.models.hf_speech_out`). Each request's ``output_modalities`` (what its task
asks for) picks the path, per request:

- a medium the model emits is generated natively: speech together with the text it speaks (the
  thinker's answer), an image in its own call from the same prompt;
- text is generated when asked for, or when nothing asked for can be emitted (the run has
  already said which modality this model lacks); a text request never runs the talker.

The generation settings of those media are model args (:class:`MediaSettings`): checked against
the model (a setting for a medium the model cannot emit is refused), resolved to the model's own
defaults, part of the adapter identity (hence of the cache key), and written in every media
output's ``details["generation"]``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest

IMAGE_ARGS = ("guidance_scale", "image_area", "image_temperature")
SPEECH_ARGS = ("speaker", "talker_max_new_tokens", "talker_temperature")


@dataclass(frozen=True)
class MediaSettings:
    """Generation settings of native media, as given (None: the model's own default)."""

    guidance_scale: float | None = None
    image_area: int | None = None
    image_temperature: float | None = None
    speaker: str | None = None
    talker_max_new_tokens: int | None = None
    talker_temperature: float | None = None

    def given(self, names: tuple[str, ...]) -> list[str]:
        return [n for n in names if getattr(self, n) is not None]


def emitted_modalities(model: Any) -> tuple[str, ...]:
    """Text, plus the media this model generates natively (from its class and loaded parts)."""
    from eval_anything.models.hf_image_out import drawing_kind
    from eval_anything.models.hf_speech_out import can_speak

    out = ["text"]
    if drawing_kind(model):
        out.append("image")
    if can_speak(model):
        out.append("audio")
    return tuple(out)


def resolve_settings(model: Any, processor: Any, given: MediaSettings, where: str) -> MediaSettings:
    """``given`` checked against ``model`` and completed with its defaults. ``where`` names the
    model (its folder or hub id) in errors."""
    from eval_anything.models.hf_image_out import JANUS_DEFAULT_GUIDANCE, drawing_kind
    from eval_anything.models.hf_speech_out import can_speak, resolve_speaker, talker_length_cap

    arch = type(model).__name__
    kind = drawing_kind(model)
    wrong = given.given(IMAGE_ARGS) if kind is None else []
    if wrong:
        raise ValueError(
            f"--model-args {wrong[0]}: {where} ({arch}) does not draw images; image settings "
            "apply to Janus / Janus-Pro and Emu3 checkpoints; remove it"
        )
    speaks = can_speak(model)
    wrong = given.given(SPEECH_ARGS) if not speaks else []
    if wrong:
        hint = "leave out talker=false" if hasattr(model, "has_talker") else (
            "speech settings apply to Qwen2.5-Omni and Qwen3-Omni checkpoints; remove it")
        raise ValueError(f"--model-args {wrong[0]}: {where} ({arch}) does not speak; {hint}")
    out = MediaSettings()
    if kind == "janus":
        if given.image_area is not None:
            raise ValueError(
                f"--model-args image_area: Janus draws at its fixed size "
                f"(vision_config.num_image_tokens); remove it ({where})"
            )
        scale = JANUS_DEFAULT_GUIDANCE if given.guidance_scale is None else given.guidance_scale
        if scale <= 1:
            raise ValueError(
                f"--model-args guidance_scale={scale}: Janus needs classifier-free guidance "
                "above 1 (its default is 5)"
            )
        out = MediaSettings(guidance_scale=scale)
    elif kind == "emu3":
        area = given.image_area or default_image_area(model, processor)
        if area < 64:
            raise ValueError(f"--model-args image_area={area}: give at least 64 (one 8x8 token)")
        out = MediaSettings(guidance_scale=given.guidance_scale, image_area=area)
    if kind is not None:
        temp = 1.0 if given.image_temperature is None else given.image_temperature
        if temp < 0:
            raise ValueError(f"--model-args image_temperature={temp}: must be >= 0 (0: greedy)")
        out = MediaSettings(**{**asdict(out), "image_temperature": temp})
    if speaks:
        cap = talker_length_cap(model)
        length = given.talker_max_new_tokens or cap
        if not 0 < length <= cap:
            raise ValueError(
                f"--model-args talker_max_new_tokens={length}: this model's vocoder takes at "
                f"most {cap} speech codes; give 1..{cap}"
            )
        out = MediaSettings(
            **{**asdict(out), "speaker": resolve_speaker(model, given.speaker),
               "talker_max_new_tokens": length, "talker_temperature": given.talker_temperature}
        )
    return out


def default_image_area(model: Any, processor: Any) -> int:
    """Emu3's image area when none is given: its processor's (720 x 720 on the released models),
    shrunk to the largest square whose tokens fit the text model's context after a prompt of up
    to 512 tokens (or half the context, if smaller). The released checkpoints keep their area."""
    import math

    area = int(getattr(processor, "image_area", 518400))
    context = int(getattr(model.config.get_text_config(), "max_position_embeddings", 0) or 0)
    if context <= 0:
        return area
    budget = context - min(512, context // 2)
    side = int((math.sqrt(1 + 4 * max(budget - 3, 0)) - 1) // 2)  # (side + 1) * side + 3 tokens
    factor = int(getattr(processor, "downsample_ratio", 8))
    return max(factor * factor, min(area, (side * factor) ** 2))


def settings_identity(model: Any, settings: MediaSettings) -> dict[str, Any]:
    """What of the media settings changes outputs, for the adapter identity."""
    emits = emitted_modalities(model)
    out: dict[str, Any] = {"output_modalities": list(emits)}
    if "image" in emits:
        out["image"] = {k: getattr(settings, k) for k in IMAGE_ARGS}
    if "audio" in emits:
        out["audio"] = {k: getattr(settings, k) for k in SPEECH_ARGS}
    return out


def route_of(request: GenerateRequest, emits: tuple[str, ...]) -> tuple[str, ...]:
    """The generation calls a request takes, in order: ``speech`` (text and audio), ``text``,
    ``image``."""
    native = [m for m in request.wants_media if m in emits]
    steps: list[str] = []
    if "audio" in native:
        steps.append("speech")
    elif "text" in request.output_modalities or not native:
        steps.append("text")
    if "image" in native:
        steps.append("image")
    return tuple(steps)


def generate_route(adapter: Any, batch: list[GenerateRequest], route: tuple[str, ...]) -> list[
    ModelOutput
]:
    """Run each call of ``route`` on the batch and join their parts per request (facts from every
    call kept in ``details``; a text answer's usage is the output's usage)."""
    from eval_anything.models.hf_generate import generate_batch
    from eval_anything.models.hf_image_out import generate_images
    from eval_anything.models.hf_speech_out import generate_speech, text_generate

    def text(adapter: Any, batch: list[GenerateRequest]) -> list[ModelOutput]:
        return generate_batch(adapter, batch, text_generate(adapter.model))

    calls = {"text": text, "image": generate_images, "speech": generate_speech}
    joined: list[ModelOutput] | None = None
    for step in route:
        outs = calls[step](adapter, batch)
        if joined is None:
            joined = outs
            continue
        joined = [_join(a, b) for a, b in zip(joined, outs, strict=True)]
    return joined or []


def _join(first: ModelOutput, second: ModelOutput) -> ModelOutput:
    details = {**second.details, **first.details}
    if "generation" in first.details and "generation" in second.details:
        details["generation"] = [first.details["generation"], second.details["generation"]]
    consumed = list(dict.fromkeys([*first.consumed_modalities, *second.consumed_modalities]))
    return first.model_copy(update={
        "parts": [*first.parts, *second.parts], "details": details,
        "consumed_modalities": consumed,
    })
