"""``tts``: speech and audio from a transformers text-to-speech / text-to-audio checkpoint.

A generator for the ``agent`` adapter (``audio=tts,audio.pretrained=DIR``), or a model of its
own on audio instruction-following tasks (``--model tts --model-args pretrained=DIR``): each
request's last user turn is read aloud (VITS / MMS-TTS, Bark, CSM, SeamlessM4T) or rendered as
sound (MusicGen), and stored as a WAV at the model's own sample rate.

Any folder transformers' ``text-to-audio`` pipeline loads as a waveform model works.
``generate()`` models (MusicGen, Bark, CSM) run through the pipeline; VITS is called directly,
so that a text none of whose characters its vocabulary holds fails with that reason rather than
deep inside the model. Models that *answer* with speech (Qwen2.5-Omni, Qwen3-Omni) are refused:
they belong to ``--model hf``.

Determinism: a request's audio must not depend on which requests share its batch, or the cache
and a resumed run would disagree. So every request is rendered after seeding torch with
``seed`` (plus the request's own seed, when the task samples), and requests share a call only
where neighbours cannot change each other's audio: a ``generate()`` model decoding greedily
(padding changes its audio by at most a rounding step). A model that draws noise (VITS's noise
scales, sampled decoding, Bark) renders one request per call, and so does VITS always: its
waveform decoder reads across a batch's padding into each waveform's end.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from eval_anything.core.content import AudioPart, text_of
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest
from eval_anything.errors import ConfigError
from eval_anything.media.io import audio_to_wav_bytes
from eval_anything.models.base import ModelAdapter
from eval_anything.registry import register

VERSION = "1"
#: Waveform models that answer a prompt in speech rather than read it aloud.
ANSWERING_MODELS = ("qwen2_5_omni", "qwen3_omni_moe")
#: Files besides config and weights that change what a checkpoint says (vocabularies, voices).
VOICE_FILE_SUFFIXES = (".json", ".model", ".txt", ".npz", ".npy", ".jinja")
VITS_SETTINGS = ("speaking_rate", "noise_scale", "noise_scale_duration")
GENERATE_SETTINGS = (
    "max_new_tokens", "do_sample", "temperature", "top_k", "top_p", "guidance_scale"
)
SPEAKER_TYPES = ("vits", "bark", "csm")


def text_to_audio_config(pretrained: str, revision: str | None) -> Any:
    """The checkpoint's config, refusing a folder that is not a text-to-waveform model (with
    the fix), before any weights are read."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_TEXT_TO_SPECTROGRAM_MAPPING_NAMES,
        MODEL_FOR_TEXT_TO_WAVEFORM_MAPPING_NAMES,
    )

    where = f"--model-args pretrained={pretrained}"
    folder = Path(pretrained)
    looks_local = pretrained.startswith((".", "/", "~")) or pretrained.count("/") != 1
    if not folder.exists() and looks_local:
        raise ConfigError(f"{where}: no such folder; give a model folder or a hub id")
    if folder.exists() and not (folder / "config.json").is_file():
        raise ConfigError(
            f"{where}: {folder} has no config.json, so it is not a transformers model folder; "
            "point pretrained= at a folder saved with save_pretrained (VITS, MusicGen, Bark, CSM)"
        )
    try:
        config = AutoConfig.from_pretrained(pretrained, revision=revision)
    except OSError as e:  # a hub id that cannot be reached (offline) or does not exist
        raise ConfigError(
            f"{where}: cannot read its config ({e}); download it first "
            "(hf download ID --local-dir DIR) and pass pretrained=DIR"
        ) from e
    model_type = str(config.model_type)
    speech = ", ".join(t for t in MODEL_FOR_TEXT_TO_WAVEFORM_MAPPING_NAMES
                       if t not in ANSWERING_MODELS)
    if model_type in ANSWERING_MODELS:
        raise ConfigError(
            f"{where}: {model_type} answers prompts in speech rather than reading an instruction "
            "aloud; evaluate it with --model hf (its own speech output), or give the tts "
            f"generator a text-to-speech folder ({speech})"
        )
    if model_type in MODEL_FOR_TEXT_TO_SPECTROGRAM_MAPPING_NAMES:
        raise ConfigError(
            f"{where}: {model_type} makes spectrograms and needs a separate vocoder, which the "
            f"tts generator does not load; use a waveform model ({speech})"
        )
    if model_type not in MODEL_FOR_TEXT_TO_WAVEFORM_MAPPING_NAMES:
        arch = ", ".join(getattr(config, "architectures", None) or []) or model_type
        raise ConfigError(
            f"{where}: {folder / 'config.json'} describes {arch} (model_type {model_type!r}), "
            f"not a text-to-speech or text-to-audio model; the tts generator takes {speech} "
            "checkpoints (a language model goes in --model hf or the agent's lm=)"
        )
    return config


def voice_files_identity(pretrained: str) -> str | None:
    """sha256 over a local folder's vocabulary and voice files (VITS keeps its characters in
    ``vocab.json``, Bark its voices in ``speaker_embeddings/``), which the weights' identity
    does not cover; None for a hub id (its revision says it)."""
    from eval_anything.models.weights_identity import file_sha256

    folder = Path(pretrained)
    if not folder.is_dir():
        return None
    files = {
        str(f.relative_to(folder)): file_sha256(f)
        for f in sorted(folder.rglob("*"))
        if f.is_file() and f.suffix in VOICE_FILE_SUFFIXES
    }
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def to_mono(audio: Any) -> np.ndarray:
    """A float32 mono waveform from what a model returns ((channels, samples) mixed down)."""
    if hasattr(audio, "detach"):
        audio = audio.detach().float().cpu().numpy()
    wave = np.asarray(audio, dtype=np.float32)
    if wave.ndim > 1:
        wave = wave.reshape(-1, wave.shape[-1]).mean(axis=0)
    return wave


def wav_part(wave: np.ndarray, sample_rate: int) -> AudioPart:
    """The waveform as 16-bit WAV; samples beyond full scale are clipped (16-bit PCM would wrap
    them around into loud noise)."""
    if wave.size == 0:
        raise ValueError("the model returned an empty waveform")
    if not np.all(np.isfinite(wave)):
        raise ValueError("the model returned a waveform with NaN or infinite samples")
    data = audio_to_wav_bytes(np.clip(wave, -1.0, 1.0), sample_rate)
    return AudioPart(data=data, mime="audio/wav")


@register("model", "tts")
class TextToAudioGenerator(ModelAdapter):
    """args: ``pretrained`` (folder or hub id), ``device``, ``dtype``, ``revision``, ``seed``,
    ``speaker`` (VITS speaker id, CSM speaker number, Bark voice preset); VITS: ``speaking_rate``,
    ``noise_scale``, ``noise_scale_duration``; ``generate()`` models (MusicGen, Bark, CSM):
    ``max_new_tokens``, ``do_sample``, ``temperature``, ``top_k``, ``top_p``,
    ``guidance_scale``."""

    input_modalities = ("text",)
    output_modalities = ("audio",)
    #: ``eval-anything models`` shows this instead of guessing from the ``modality`` argument.
    output_modalities_note: ClassVar[str] = "audio (speech; sound and music from MusicGen)"

    def __init__(
        self,
        pretrained: str,
        device: str = "auto",
        dtype: str = "auto",
        revision: str | None = None,
        seed: int = 0,
        speaker: str | None = None,
        speaking_rate: float | None = None,
        noise_scale: float | None = None,
        noise_scale_duration: float | None = None,
        max_new_tokens: int | None = None,
        do_sample: bool | None = None,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        guidance_scale: float | None = None,
        modality: str = "audio",
    ) -> None:
        if modality != "audio":
            raise ConfigError(
                f"--model-args: the tts generator makes audio, not {modality!r}; "
                "give it the agent's audio part (audio=tts,audio.pretrained=DIR)"
            )
        from eval_anything.models.hf import pick_device, pick_dtype

        self.pretrained, self.revision, self.seed = str(pretrained), revision, int(seed)
        config = text_to_audio_config(self.pretrained, revision)
        self.model_type = str(config.model_type)
        settings: dict[str, Any] = {
            "speaker": speaker, "speaking_rate": speaking_rate, "noise_scale": noise_scale,
            "noise_scale_duration": noise_scale_duration, "max_new_tokens": max_new_tokens,
            "do_sample": do_sample, "temperature": temperature, "top_k": top_k, "top_p": top_p,
            "guidance_scale": guidance_scale,
        }
        self.settings = {k: v for k, v in settings.items() if v is not None}
        self._check_settings(config)
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.pipe = self._load_pipeline()
        self.model: Any = self.pipe.model
        self.sample_rate = self._sample_rate()
        self.one_per_call = self._renders_alone()

    # ------------------------------------------------------------------ loading

    def _check_settings(self, config: Any) -> None:
        """Refuse a setting this kind of checkpoint would ignore: a silently dropped
        ``max_new_tokens`` on VITS would still change the cache key and mislead the reader."""
        where = f"--model-args for tts ({self.pretrained}, model_type {self.model_type})"
        is_vits = self.model_type == "vits"
        for key in self.settings:
            if key in VITS_SETTINGS and not is_vits:
                raise ConfigError(f"{where}: {key}= applies to VITS checkpoints only; remove it")
            if key in GENERATE_SETTINGS and is_vits:
                raise ConfigError(
                    f"{where}: {key}= applies to generate() models (MusicGen, Bark, CSM); VITS "
                    "speaks the whole text once (tune speaking_rate= or noise_scale= instead)"
                )
        if "speaker" in self.settings:
            speaker = str(self.settings["speaker"])
            if self.model_type not in SPEAKER_TYPES:
                raise ConfigError(
                    f"{where}: speaker= is read by {', '.join(SPEAKER_TYPES)} checkpoints only; "
                    "remove it"
                )
            if self.model_type in ("vits", "csm") and not speaker.isdigit():
                raise ConfigError(
                    f"{where}: speaker={speaker!r} must be a speaker number (0, 1, ...)"
                )
            speakers = int(getattr(config, "num_speakers", 1) or 1)
            if self.model_type == "vits" and int(speaker) >= speakers:
                raise ConfigError(
                    f"{where}: speaker={speaker} but the checkpoint has {speakers} speaker(s); "
                    f"choose 0-{speakers - 1}"
                )

    def _load_pipeline(self) -> Any:
        from transformers import pipeline

        pipe = pipeline(
            "text-to-audio", model=self.pretrained, revision=self.revision,
            device=self.device, dtype=self.dtype,
        )
        if pipe.tokenizer is None and pipe.processor is None:
            raise ConfigError(
                f"--model-args pretrained={self.pretrained}: no tokenizer or processor files in "
                "the folder; save the model's tokenizer (or processor) beside it"
            )
        if self.model_type == "vits":  # read from the model's attributes on every call
            for key in ("noise_scale", "noise_scale_duration"):
                if key in self.settings:
                    setattr(pipe.model, key, float(self.settings[key]))
        return pipe

    def _sample_rate(self) -> int:
        rate = getattr(self.pipe, "sampling_rate", None)
        if not isinstance(rate, int) or rate <= 0:
            raise ConfigError(
                f"--model-args pretrained={self.pretrained}: no sampling_rate in its config, "
                "generation config or processor; add sampling_rate to config.json"
            )
        return rate

    def _renders_alone(self) -> bool:
        """Whether requests render one per call (see the module docstring): VITS, Bark (its
        sub-models sample with their own configs) and any sampled decoding."""
        model = self.model
        if self.model_type in ("vits", "bark") or not model.can_generate():
            return True
        do_sample = self.settings.get("do_sample")
        if do_sample is None:
            do_sample = getattr(model.generation_config, "do_sample", False)
        return bool(do_sample)

    # ------------------------------------------------------------------ identity

    def identity(self) -> dict[str, Any]:
        from eval_anything.models.weights_identity import weights_identity

        return {
            "adapter": "tts", "name": self.pretrained, "version": VERSION,
            "weights": weights_identity(self.pretrained, self.revision),
            "voice_files": voice_files_identity(self.pretrained),
            "model_type": self.model_type, "dtype": str(self.dtype).replace("torch.", ""),
            "settings": self.settings, "seed": self.seed, "sample_rate": self.sample_rate,
        }

    def details(self) -> dict[str, Any]:
        return {
            "device": self.device, "architecture": type(self.model).__name__,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "sample_rate": self.sample_rate, "one_request_per_call": self.one_per_call,
        }

    # ------------------------------------------------------------------ generation

    def request_seed(self, request: GenerateRequest) -> int:
        """``seed``, offset by the request's own seed when the task samples (the agent asks
        with seed 0, so there the model arg alone decides)."""
        return self.seed + (request.gen.seed or 0)

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        texts = [text_of(r.messages[-1].content) for r in requests]
        seeds = [self.request_seed(r) for r in requests]
        alone = self.one_per_call or len(requests) == 1
        groups = [[i] for i in range(len(texts))] if alone else [list(range(len(texts)))]
        outs: dict[int, ModelOutput] = {}
        for group in groups:
            outs.update(self._render_group(group, texts, seeds))
        return [outs[i] for i in range(len(requests))]

    def _render_group(
        self, group: list[int], texts: list[str], seeds: list[int]
    ) -> dict[int, ModelOutput]:
        """Outputs for the requests ``group`` holds, rendered in one call; when a call for
        several fails, each is tried alone so one bad instruction fails only itself."""
        import torch

        torch.manual_seed(seeds[group[0]])
        try:
            waves = self._waveforms([texts[i] for i in group])
            parts = [wav_part(w, self.sample_rate) for w in waves]
        except Exception as e:  # a failed render is an error output, retried on rerun
            if len(group) > 1:
                out: dict[int, ModelOutput] = {}
                for i in group:
                    out.update(self._render_group([i], texts, seeds))
                return out
            return {group[0]: ModelOutput(error=f"tts {self.pretrained}: {type(e).__name__}: {e}")}
        return {
            i: ModelOutput(
                parts=[part], consumed_modalities=["text"],
                details={"sample_rate": self.sample_rate, "seed": seeds[i]},
            )
            for i, part in zip(group, parts, strict=True)
        }

    def _waveforms(self, texts: list[str]) -> list[np.ndarray]:
        import torch

        with torch.inference_mode():
            if self.model_type == "vits":
                return [self._vits_waveform(t) for t in texts]
            return self._pipeline_waveforms(texts)

    def _vits_waveform(self, text: str) -> np.ndarray:
        enc = self.pipe.tokenizer(text, return_tensors="pt").to(self.device)
        if enc["input_ids"].numel() == 0:
            raise ValueError(
                "the instruction has no character this checkpoint's vocabulary knows "
                "(VITS drops unknown characters), so there is nothing to say"
            )
        kwargs: dict[str, Any] = {}
        if "speaker" in self.settings:
            kwargs["speaker_id"] = int(self.settings["speaker"])
        if "speaking_rate" in self.settings:
            kwargs["speaking_rate"] = float(self.settings["speaking_rate"])
        return to_mono(self.model(**enc, **kwargs).waveform[0])

    def _pipeline_waveforms(self, texts: list[str]) -> list[np.ndarray]:
        speaker = self.settings.get("speaker")
        if speaker is not None and self.model_type == "csm":
            texts = [f"[{speaker}]{t}" for t in texts]
        call: dict[str, Any] = {}
        if speaker is not None and self.model_type == "bark":
            call["preprocess_params"] = {"voice_preset": str(speaker)}
        gen = {k: v for k, v in self.settings.items() if k in GENERATE_SETTINGS}
        if gen:
            call["generate_kwargs"] = gen
        results = self.pipe(texts, batch_size=len(texts), **call)
        return [to_mono(r["audio"]) for r in results]

    def close(self) -> None:
        self.pipe = None
        self.model = None
