"""Speech out of models that speak themselves: Qwen2.5-Omni and Qwen3-Omni (a *thinker* that writes
text and a *talker* + vocoder that speak it), for the hf adapter.

The rules these models impose (transformers 5.2x), kept here so the adapter never trips on them:

- ``generate()`` with its defaults runs the talker (and up to 4096 speech codes), and even with
  ``generation_mode="text"`` Qwen2.5-Omni's reads the talker (failing when it is not loaded): a
  text request goes to the thinker's own ``generate`` (:func:`text_generate`), so the talker
  never runs unless speech is asked for;
- for speech, decoding settings are thinker-prefixed (plain ``max_new_tokens`` is ignored);
- speech lengths are ``thinker_max_new_tokens`` (the words) and ``talker_max_new_tokens`` (the
  codes); Qwen2.5-Omni's vocoder refuses more mel frames than its DiT has positions, so the
  default talker length is capped by ``dit_config.max_position_embeddings / repeats``;
- images and videos given with a speech request must reach the thinker as ``thinker_pixel_values``
  / ``thinker_pixel_values_videos`` (the talker cannot take them);
- the waveform is 24 kHz (the vocoders' rate, written in no config); one tensor for a batch of
  one, a list otherwise;
- speakers: Qwen2.5-Omni reads them from the checkpoint's ``spk_dict.pt``, Qwen3-Omni from
  ``talker_config.speaker_id``; the default is the one ``generate()`` names.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from eval_anything.core.content import AudioPart
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest
from eval_anything.media.io import audio_to_wav_bytes

#: classes whose ``generate()`` gives (text ids, waveform) when their talker is loaded
SPEECH_CLASSES = ("Qwen2_5OmniForConditionalGeneration", "Qwen3OmniMoeForConditionalGeneration")
SAMPLE_RATE = 24000
_MEDIA_INPUTS = ("pixel_values", "pixel_values_videos")


def is_omni(model: Any) -> bool:
    """A thinker-talker model (whether or not its talker is loaded)."""
    return type(model).__name__ in SPEECH_CLASSES


def can_speak(model: Any) -> bool:
    return is_omni(model) and bool(getattr(model, "has_talker", False))


def _generate_default(model: Any, name: str) -> Any:
    param = inspect.signature(model.generate).parameters.get(name)
    return None if param is None else param.default


def speakers(model: Any) -> list[str]:
    """Voices this checkpoint has (names as ``speaker=`` takes them)."""
    loaded = getattr(model, "speaker_map", None)
    if loaded:
        return sorted(loaded)
    ids = getattr(getattr(model.config, "talker_config", None), "speaker_id", None)
    return sorted(ids) if isinstance(ids, dict) else []


def default_speaker(model: Any) -> str | None:
    """The speaker ``generate()`` uses by default, in the spelling this checkpoint lists."""
    names = speakers(model)
    wanted = str(_generate_default(model, "speaker") or "")
    match = [n for n in names if n.lower() == wanted.lower()]
    return match[0] if match else (names[0] if names else None)


def resolve_speaker(model: Any, speaker: str | None) -> str | None:
    names = speakers(model)
    if speaker is None:
        return default_speaker(model)
    match = [n for n in names if n.lower() == speaker.lower()]
    if not match:
        raise ValueError(
            f"--model-args speaker={speaker}: this model has the speakers "
            f"{', '.join(names) or '(none)'}; pick one of them"
        )
    return match[0]


def talker_length_cap(model: Any) -> int:
    """The most speech codes the talker may write: ``generate()``'s default, capped where the
    vocoder has fewer positions (Qwen2.5-Omni's DiT takes ``repeats`` mel frames per code)."""
    default = int(_generate_default(model, "talker_max_new_tokens") or 4096)
    dit = getattr(getattr(model.config, "token2wav_config", None), "dit_config", None)
    if dit is None:
        return default
    return max(1, min(default, int(dit.max_position_embeddings) // int(dit.repeats)))


def text_generate(model: Any) -> Any:
    """The ``generate`` that answers in text: an Omni model's thinker (no talker involved), any
    other model's own."""
    return model.thinker.generate if is_omni(model) else model.generate


def _thinker_kwargs(model: Any, gen_kwargs: dict[str, Any], eos_token_id: Any) -> dict[str, Any]:
    """``generate()`` arguments giving the thinker these decoding settings."""
    out: dict[str, Any] = {f"thinker_{k}": v for k, v in gen_kwargs.items()}
    if "thinker_eos_token_id" in inspect.signature(model.generate).parameters:
        # Qwen3-Omni's default is the real vocabulary's <|im_end|>; use this checkpoint's own
        out["thinker_eos_token_id"] = _thinker_eos(model, eos_token_id)
    return out


def _thinker_eos(model: Any, fallback: Any) -> Any:
    thinker = getattr(model, "thinker", None)
    eos = getattr(getattr(thinker, "generation_config", None), "eos_token_id", None)
    return eos if eos is not None else fallback


def speech_kwargs(
    model: Any, enc: dict[str, Any], gen_kwargs: dict[str, Any], settings: Any, eos_token_id: Any
) -> dict[str, Any]:
    """``generate()`` arguments for text plus speech: the thinker's decoding settings, the
    talker's length, voice and temperature, and media inputs routed to the thinker."""
    kwargs = {k: v for k, v in enc.items() if k not in _MEDIA_INPUTS}
    kwargs.update({f"thinker_{k}": enc[k] for k in _MEDIA_INPUTS if k in enc})
    kwargs.update(_thinker_kwargs(model, gen_kwargs, eos_token_id))
    kwargs["speaker"] = settings.speaker
    kwargs["talker_max_new_tokens"] = settings.talker_max_new_tokens
    if settings.talker_temperature is not None:
        kwargs["talker_temperature"] = settings.talker_temperature
    talker_cfg: Any = getattr(model.config, "talker_config", None)
    if "talker_eos_token_id" in inspect.signature(model.generate).parameters and hasattr(
        talker_cfg, "tts_codec_end_token_id"
    ):
        # Qwen2.5-Omni's default stop codes are the real codec's pad and end ids; name this
        # checkpoint's (the same ids on the released model)
        kwargs["talker_eos_token_id"] = [
            talker_cfg.tts_codec_pad_token_id, talker_cfg.tts_codec_end_token_id
        ]
    return kwargs


def waveforms(result: Any, batch_size: int) -> tuple[Any, list[np.ndarray]]:
    """``generate()``'s (ids, waveform or waveforms) as ids and one float32 array per row."""
    ids, wavs = result
    if not isinstance(wavs, (list, tuple)):
        wavs = [wavs] if batch_size == 1 else list(wavs)
    return ids, [np.asarray(w.detach().float().cpu().reshape(-1).numpy()) for w in wavs]


def audio_part(wave: np.ndarray) -> AudioPart:
    """A WAV part (16-bit PCM at :data:`SAMPLE_RATE`; samples clipped to [-1, 1] first)."""
    data = audio_to_wav_bytes(np.clip(wave, -1.0, 1.0), SAMPLE_RATE)
    return AudioPart(data=data, mime="audio/wav")


def generate_speech(adapter: Any, batch: list[GenerateRequest]) -> list[ModelOutput]:
    """The thinker's answer and its spoken form, one output per request (text part, then audio)."""
    import torch

    from eval_anything.models.hf_generate import decoding_kwargs, encode_batch, text_outputs

    settings = adapter.media_settings
    encoded = encode_batch(adapter, batch)
    gen_kwargs = decoding_kwargs(adapter, batch[0].gen)
    kwargs = speech_kwargs(
        adapter.model, encoded.enc, gen_kwargs, settings, adapter.tokenizer.eos_token_id
    )
    torch.manual_seed(batch[0].gen.seed or 0)  # the talker samples; the vocoder starts from noise
    with torch.inference_mode():
        result = adapter.model.generate(**kwargs)
    ids, waves = waveforms(result, len(batch))
    outs = text_outputs(adapter, batch, ids, encoded)
    final = []
    for out, wave in zip(outs, waves, strict=True):
        facts = {
            "mode": "speech", "speaker": settings.speaker, "sample_rate": SAMPLE_RATE,
            "seconds": round(len(wave) / SAMPLE_RATE, 3),
            "talker_max_new_tokens": settings.talker_max_new_tokens,
            "talker_temperature": settings.talker_temperature,
        }
        final.append(out.model_copy(update={
            "parts": [*out.parts, audio_part(wave)],
            "details": {**out.details, "generation": facts},
        }))
    return final
