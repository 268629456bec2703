"""Audio and video inputs for transformers models whose processor takes them (Qwen2-Audio,
LLaVA-NeXT-Video, Qwen2-VL, Qwen2.5-Omni...): the pieces the ``hf`` adapter calls.

The processor decides how media are prepared, so nothing here is model-specific:
- audio is loaded (soundfile), mixed to mono and resampled to the processor's feature
  extractor rate (``feature_extractor.sampling_rate``, e.g. 16 kHz for Whisper-style encoders)
  with :func:`eval_anything.media.io.resample`;
- video frames are sampled by :func:`eval_anything.media.video.sample_video_frames` (seeking, so a
  long clip is never decoded whole) at the video processor's own ``fps`` (capped at its
  ``max_frames``) or ``num_frames``, else ``default_frames`` uniformly, and the processor is told
  not to sample again;
- with ``video_audio`` the video's audio track is read too (resampled like any audio) and goes
  in as an audio input right after the video, for models that hear what they watch;
- the chat template gets typed placeholders (``{"type": "audio"}``...), which multimodal
  templates turn into the model's media tokens.

What was done is returned as facts (original and target sample rates, frames kept of how many)
so the adapter can put them in its details and in each output, and results say how the media
reached the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval_anything.core.content import AudioPart, ImagePart, TextPart, VideoPart
from eval_anything.core.requests import Message
from eval_anything.media.io import resample, video_source
from eval_anything.media.kinds import FRAME_FOLDER_FPS

DEFAULT_VIDEO_FRAMES = 8


def feature_extractor_of(processor: Any) -> Any | None:
    fe = getattr(processor, "feature_extractor", None)
    return fe if fe is not None else getattr(processor, "audio_processor", None)


def audio_sampling_rate(processor: Any) -> int | None:
    """The rate the processor's audio features are computed at (None: no audio input)."""
    fe = feature_extractor_of(processor)
    rate = getattr(fe, "sampling_rate", None)
    return int(rate) if rate else None


def video_frame_count(processor: Any, default: int = DEFAULT_VIDEO_FRAMES) -> int | None:
    """Frames per video (the most, when sampling by fps): the video processor's ``num_frames``,
    else its ``max_frames`` when it samples by ``fps``, else ``default``; None when the processor
    takes no video."""
    vp = getattr(processor, "video_processor", None)
    if vp is None:
        return None
    n = getattr(vp, "num_frames", None)
    if not n and getattr(vp, "fps", None):
        n = getattr(vp, "max_frames", None)
    return int(n) if n else default


def video_fps(processor: Any) -> float | None:
    """The rate the video processor samples frames at, when it sets one (Qwen2-VL style)."""
    fps = getattr(getattr(processor, "video_processor", None), "fps", None)
    return float(fps) if fps else None


def accepted_modalities(processor: Any) -> tuple[str, ...]:
    """Input modalities a processor can prepare, in the canonical order."""
    kinds = ["text"]
    if processor is None:
        return tuple(kinds)
    if getattr(processor, "image_processor", None) is not None:
        kinds.append("image")
    if audio_sampling_rate(processor) is not None:
        kinds.append("audio")
    if getattr(processor, "video_processor", None) is not None:
        kinds.append("video")
    return tuple(kinds)


@dataclass
class MediaInputs:
    """One request's media, prepared for its processor, and what was done to them."""

    images: list[Any] = field(default_factory=list)
    audio: list[np.ndarray] = field(default_factory=list)
    videos: list[list[Any]] = field(default_factory=list)
    facts: dict[str, list[Any]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    def consumed(self) -> list[str]:
        kinds = ["text"]
        kinds += ["image"] if self.images else []
        kinds += ["audio"] if self.audio else []
        kinds += ["video"] if self.videos else []
        return kinds


def video_has_audio(part: VideoPart, base_dir: Path | None = None) -> bool:
    from eval_anything.media.video import probe_video

    return probe_video(video_source(part, base_dir)).has_audio


def load_media(
    parts: list[Any],
    processor: Any,
    base_dir: Path | None = None,
    default_frames: int = DEFAULT_VIDEO_FRAMES,
    video_audio: bool = False,
) -> MediaInputs:
    """Load a request's media parts the way ``processor`` wants them. Parts of a modality the
    processor cannot take are left out and named in ``dropped`` (never silently). With
    ``video_audio``, a video's audio track becomes an audio input after it (when the processor
    takes audio and the video has a track)."""
    from eval_anything.media.video import probe_video, sample_video_frames

    accepted = accepted_modalities(processor)
    rate = audio_sampling_rate(processor)
    frames_wanted = video_frame_count(processor, default_frames)
    fps_wanted = video_fps(processor)
    out = MediaInputs()
    for p in parts:
        if isinstance(p, TextPart):
            continue
        if p.type not in accepted:
            out.dropped.append(p.type)
        elif isinstance(p, ImagePart):
            out.images.append(p.load(base_dir))
        elif isinstance(p, AudioPart):
            wave, sr = p.load(base_dir)
            assert rate is not None
            out.audio.append(np.asarray(resample(wave, sr, rate), dtype=np.float32))
            out.facts.setdefault("audio_resampled_hz", []).append([sr, rate])
        elif isinstance(p, VideoPart):
            source = video_source(p, base_dir)
            folder_fps = p.fps or FRAME_FOLDER_FPS
            info = probe_video(source, folder_fps)
            kept = sample_video_frames(source, frames_wanted, fps_wanted, folder_fps)
            out.videos.append(kept)
            out.facts.setdefault("video_frames", []).append([len(kept), info.frame_count])
            if video_audio and rate is not None and info.has_audio:
                _add_video_audio(out, source, rate)
    return out


def _add_video_audio(out: MediaInputs, source: Path | bytes, rate: int) -> None:
    from eval_anything.media.video import read_video_audio

    wave, sr = read_video_audio(source)
    out.audio.append(np.asarray(resample(wave, sr, rate), dtype=np.float32))
    out.facts.setdefault("video_audio_resampled_hz", []).append([sr, rate])


def chat_message(m: Message, video_audio: bool = False) -> dict[str, Any]:
    """A message for ``processor.apply_chat_template``: media as typed placeholders, in order;
    with ``video_audio``, an audio placeholder follows each video that has an audio track (the
    same rule as :func:`load_media`, so placeholders and inputs agree)."""
    content: list[dict[str, Any]] = []
    for p in m.content:
        if isinstance(p, TextPart):
            content.append({"type": "text", "text": p.text})
            continue
        content.append({"type": p.type})
        if video_audio and isinstance(p, VideoPart) and video_has_audio(p):
            content.append({"type": "audio"})
    return {"role": m.role, "content": content}


def processor_inputs(
    processor: Any, prompts: list[str], media: list[MediaInputs], **extra: Any
) -> dict[str, Any]:
    """Keyword arguments for ``processor(...)`` over a batch: images nested per prompt, audio
    clips and videos as flat lists in prompt order (how processors count them against the
    media tokens of the text), and the audio rate so the feature extractor checks it."""
    kwargs: dict[str, Any] = {"text": prompts, "padding": True, "return_tensors": "pt", **extra}
    if any(m.images for m in media):
        kwargs["images"] = [m.images for m in media]
    clips = [a for m in media for a in m.audio]
    if clips:
        kwargs["audio"] = clips
        kwargs["sampling_rate"] = audio_sampling_rate(processor)
    videos = [v for m in media for v in m.videos]
    if videos:
        kwargs["videos"] = videos
        kwargs["do_sample_frames"] = False  # already sampled to the processor's frame count
    return kwargs


def av_details(processor: Any, default_frames: int = DEFAULT_VIDEO_FRAMES) -> dict[str, Any]:
    """Facts for the adapter's details (results.json): how audio and video are prepared."""
    out: dict[str, Any] = {"input_modalities": list(accepted_modalities(processor))}
    rate = audio_sampling_rate(processor)
    if rate is not None:
        out["audio_sampling_rate"] = rate
    frames = video_frame_count(processor, default_frames)
    if frames is not None:
        vp = getattr(processor, "video_processor", None)
        out["video_frames"] = frames
        out["video_frames_from"] = "processor" if getattr(vp, "num_frames", None) else "default"
        fps = video_fps(processor)
        if fps is not None:
            out["video_fps"] = fps
            out["video_frames_from"] = "processor"
    return out
