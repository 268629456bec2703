"""Tiny text-to-speech and text-to-audio checkpoints (VITS, MusicGen) of the real transformers
classes, built from their configs with their tokenizers and saved with save_pretrained, so the
real loading code runs. Nothing is downloaded; each builds in well under a second.

``PYTHONPATH=tests python -c "from pathlib import Path; from tiny_audio import build_tiny_vits;
build_tiny_vits(Path('tiny-vits'))"`` makes one for trying the ``tts`` generator by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

VITS_CHARS = ["<pad>", "<unk>", " ", *"abcdefghijklmnopqrstuvwxyz'.,!?"]


def build_tiny_vits(folder: Path, num_speakers: int = 1) -> Path:
    """A ~16k-parameter VITS with a character vocabulary, saved with save_pretrained."""
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.json"
    vocab.write_text(json.dumps({c: i for i, c in enumerate(VITS_CHARS)}))
    torch.manual_seed(0)
    config = VitsConfig(
        vocab_size=len(VITS_CHARS), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        ffn_dim=16, flow_size=8, spectrogram_bins=9, upsample_initial_channel=16,
        upsample_rates=[4, 4], upsample_kernel_sizes=[8, 8], resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1]], duration_predictor_filter_channels=8,
        duration_predictor_num_flows=1, prior_encoder_num_flows=1,
        prior_encoder_num_wavenet_layers=1, posterior_encoder_num_wavenet_layers=1,
        depth_separable_num_layers=1, sampling_rate=8000, pad_token_id=0,
        num_speakers=num_speakers, speaker_embedding_size=8 if num_speakers > 1 else 0,
    )
    VitsModel(config).save_pretrained(folder)
    VitsTokenizer(str(vocab), phonemize=False).save_pretrained(folder)
    return folder


def build_tiny_musicgen(folder: Path) -> Path:
    """A ~54k-parameter MusicGen (T5 text encoder, EnCodec, 2-codebook decoder). Random
    weights at the default scale make the decoder ignore the text and EnCodec's zero codebooks
    make every code sound alike, so both are drawn wider."""
    from tiny import build_tokenizer
    from transformers import (
        EncodecConfig,
        GenerationConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        T5Config,
    )

    tok = build_tokenizer(chat_template=False)
    torch.manual_seed(0)
    text = T5Config(vocab_size=len(tok), d_model=16, d_kv=4, d_ff=16, num_layers=1, num_heads=2,
                    pad_token_id=tok.pad_token_id)
    codec = EncodecConfig(target_bandwidths=[1.0], sampling_rate=8000, audio_channels=1,
                          num_filters=4, num_residual_layers=1, upsampling_ratios=[8, 5, 4],
                          codebook_size=16, hidden_size=8, num_lstm_layers=1, codebook_dim=8)
    decoder = MusicgenDecoderConfig(vocab_size=16, hidden_size=16, num_hidden_layers=1,
                                    num_attention_heads=2, ffn_dim=16, num_codebooks=2,
                                    max_position_embeddings=64, pad_token_id=16, bos_token_id=16)
    model = MusicgenForConditionalGeneration(MusicgenConfig(
        text_encoder=text.to_dict(), audio_encoder=codec.to_dict(), decoder=decoder.to_dict()))
    with torch.no_grad():
        for module in model.audio_encoder.modules():
            if type(module).__name__ == "EncodecEuclideanCodebook":
                module.get_buffer("embed").normal_()
                module.get_buffer("embed_avg").copy_(module.get_buffer("embed"))
        for name, param in model.named_parameters():
            if name.startswith(("decoder", "enc_to_dec")) and param.dim() > 1:
                param.normal_(std=0.5)
    model.generation_config = GenerationConfig(
        max_new_tokens=12, do_sample=True, guidance_scale=3.0, pad_token_id=16,
        decoder_start_token_id=16, bos_token_id=16)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
