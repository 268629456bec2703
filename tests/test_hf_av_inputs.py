"""Audio and video inputs prepared per the model's processor (eval_anything.models.hf_av), fed to
tiny Qwen2-Audio and LLaVA-NeXT-Video models built and saved locally; a Qwen2.5-Omni processor
(no model) for fps sampling and a video's audio track."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tiny import build_tokenizer

from eval_anything.core.content import AudioPart, ImagePart, TextPart, VideoPart
from eval_anything.core.requests import Message
from eval_anything.media.io import audio_to_wav_bytes, image_to_png_bytes
from eval_anything.media.video import encode_mp4
from eval_anything.models.hf_av import (
    accepted_modalities,
    av_details,
    chat_message,
    load_media,
    processor_inputs,
)

AUDIO_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'audio' %}<|audio_bos|><|AUDIO|><|audio_eos|>{% else %}{{ c['text'] }}"
    "{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
VIDEO_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'video' %}<video>{% elif c['type'] == 'image' %}<image>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_qwen2_audio(folder: Path) -> Path:
    import torch
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        WhisperFeatureExtractor,
    )

    tok = build_tokenizer(chat_template=False)
    tok.add_special_tokens(
        {"additional_special_tokens": ["<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>"]}
    )
    fe = WhisperFeatureExtractor(feature_size=16, sampling_rate=16000, hop_length=160,
                                 chunk_length=2, n_fft=400)
    processor = Qwen2AudioProcessor(feature_extractor=fe, tokenizer=tok,
                                    chat_template=AUDIO_TEMPLATE)
    cfg = Qwen2AudioConfig(
        audio_config={"num_mel_bins": 16, "encoder_layers": 2, "encoder_attention_heads": 2,
                      "encoder_ffn_dim": 64, "d_model": 32, "max_source_positions": 100},
        text_config={"model_type": "qwen2", "vocab_size": len(tok), "hidden_size": 64,
                     "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                     "num_key_value_heads": 2, "max_position_embeddings": 512},
        audio_token_index=tok.convert_tokens_to_ids("<|AUDIO|>"),
    )
    torch.manual_seed(0)
    Qwen2AudioForConditionalGeneration(cfg).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_tiny_llava_next_video(folder: Path) -> Path:
    import torch
    from transformers import (
        CLIPVisionConfig,
        LlamaConfig,
        LlavaNextImageProcessor,
        LlavaNextVideoConfig,
        LlavaNextVideoForConditionalGeneration,
        LlavaNextVideoProcessor,
        LlavaNextVideoVideoProcessor,
    )

    tok = build_tokenizer(chat_template=False)
    tok.add_special_tokens({"additional_special_tokens": ["<image>", "<video>"]})
    square = {"height": 32, "width": 32}
    processor = LlavaNextVideoProcessor(
        video_processor=LlavaNextVideoVideoProcessor(size={"shortest_edge": 32}, crop_size=square,
                                                     num_frames=4),
        image_processor=LlavaNextImageProcessor(size={"shortest_edge": 32}, crop_size=square,
                                                image_grid_pinpoints=[[32, 32]]),
        tokenizer=tok, chat_template=VIDEO_TEMPLATE, patch_size=8,
        vision_feature_select_strategy="default", num_additional_image_tokens=1,
    )
    cfg = LlavaNextVideoConfig(
        vision_config=CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=2, image_size=32, patch_size=8,
                                       projection_dim=32),
        text_config=LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128,
                                num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                max_position_embeddings=512),
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        video_token_index=tok.convert_tokens_to_ids("<video>"),
        vision_feature_select_strategy="default", vision_feature_layer=-1,
        image_grid_pinpoints=[[32, 32]], spatial_pool_stride=2,
    )
    torch.manual_seed(0)
    LlavaNextVideoForConditionalGeneration(cfg).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def load(folder: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForMultimodalLM, AutoProcessor

    return AutoProcessor.from_pretrained(folder), AutoModelForMultimodalLM.from_pretrained(folder)


def generate(processor: Any, model: Any, messages: list[Message]) -> tuple[Any, Any]:
    """What the hf adapter does with these helpers: template, load media, process, generate."""
    prompt = processor.apply_chat_template([chat_message(m) for m in messages], tokenize=False,
                                           add_generation_prompt=True)
    media = load_media([p for m in messages for p in m.content], processor)
    enc = processor(**processor_inputs(processor, [prompt], [media]))
    return media, model.generate(**enc, max_new_tokens=3, do_sample=False)


def test_audio_resampled_to_the_feature_extractor_rate(tmp_path: Path) -> None:
    from PIL import Image

    processor, model = load(build_tiny_qwen2_audio(tmp_path / "qa"))
    assert accepted_modalities(processor) == ("text", "audio")
    wave = np.sin(np.linspace(0, 400, 8000)).astype(np.float32)  # 1 s at 8 kHz
    image = ImagePart(data=image_to_png_bytes(Image.new("RGB", (8, 8))))
    msg = Message(role="user", content=[AudioPart(data=audio_to_wav_bytes(wave, 8000)), image,
                                        TextPart(text="What is this sound?")])
    media, out = generate(processor, model, [msg])
    assert media.facts == {"audio_resampled_hz": [[8000, 16000]]}
    assert media.audio[0].shape == (16000,) and media.audio[0].dtype == np.float32
    assert media.dropped == ["image"]  # the processor takes no images: named, not hidden
    assert media.consumed() == ["text", "audio"]
    assert out.shape[1] > 3
    assert av_details(processor) == {"input_modalities": ["text", "audio"],
                                     "audio_sampling_rate": 16000}


def test_video_frames_sampled_per_the_video_processor(tmp_path: Path) -> None:
    from PIL import Image

    processor, model = load(build_tiny_llava_next_video(tmp_path / "vv"))
    assert accepted_modalities(processor) == ("text", "image", "video")
    frames = [Image.new("RGB", (48, 40), (i * 20, 50, 0)) for i in range(12)]
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(encode_mp4(frames, fps=6))
    msg = Message(role="user", content=[VideoPart(path=str(clip)), TextPart(text="What happens?")])
    media, out = generate(processor, model, [msg])
    assert media.facts == {"video_frames": [[4, 12]]}  # processor.num_frames = 4, of 12
    kept = [int(np.asarray(f)[0, 0, 0]) for f in media.videos[0]]
    # uniform over the clip: frames 0, 4, 7, 11 (H.264 keeps each level within a few steps)
    assert np.allclose(kept, [0, 80, 140, 220], atol=4)
    enc = processor(**processor_inputs(processor, ["<video>x"], [media]))
    assert tuple(enc["pixel_values_videos"].shape) == (1, 4, 3, 32, 32)
    assert out.shape[1] > 3
    details = av_details(processor)
    assert details["video_frames"] == 4 and details["video_frames_from"] == "processor"


def test_no_processor_means_text_only() -> None:
    assert accepted_modalities(None) == ("text",)
    media = load_media([TextPart(text="hi")], None)
    assert media.consumed() == ["text"] and not media.dropped


@pytest.mark.parametrize("kind", ["image", "audio", "video"])
def test_chat_placeholders_keep_order(kind: str) -> None:
    part: Any = {
        "image": ImagePart(path="/x.png"), "audio": AudioPart(path="/x.wav"),
        "video": VideoPart(path="/x.gif"),
    }[kind]
    msg = chat_message(Message(role="user", content=[TextPart(text="a"), part, TextPart(text="b")]))
    assert msg["content"] == [{"type": "text", "text": "a"}, {"type": kind},
                              {"type": "text", "text": "b"}]


def omni_processor() -> Any:
    """A Qwen2.5-Omni processor (images, audio, video) around the tiny tokenizer: no model."""
    from transformers import (
        PreTrainedTokenizerFast,
        Qwen2_5OmniProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
        WhisperFeatureExtractor,
    )

    base = build_tokenizer(chat_template=False)
    names = {"image_token": "<|IMAGE|>", "audio_token": "<|AUDIO|>", "video_token": "<|VIDEO|>",
             "vision_bos_token": "<|vision_bos|>", "vision_eos_token": "<|vision_eos|>",
             "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>"}
    tok = PreTrainedTokenizerFast(tokenizer_object=base.backend_tokenizer, bos_token="<|im_start|>",
                                  eos_token="<|endoftext|>", pad_token="<pad>",
                                  extra_special_tokens=names)
    return Qwen2_5OmniProcessor(image_processor=Qwen2VLImageProcessor(),
                                video_processor=Qwen2VLVideoProcessor(fps=2.0, max_frames=6),
                                feature_extractor=WhisperFeatureExtractor(), tokenizer=tok)


def test_video_sampled_at_the_processor_fps_with_its_audio_track(tmp_path: Path) -> None:
    from PIL import Image

    processor = omni_processor()
    frames = [Image.new("RGB", (32, 32), (i * 10, 0, 0)) for i in range(24)]  # 2 s at 12 fps
    wave = (0.4 * np.sin(np.arange(16000) / 8000 * 2 * np.pi * 300)).astype(np.float32)
    clip = tmp_path / "talk.mp4"
    clip.write_bytes(encode_mp4(frames, fps=12, audio=wave, sample_rate=8000))
    part = VideoPart(path=str(clip))
    media = load_media([part, TextPart(text="What is said?")], processor, video_audio=True)
    # fps=2 over 2 s: frames at 0, 0.5, 1.0, 1.5 s (frames 0, 6, 12, 18), under max_frames=6
    assert media.facts["video_frames"] == [[4, 24]]
    kept = [int(np.asarray(f)[0, 0, 0]) for f in media.videos[0]]
    assert np.allclose(kept, [0, 60, 120, 180], atol=4)
    # the audio track, resampled to the feature extractor's 16 kHz, about 2 s long
    assert media.facts["video_audio_resampled_hz"] == [[8000, 16000]]
    assert media.audio[0].dtype == np.float32 and abs(media.audio[0].shape[0] - 32000) < 2048
    assert media.consumed() == ["text", "audio", "video"]
    msg = chat_message(Message(role="user", content=[part, TextPart(text="x")]), video_audio=True)
    assert [c["type"] for c in msg["content"]] == ["video", "audio", "text"]
    details = av_details(processor)
    assert details["video_fps"] == 2.0 and details["video_frames"] == 6
    # without video_audio, or for a silent clip, no audio input and no placeholder
    assert load_media([part], processor).audio == []
    silent = VideoPart(data=encode_mp4(frames, fps=12))
    assert load_media([silent], processor, video_audio=True).audio == []
    plain = chat_message(Message(role="user", content=[silent]), video_audio=True)
    assert [c["type"] for c in plain["content"]] == ["video"]
