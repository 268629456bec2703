"""``diffusers``: text-to-image, text-to-audio and text-to-video generators from diffusers
pipelines (GPU machines; ``pip install 'eval-anything[diffusers]'``).

Any pipeline ``DiffusionPipeline.from_pretrained`` can load works: FLUX or Stable Diffusion for
images, AudioLDM 2 for audio, a text-to-video pipeline for clips (written as MP4 at ``fps``, with
the pipeline's sound as an AAC track when it returns one). Each request's last user turn is the
prompt; a fixed seed makes outputs reproducible. The agent adapter uses these as its media
generators: ``--model agent --model-args lm=hf,lm.pretrained=DIR,image=diffusers,
image.pipeline=black-forest-labs/FLUX.1-schnell,image.steps=4``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eval_anything.core.content import AudioPart, ImagePart, VideoPart, text_of
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest
from eval_anything.media.io import audio_to_wav_bytes, image_to_png_bytes
from eval_anything.media.video import encode_mp4
from eval_anything.models.base import ModelAdapter
from eval_anything.registry import register

INSTALL_HINT = "the diffusers generator needs diffusers: pip install 'eval-anything[diffusers]'"


def _frames(raw: Any) -> list[Any]:
    """Video frames from a pipeline's ``frames[0]``: PIL images or a float/uint8 array."""
    from PIL import Image

    if isinstance(raw, list) and raw and hasattr(raw[0], "convert"):
        return [f.convert("RGB") for f in raw]
    arr = np.asarray(raw)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0.0, 1.0) * 255).round().astype(np.uint8)
    return [Image.fromarray(f) for f in arr]


def _soundtrack(result: Any) -> np.ndarray | None:
    """The first clip's audio when a text-to-video pipeline returns sound (``audio``/``audios``),
    mixed to mono; None for silent pipelines."""
    for name in ("audio", "audios"):
        raw = getattr(result, name, None)
        if raw is None:
            continue
        first = raw[0] if isinstance(raw, (list, tuple)) else raw
        if hasattr(first, "detach"):
            first = first.detach().float().cpu().numpy()
        wave = np.asarray(first, dtype=np.float32)
        if wave.ndim > 1:  # (batch or channels, samples): a single clip's channels, mixed
            wave = wave.reshape(-1, wave.shape[-1]).mean(axis=0)
        return wave if wave.size else None
    return None


def video_part(
    raw_frames: Any, fps: float, audio: np.ndarray | None = None, sample_rate: int | None = None
) -> VideoPart:
    """An MP4 part of a pipeline's frames (PIL images or a float/uint8 array) at ``fps``, with
    ``audio`` as its track when given."""
    mp4 = encode_mp4(_frames(raw_frames), fps, audio, sample_rate if audio is not None else None)
    return VideoPart(data=mp4, mime="video/mp4", fps=fps)


@register("model", "diffusers")
class DiffusersGenerator(ModelAdapter):
    """args: ``pipeline`` (hub id or folder), ``modality`` (image | audio | video), ``steps``,
    ``guidance_scale``, ``seed``, ``height``/``width``, ``audio_length_s``, ``num_frames``,
    ``fps``, ``sample_rate`` (audio; read from the pipeline when omitted), ``device``, ``dtype``,
    ``revision``."""

    input_modalities = ("text",)

    def __init__(
        self,
        pipeline: str,
        modality: str = "image",
        steps: int | None = None,
        guidance_scale: float | None = None,
        seed: int = 0,
        height: int | None = None,
        width: int | None = None,
        audio_length_s: float | None = None,
        num_frames: int | None = None,
        fps: float = 8.0,
        sample_rate: int | None = None,
        device: str = "auto",
        dtype: str = "auto",
        revision: str | None = None,
    ) -> None:
        if modality not in ("image", "audio", "video"):
            raise ValueError(f"--model-args modality={modality!r}: choose image, audio or video")
        try:
            from diffusers import DiffusionPipeline
        except ImportError as e:
            raise RuntimeError(INSTALL_HINT) from e
        from eval_anything.models.hf import pick_device, pick_dtype

        self.modality = modality
        self.output_modalities = (modality,)  # type: ignore[misc]
        self.device = pick_device(device)
        self.pipeline_id = str(pipeline)
        self.revision = revision
        self.pipe = DiffusionPipeline.from_pretrained(
            self.pipeline_id, revision=revision, torch_dtype=pick_dtype(dtype, self.device)
        ).to(self.device)
        if hasattr(self.pipe, "set_progress_bar_config"):
            self.pipe.set_progress_bar_config(disable=True)
        self.call_args: dict[str, Any] = {
            k: v for k, v in {
                "num_inference_steps": steps, "guidance_scale": guidance_scale, "height": height,
                "width": width, "audio_length_in_s": audio_length_s, "num_frames": num_frames,
            }.items() if v is not None
        }
        self.seed, self.fps = int(seed), float(fps)
        self.sample_rate = sample_rate or _pipeline_sample_rate(self.pipe)

    def identity(self) -> dict[str, Any]:
        from eval_anything.models.weights_identity import weights_identity

        return {
            "adapter": "diffusers", "name": self.pipeline_id, "modality": self.modality,
            "weights": weights_identity(self.pipeline_id, self.revision),
            "pipeline_class": type(self.pipe).__name__, "call": self.call_args,
            "seed": self.seed, "fps": self.fps, "sample_rate": self.sample_rate,
        }

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        import torch

        outs = []
        for r in requests:
            prompt = text_of(r.messages[-1].content)
            gen = torch.Generator(device="cpu").manual_seed(self.seed)
            try:
                result = self.pipe(prompt, generator=gen, **self.call_args)
                part = self._part(result)
            except Exception as e:  # a failed render is an error output, retried on rerun
                outs.append(ModelOutput(error=f"{type(e).__name__}: {e}"))
                continue
            outs.append(ModelOutput(parts=[part], consumed_modalities=["text"]))
        return outs

    def _part(self, result: Any) -> ImagePart | AudioPart | VideoPart:
        if self.modality == "image":
            return ImagePart(data=image_to_png_bytes(result.images[0]), mime="image/png")
        if self.modality == "audio":
            wave = np.asarray(result.audios[0], dtype=np.float32).reshape(-1)
            return AudioPart(data=audio_to_wav_bytes(wave, self.sample_rate), mime="audio/wav")
        return video_part(result.frames[0], self.fps, _soundtrack(result), self.sample_rate)

    def close(self) -> None:
        self.pipe = None


def _pipeline_sample_rate(pipe: Any) -> int:
    for owner in ("feature_extractor", "vocoder"):
        obj = getattr(pipe, owner, None)
        for cfg in (obj, getattr(obj, "config", None)):
            rate = getattr(cfg, "sampling_rate", None)
            if isinstance(rate, int) and rate > 0:
                return rate
    return 16000
