"""Models for the GPU check, built from configs with random weights: nothing is downloaded and
nothing large travels to the GPU machine (speed does not depend on the weights' values).

- ``llama_like``: a Llama of about 0.7B parameters (24 layers, width 1536, 12 heads with 4
  key/value heads, vocab 32000), the shape of the 0.5-1B chat models the harness evaluates;
- ``qwen2vl_like``: a small Qwen2-VL (vision tower + language model) with its processor.

Both come with a word-level tokenizer whose vocabulary fills the model's (``w0 ... wN`` plus
chat and vision special tokens), so random generations decode to text, and a chat template;
both are saved with ``save_pretrained`` so the ``hf`` adapter loads them by its real path.
``tiny=True`` shrinks everything for a CPU smoke run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>", "<unk>",
            "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def word_tokenizer(vocab_size: int) -> Any:
    """A word-level tokenizer of exactly ``vocab_size`` entries (specials first)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for i in range(vocab_size - len(SPECIALS)):
        vocab[f"w{i}"] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()  # words and punctuation; spaces dropped
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|endoftext|>",
        pad_token="<pad>", unk_token="<unk>", additional_special_tokens=SPECIALS[5:],
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def prompt_text(i: int, words: int) -> str:
    """A deterministic prompt of ``words`` vocabulary words."""
    return " ".join(f"w{(i * 7919 + k * 104729) % 20000}" for k in range(words))


def llama_like(folder: Path, device: str, tiny: bool = False) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = word_tokenizer(512 if tiny else 32000)
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=64 if tiny else 1536,
        intermediate_size=128 if tiny else 4096, num_hidden_layers=2 if tiny else 24,
        num_attention_heads=4 if tiny else 12, num_key_value_heads=2 if tiny else 4,
        max_position_embeddings=4096, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def qwen2vl_like(folder: Path, device: str, tiny: bool = False) -> Path:
    import torch
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    tok = word_tokenizer(512 if tiny else 32000)
    ids = {t: tok.convert_tokens_to_ids(t) for t in SPECIALS}
    width = 64 if tiny else 896
    cfg = Qwen2VLConfig(
        text_config={
            "vocab_size": len(tok), "hidden_size": width,
            "intermediate_size": 128 if tiny else 4864,
            "num_hidden_layers": 2 if tiny else 12, "num_attention_heads": 4 if tiny else 14,
            "num_key_value_heads": 2, "max_position_embeddings": 4096,
            "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3] if tiny else [16, 24, 24]},
            "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id,
            "pad_token_id": tok.pad_token_id,
        },
        vision_config={
            "depth": 2 if tiny else 8, "embed_dim": 64 if tiny else 640,
            "hidden_size": width, "num_heads": 4 if tiny else 10, "patch_size": 14,
            "spatial_merge_size": 2, "temporal_patch_size": 2,
        },
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2VLForConditionalGeneration(cfg).to(torch.bfloat16)
    model.save_pretrained(folder)
    pixels = 56 * 56 if tiny else 224 * 224
    processor = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(min_pixels=pixels, max_pixels=pixels),
        video_processor=Qwen2VLVideoProcessor(), tokenizer=tok, chat_template=CHAT_TEMPLATE,
    )
    processor.save_pretrained(folder)
    return folder
