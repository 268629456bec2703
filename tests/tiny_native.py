"""Tiny random-weight checkpoints of the transformers classes that answer with media themselves
(Janus and Emu3 draw, Qwen2.5-Omni and Qwen3-Omni speak), with their processors, saved with
save_pretrained so the adapter's real loading code runs. Offline; each builds in about a second.

Random weights may stop at once, so the end-of-sequence rows of the output heads are zeroed:
lengths are then fixed by the length settings. ``answer=`` goes further (:func:`script_answer`):
the text model then answers those pieces, whatever the prompt, for tests that need a sectioned
answer from a native model (its images or speech still come from its own heads).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tiny import build_tokenizer


def chat_template(placeholders: dict[str, str]) -> str:
    """A ChatML template writing each media part as the model's ``placeholders[type]``."""
    media = "".join(
        f"{{% elif c['type'] == '{kind}' %}}{text}" for kind, text in placeholders.items()
    )
    return (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
        "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
        "{% if c['type'] == 'text' %}{{ c['text'] }}" + media + "{% endif %}"
        "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )


SECTIONED = (
    "[[response]]: Three red circles and two beeps.",
    "\n[[image_instruction]]: three red circles on a blue background",
    "\n[[audio_instruction]]: two high beeps",
)


def _tokenizer(
    specials: dict[str, str], extra: list[str] | None = None, answer: tuple[str, ...] = ()
) -> Any:
    from transformers import PreTrainedTokenizerFast

    base = build_tokenizer(chat_template=False)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=base.backend_tokenizer, bos_token="<|im_start|>",
        eos_token="<|endoftext|>", pad_token="<pad>", extra_special_tokens=specials,
    )
    if extra:
        tok.add_tokens(extra, special_tokens=True)
    if answer:
        tok.add_tokens(list(answer))  # one token per piece, decoded as written
    return tok


def _llama_text(tok: Any, hidden: int = 64, **kw: Any) -> dict[str, Any]:
    return dict(
        vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=512, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, **kw,
    )


def _never_stop(head: Any, ids: list[int]) -> None:
    import torch

    with torch.no_grad():
        for i in ids:
            head.weight[i].zero_()


def build_tiny_janus(folder: Path, seed: int = 0, answer: tuple[str, ...] = ()) -> Path:
    """Janus: a 2-layer Llama, a 4x4-token image grid decoded to 32x32 pixels (~1.2M params)."""
    import torch
    from transformers import (
        JanusConfig,
        JanusForConditionalGeneration,
        JanusImageProcessor,
        JanusProcessor,
        JanusVisionConfig,
        JanusVQVAEConfig,
        LlamaConfig,
    )

    tok = _tokenizer({"image_token": "<image_placeholder>", "boi_token": "<begin_of_image>",
                      "eoi_token": "<end_of_image>"}, answer=answer)
    vision = JanusVisionConfig(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8,
        projection_dim=64, num_image_tokens=16, depth=1,
    )
    vq = JanusVQVAEConfig(
        embed_dim=8, num_embeddings=64, latent_channels=32, base_channels=32,
        channel_multiplier=[1, 1, 2, 2], num_res_blocks=1, projection_dim=64,
        image_token_embed_dim=64, num_hidden_layers=1,
    )
    cfg = JanusConfig(
        text_config=LlamaConfig(**_llama_text(tok)), vision_config=vision, vq_config=vq,
        image_token_id=tok.convert_tokens_to_ids(tok.image_token), tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = JanusForConditionalGeneration(cfg).eval()
    _never_stop(model.lm_head, [tok.eos_token_id, tok.pad_token_id])
    if answer:
        script_answer(model.model.language_model, model.lm_head, tok, answer)
    processor = JanusProcessor(
        image_processor=JanusImageProcessor(size={"height": 32, "width": 32}, min_size=8),
        tokenizer=tok, num_image_tokens=16,
        chat_template=chat_template({"image": "<image_placeholder>"}),
    )
    return _save(folder, model, processor)


def build_tiny_emu3(folder: Path, seed: int = 0) -> Path:
    """Emu3: a 2-layer text model over a vocabulary with 32 image tokens, a VQ decoder that turns
    a 4x4 grid into 32x32 pixels (~0.5M params); its processor draws 32x32 by default."""
    import torch
    from transformers import (
        Emu3Config,
        Emu3ForConditionalGeneration,
        Emu3ImageProcessor,
        Emu3Processor,
        Emu3TextConfig,
        Emu3VQVAEConfig,
    )

    codebook = 32
    tok = _tokenizer(
        {"image_token": "<image>", "boi_token": "<|image start|>", "eoi_token": "<|image end|>",
         "image_wrapper_token": "<|image token|>", "eof_token": "<|extra_201|>"},
        ["<|extra_200|>", *(f"<|visual token{i:06d}|>" for i in range(codebook))],
    )
    vq = Emu3VQVAEConfig(
        codebook_size=codebook, embed_dim=4, latent_channels=4, base_channels=32,
        channel_multiplier=[1, 1, 1, 1], num_res_blocks=1, attn_resolutions=[], hidden_size=32,
    )
    cfg = Emu3Config(
        text_config=Emu3TextConfig(**_llama_text(tok)), vq_config=vq, vocabulary_map=tok.get_vocab()
    )
    torch.manual_seed(seed)
    model = Emu3ForConditionalGeneration(cfg).eval()
    _never_stop(model.lm_head, [tok.eos_token_id, tok.pad_token_id])
    processor = Emu3Processor(
        image_processor=Emu3ImageProcessor(min_pixels=32 * 32, max_pixels=64 * 64),
        tokenizer=tok, chat_template=chat_template({"image": "<image>"}),
    )
    processor.image_area = 32 * 32
    return _save(folder, model, processor)


OMNI_CODEC = 40  # talker vocabulary: codes 0..34, then pad, start, end, mask


def build_tiny_qwen2_5_omni(folder: Path, seed: int = 0, answer: tuple[str, ...] = ()) -> Path:
    """Qwen2.5-Omni: thinker (2-layer text model, 1-layer audio and vision encoders), talker (1
    layer over a 40-code vocabulary) and vocoder (2-layer DiT, BigVGAN at the real 240x upsampling
    to 24 kHz), with a one-speaker ``spk_dict.pt`` (~0.4M params)."""
    import torch
    from transformers import (
        Qwen2_5OmniConfig,
        Qwen2_5OmniForConditionalGeneration,
        Qwen2_5OmniProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
        WhisperFeatureExtractor,
    )

    tok = _tokenizer(
        {"image_token": "<|IMAGE|>", "audio_token": "<|AUDIO|>", "video_token": "<|VIDEO|>",
         "vision_bos_token": "<|vision_bos|>", "vision_eos_token": "<|vision_eos|>",
         "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>"},
        ["<tts_pad>", "<tts_text_bos>", "<tts_text_eod>", "<tts_text_bos_single>"], answer,
    )
    ids = tok.convert_tokens_to_ids
    marks = dict(
        audio_token_index=ids("<|AUDIO|>"), image_token_index=ids("<|IMAGE|>"),
        video_token_index=ids("<|VIDEO|>"), audio_start_token_id=ids("<|audio_bos|>"),
        audio_end_token_id=ids("<|audio_eos|>"), vision_start_token_id=ids("<|vision_bos|>"),
        vision_end_token_id=ids("<|vision_eos|>"),
    )
    rope = {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]}
    h, c = 32, OMNI_CODEC
    thinker = dict(
        audio_config=dict(d_model=h, encoder_attention_heads=2, encoder_ffn_dim=64,
                          encoder_layers=1, num_mel_bins=128, output_dim=h),
        vision_config=dict(depth=1, hidden_size=h, intermediate_size=64, num_heads=2,
                           out_hidden_size=h, fullatt_block_indexes=[0]),
        text_config=dict(vocab_size=len(tok), hidden_size=h, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=1024, rope_parameters=rope,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                         bos_token_id=tok.bos_token_id),
        user_token_id=ids("<|im_start|>"), **marks,
    )
    talker = dict(
        vocab_size=c, tts_codec_pad_token_id=c - 5, tts_codec_start_token_id=c - 4,
        tts_codec_end_token_id=c - 3, tts_codec_mask_token_id=c - 2,
        tts_text_start_token_id=ids("<tts_text_bos>"), tts_text_end_token_id=ids("<tts_text_eod>"),
        tts_text_pad_token_id=ids("<tts_pad>"), embedding_size=h, hidden_size=h,
        intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
        head_dim=16, max_position_embeddings=1024, rope_parameters=rope, **marks,
    )
    token2wav = dict(
        dit_config=dict(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=2, ff_mult=1, emb_dim=16,
            head_dim=16, max_position_embeddings=1024, block_size=8, look_ahead_layers=[1],
            look_backward_layers=[0], repeats=2, num_embeds=c, mel_dim=16, enc_emb_dim=8,
            enc_dim=16, enc_channels=[16, 16, 16, 32], enc_kernel_sizes=[3, 3, 3, 1],
            enc_dilations=[1, 2, 3, 1], enc_attention_channels=8, enc_se_channels=8,
        ),
        bigvgan_config=dict(
            mel_dim=16, upsample_initial_channel=128, resblock_kernel_sizes=[3],
            resblock_dilation_sizes=[[1, 3, 5]], upsample_rates=[5, 3, 2, 2, 2, 2],
            upsample_kernel_sizes=[11, 7, 4, 4, 4, 4],
        ),
    )
    cfg = Qwen2_5OmniConfig(thinker_config=thinker, talker_config=talker,
                            token2wav_config=token2wav)
    torch.manual_seed(seed)
    model = Qwen2_5OmniForConditionalGeneration(cfg).eval()
    _never_stop(model.thinker.lm_head, [tok.eos_token_id, tok.pad_token_id])
    _never_stop(model.talker.codec_head, [c - 5, c - 3])
    if answer:
        script_answer(model.thinker.model, model.thinker.lm_head, tok, answer)
    processor = Qwen2_5OmniProcessor(
        image_processor=Qwen2VLImageProcessor(min_pixels=56 * 56, max_pixels=56 * 56 * 4),
        video_processor=Qwen2VLVideoProcessor(), feature_extractor=WhisperFeatureExtractor(
            feature_size=128), tokenizer=tok, chat_template=chat_template({
                "image": "<|vision_bos|><|IMAGE|><|vision_eos|>",
                "audio": "<|audio_bos|><|AUDIO|><|audio_eos|>",
                "video": "<|vision_bos|><|VIDEO|><|vision_eos|>"}),
    )
    _save(folder, model, processor)
    speaker = {"bos_token": ids("<tts_text_bos_single>"), "cond": torch.randn(1, 8),
               "ref_mel": torch.randn(1, 20, 16)}
    torch.save({"Chelsie": speaker}, folder / "spk_dict.pt")
    return folder


def build_tiny_qwen3_omni(folder: Path, seed: int = 0) -> Path:
    """Qwen3-Omni: a mixture-of-experts thinker and talker (4 experts, 1-2 layers), a 4-group code
    predictor over a 64-code book and the causal code-to-wave decoder (1920 samples per code at
    24 kHz); one speaker, ``ethan``, in ``talker_config.speaker_id`` (~0.4M params)."""
    import torch
    from transformers import (
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
        Qwen3OmniMoeConfig,
        Qwen3OmniMoeForConditionalGeneration,
        Qwen3OmniMoeProcessor,
        WhisperFeatureExtractor,
    )

    tok = _tokenizer(
        {"image_token": "<|image_pad|>", "audio_token": "<|audio_pad|>",
         "video_token": "<|video_pad|>", "vision_bos_token": "<|vision_start|>",
         "vision_eos_token": "<|vision_end|>", "audio_bos_token": "<|audio_start|>",
         "audio_eos_token": "<|audio_end|>"},
        ["<|im_end|>", "<|tts_pad|>", "<|tts_bos|>", "<|tts_eos|>", "system", "user", "assistant"],
    )
    ids = tok.convert_tokens_to_ids
    h, book, groups = 32, 64, 4
    rope = {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]}
    small = dict(hidden_size=h, intermediate_size=64, num_attention_heads=2,
                 num_key_value_heads=1, head_dim=16, rope_parameters=rope)
    experts = dict(moe_intermediate_size=16, num_experts=4, num_experts_per_tok=2)
    marks = dict(audio_token_id=ids("<|audio_pad|>"), image_token_id=ids("<|image_pad|>"),
                 video_token_id=ids("<|video_pad|>"), audio_start_token_id=ids("<|audio_start|>"),
                 vision_start_token_id=ids("<|vision_start|>"))
    thinker = dict(
        audio_config=dict(d_model=h, encoder_attention_heads=2, encoder_ffn_dim=64,
                          encoder_layers=1, num_mel_bins=128, output_dim=h,
                          downsample_hidden_size=16),
        vision_config=dict(depth=1, hidden_size=h, intermediate_size=64, num_heads=2,
                           out_hidden_size=h, num_position_embeddings=64,
                           deepstack_visual_indexes=[0]),
        text_config=dict(vocab_size=len(tok), num_hidden_layers=2, max_position_embeddings=1024,
                         eos_token_id=ids("<|im_end|>"), pad_token_id=tok.pad_token_id,
                         bos_token_id=tok.bos_token_id, **small, **experts),
        user_token_id=ids("user"), **marks,
    )
    # the talker never predicts its top 1024 ids but end of speech: the book goes below them
    talker = dict(
        text_config=dict(vocab_size=1024 + book, num_hidden_layers=1,
                         max_position_embeddings=1024, shared_expert_intermediate_size=32,
                         **small, **experts),
        code_predictor_config=dict(vocab_size=book, num_hidden_layers=1,
                                   max_position_embeddings=256, num_code_groups=groups, **small),
        num_code_groups=groups, thinker_hidden_size=h, accept_hidden_layer=1,
        spatial_merge_size=2, codec_pad_id=book, codec_bos_id=book + 1,
        codec_eos_token_id=book + 2, codec_nothink_id=book + 7, codec_think_bos_id=book + 8,
        codec_think_eos_id=book + 9, speaker_id={"ethan": book + 20}, **marks,
    )
    code2wav = dict(
        codebook_size=book, hidden_size=32, max_position_embeddings=1000, num_attention_heads=2,
        num_key_value_heads=2, sliding_window=16, intermediate_size=64, num_hidden_layers=1,
        num_quantizers=groups, upsample_rates=[8, 5, 4, 3], upsampling_ratios=[2, 2],
        decoder_dim=64,
    )
    cfg = Qwen3OmniMoeConfig(
        thinker_config=thinker, talker_config=talker, code2wav_config=code2wav,
        im_start_token_id=ids("<|im_start|>"), im_end_token_id=ids("<|im_end|>"),
        tts_pad_token_id=ids("<|tts_pad|>"), tts_bos_token_id=ids("<|tts_bos|>"),
        tts_eos_token_id=ids("<|tts_eos|>"), system_token_id=ids("system"),
        user_token_id=ids("user"), assistant_token_id=ids("assistant"),
    )
    torch.manual_seed(seed)
    model = Qwen3OmniMoeForConditionalGeneration(cfg).eval()
    _initialized(model, seed)
    _never_stop(model.thinker.lm_head, [ids("<|im_end|>"), tok.eos_token_id, tok.pad_token_id])
    _never_stop(model.talker.codec_head, [book + 2])
    processor = Qwen3OmniMoeProcessor(
        image_processor=Qwen2VLImageProcessor(min_pixels=64 * 64, max_pixels=64 * 64 * 4,
                                              patch_size=16),
        video_processor=Qwen2VLVideoProcessor(), feature_extractor=WhisperFeatureExtractor(
            feature_size=128), tokenizer=tok, chat_template=chat_template({
                "image": "<|vision_start|><|image_pad|><|vision_end|>",
                "audio": "<|audio_start|><|audio_pad|><|audio_end|>",
                "video": "<|vision_start|><|video_pad|><|vision_end|>"}),
    )
    return _save(folder, model, processor)


def script_answer(text_model: Any, head: Any, tok: Any, answer: tuple[str, ...]) -> None:
    """Make greedy decoding answer the ``answer`` pieces (one token each, see :func:`_tokenizer`)
    after any chat prompt: every layer's output is silenced (the residual stream is then the
    current token's embedding), the chain's tokens get orthogonal embeddings, and the head maps
    each to its successor: the template's last token (a newline) to the first piece, the last
    piece to end of text."""
    import torch

    newline = tok.encode("\n", add_special_tokens=False)[-1]
    chain = [newline, *tok.convert_tokens_to_ids(list(answer)), tok.eos_token_id]
    embed = text_model.get_input_embeddings().weight
    with torch.no_grad():
        for name, module in text_model.named_modules():
            if name.endswith(("o_proj", "down_proj")):
                module.weight.zero_()
        for k, token in enumerate(chain):
            embed[token].zero_()
            embed[token, k] = 1.0
        for k, successor in enumerate(chain[1:]):
            head.weight[successor].zero_()
            head.weight[successor, k] = 50.0


def _initialized(model: Any, seed: int) -> None:
    """Draw afresh (normal, std 0.02, seeded) every weight the class leaves uninitialized: some
    MoE expert tensors are made with ``torch.empty`` and not touched by ``_init_weights``, so
    they hold whatever memory held (1e31 and beyond), and generation then fails now and then on
    NaN probabilities."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.is_floating_point() and not (torch.isfinite(p).all() and p.abs().max() < 100):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.02)


def _save(folder: Path, model: Any, processor: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
