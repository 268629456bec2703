"""The agent adapter (a language model plus media generators), the procedural generator, and a
diffusers generator on a tiny pipeline built locally."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eval_anything.core.content import TextPart
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest, GenerationConfig
from eval_anything.media.video import sample_video_frames
from eval_anything.models.agent import AgentModel, instructions_from, with_generators
from eval_anything.models.base import ModelAdapter
from eval_anything.models.procedural import ProceduralGenerator, render
from eval_anything.models.scripted import ScriptedModel

SECTIONED = (
    "[[response]]: Three red circles, with two beeps.\n"
    "[[image_instruction]]: three red circles on a blue background\n"
    "[[audio_instruction]]: two high beeps"
)
OFFER_ALL = "Answer as [[response]]: ... [[image_instruction]]: ... [[audio_instruction]]: ..."


def req(text: str) -> GenerateRequest:
    return GenerateRequest.from_parts([TextPart(text=text)], GenerationConfig(max_new_tokens=8))


def test_agent_renders_each_chosen_section_with_its_generator() -> None:
    agent = AgentModel(lm=ScriptedModel(default=SECTIONED))
    (out,) = agent.generate([req(OFFER_ALL)])
    assert [p.type for p in out.parts] == ["text", "image", "audio"]
    assert out.text == SECTIONED
    assert out.parts[1].data == render("image", "three red circles on a blue background").data
    assert out.parts[2].data == render("audio", "two high beeps").data
    ident = agent.identity()
    assert ident["lm"]["adapter"] == "scripted"
    assert set(ident["generators"]) == {"image", "audio", "video"}
    assert agent.output_modalities == ("text", "image", "audio", "video")


def test_agent_leaves_out_media_the_model_said_none_to() -> None:
    text = "[[response]]: 51\n[[image_instruction]]: None\n[[audio_instruction]]: None"
    (out,) = AgentModel(lm=ScriptedModel(default=text)).generate([req(OFFER_ALL)])
    assert [p.type for p in out.parts] == ["text"]


def test_agent_generates_identical_requests_once() -> None:
    lm = ScriptedModel(default=SECTIONED)
    agent = AgentModel(lm=lm)
    outs = agent.generate([req(OFFER_ALL), req(OFFER_ALL), req(OFFER_ALL + " ")])
    assert lm.calls == 2 and len(outs) == 3
    assert outs[0].parts[1].data == outs[1].parts[1].data


def test_single_offered_medium_takes_an_unsectioned_answer_whole() -> None:
    offer_image = "Reply as [[image_instruction]]: <instruction>\nUser: draw two green squares"
    assert instructions_from("two green squares", offer_image, ["image", "audio"]) == {
        "image": "two green squares"}
    # when text is offered too, an unsectioned answer is just text
    assert instructions_from("two green squares", OFFER_ALL, ["image", "audio"]) == {}
    # sections for media the prompt did not offer are not rendered
    assert instructions_from(SECTIONED, offer_image, ["image", "audio"]) == {
        "image": "three red circles on a blue background"}


def test_agent_parts_and_switches() -> None:
    agent = AgentModel(lm="scripted", image="procedural", audio="none", video=None,
                       **{"lm.default": SECTIONED})
    assert agent.output_modalities == ("text", "image")
    (out,) = agent.generate([req(OFFER_ALL)])
    assert [p.type for p in out.parts] == ["text", "image"]
    with pytest.raises(ValueError, match="lm.pretrained"):
        AgentModel(lm=ScriptedModel(default="x"), steps=4)


class BrokenGenerator(ModelAdapter):
    output_modalities = ("image",)

    def identity(self) -> dict[str, Any]:
        return {"adapter": "broken"}

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        return [ModelOutput(error="out of memory") for _ in requests]


def test_a_failed_generator_makes_an_error_output() -> None:
    agent = AgentModel(lm=ScriptedModel(default=SECTIONED), image=BrokenGenerator())
    (out,) = agent.generate([req(OFFER_ALL)])
    assert out.error == "image generator failed: out of memory" and not out.parts


def test_with_generators_wraps_only_when_media_are_missing() -> None:
    lm = ScriptedModel(default="x")
    wrapped = with_generators(lm, {"image": "procedural"})
    assert isinstance(wrapped, AgentModel) and wrapped.output_modalities == ("text", "image")
    gen = ProceduralGenerator(modality="image")
    assert with_generators(gen, {"image": "procedural"}) is gen


def test_procedural_generator_is_deterministic_per_modality() -> None:
    for modality in ("image", "audio", "video"):
        gen = ProceduralGenerator(modality=modality)
        a, b = gen.generate([req("two red squares moving left, three beeps")] * 2)
        assert a.parts[0].type == modality
        if modality == "video":
            # x264 may write an equivalent bitstream that differs in bytes: compare what a
            # model sees, every decoded frame
            assert _frames(a.parts[0].data) == _frames(b.parts[0].data)
        else:
            assert a.parts[0].data == b.parts[0].data
    with pytest.raises(ValueError, match="modality"):
        ProceduralGenerator(modality="smell")


def _frames(mp4: bytes | None) -> list[bytes]:
    assert mp4 is not None
    return [np.asarray(f).tobytes() for f in sample_video_frames(mp4)]


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("diffusers")
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from tiny import build_tokenizer
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    tok = build_tokenizer(chat_template=False)
    tok.model_max_length = 16
    text = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, max_position_embeddings=16, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id))
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=8, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=16,
        norm_num_groups=4, attention_head_dim=4)
    vae = AutoencoderKL(block_out_channels=(8, 16), in_channels=3, out_channels=3,
                        down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4,
                        norm_num_groups=4, sample_size=16)
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=text, tokenizer=tok, unet=unet, scheduler=DDIMScheduler(),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    folder = tmp_path_factory.mktemp("sd") / "tiny-sd"
    pipe.save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_diffusers_generator_renders_an_image_reproducibly(tiny_sd: Path) -> None:
    from eval_anything.models.diffusers_gen import DiffusersGenerator

    gen = DiffusersGenerator(pipeline=str(tiny_sd), modality="image", steps=2, height=16,
                             width=16, device="cpu", dtype="float32")
    a, b = gen.generate([req("a red circle"), req("a red circle")])
    assert a.error is None and a.parts[0].type == "image"
    assert a.parts[0].data == b.parts[0].data
    assert gen.identity()["pipeline_class"] == "StableDiffusionPipeline"
    agent = AgentModel(lm=ScriptedModel(default="[[image_instruction]]: a red circle"),
                       image=gen, audio=None, video=None)
    (out,) = agent.generate([req("Reply as [[image_instruction]]: ...")])
    assert [p.type for p in out.parts] == ["text", "image"]


def test_agent_video_is_mp4_with_the_sound_it_asks_for() -> None:
    from eval_anything.media.video import probe_video, read_video_audio

    script = "[[video_instruction]]: a red square moving left on a white background, three beeps"
    agent = AgentModel(lm=ScriptedModel(default=script), image=None, audio=None)
    (out,) = agent.generate([req("Reply as [[video_instruction]]: ...")])
    video = out.parts[-1]
    assert video.type == "video" and video.mime == "video/mp4" and video.data is not None
    info = probe_video(video.data)
    assert (info.codec, info.frame_count, info.fps, info.has_audio) == ("h264", 8, 4.0, True)
    wave, rate = read_video_audio(video.data)
    assert rate == 16000 and wave.size > 16000  # three beeps with their gaps: over a second
    silent = render("video", "a red square moving left on a white background")
    assert not probe_video(silent.data or b"").has_audio


def test_diffusers_video_frames_become_mp4_at_the_pipeline_fps() -> None:
    import numpy as np

    from eval_anything.media.video import probe_video, read_video_audio, sample_video_frames
    from eval_anything.models.diffusers_gen import video_part

    frames = np.linspace(0.0, 1.0, 10)[:, None, None, None] * np.ones((10, 24, 32, 3))
    sound = (0.3 * np.sin(np.arange(22050) / 22050 * 2 * np.pi * 220)).astype(np.float32)
    part = video_part(frames, fps=5.0, audio=sound, sample_rate=22050)
    info = probe_video(part.data or b"")
    assert (info.frame_count, info.fps, info.width, info.height) == (10, 5.0, 32, 24)
    assert info.has_audio and read_video_audio(part.data or b"")[1] == 22050
    first, last = sample_video_frames(part.data or b"", num_frames=2)
    assert np.asarray(first).mean() < 10 and np.asarray(last).mean() > 245
    assert not probe_video(video_part(frames, fps=5.0).data or b"").has_audio


class DrawingLM(ScriptedModel):
    """A language model that also draws (as Janus does): it records what each request asked for
    and answers an image request with the procedural picture of its text."""

    output_modalities = ("text", "image")

    def __init__(self, answer: str) -> None:
        super().__init__(default=answer)
        self.asked: list[tuple[str, ...]] = []

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        self.asked += [r.output_modalities for r in requests]
        texts = [r for r in requests if r.output_modalities == ("text",)]
        drawn = {id(r): ModelOutput(parts=[render("image", r.messages[-1].content[0].text)],
                                    details={"generation": {"mode": "image"}})
                 for r in requests if r.output_modalities == ("image",)}
        answered = dict(zip(map(id, texts), super().generate(texts), strict=True))
        return [drawn.get(id(r)) or answered[id(r)] for r in requests]


def test_self_renders_the_medium_with_the_language_model() -> None:
    lm = DrawingLM(SECTIONED)
    agent = AgentModel(lm=lm, image="self", audio="procedural", video=None)
    asked = GenerateRequest.from_parts(
        [TextPart(text=OFFER_ALL)], GenerationConfig(max_new_tokens=8),
        output_modalities=("text", "image", "audio"),
    )
    (out,) = agent.generate([asked])
    # the model writes text, then draws its own instruction alone; the sound is procedural
    assert lm.asked == [("text",), ("image",)]
    assert [p.type for p in out.parts] == ["text", "image", "audio"]
    assert out.parts[1].data == render("image", "three red circles on a blue background").data
    assert out.details["media_generation"] == {"image": {"mode": "image"}}
    assert agent.identity()["generators"]["image"] == "self"
    assert agent.output_modalities == ("text", "image", "audio")


def test_self_is_refused_for_a_medium_the_model_cannot_emit() -> None:
    with pytest.raises(ValueError, match="audio=self: the language model .* emits text, image"):
        AgentModel(lm=DrawingLM(SECTIONED), image="self", audio="self")
    with pytest.raises(ValueError, match="image.steps: image=self renders with the language"):
        AgentModel(lm=DrawingLM(SECTIONED), image="self", **{"image.steps": 4})
