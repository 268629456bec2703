"""A tiny multimodal reward model built locally: transformers' ``Gemma3ForSequenceClassification``
(a SigLIP vision tower and a Gemma3 text model, one output label) with its ``Gemma3Processor``
and a chat template that puts media items where the messages hold them. Random weights; about
0.1M parameters; builds and saves in a few seconds. Nothing is downloaded."""

from __future__ import annotations

import json
from pathlib import Path

from tiny import build_tokenizer

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<start_of_image>{% elif c['type'] == 'text' %}{{ c['text'] }}"
    "{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
)
MEDIA_TOKENS = {"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>",
                "image_token": "<image_soft_token>"}


def build_tiny_multimodal_reward(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import (
        Gemma3Config,
        Gemma3ForSequenceClassification,
        Gemma3ImageProcessor,
        Gemma3Processor,
        Gemma3TextConfig,
        SiglipVisionConfig,
    )

    base = build_tokenizer(chat_template=False)
    base.add_special_tokens({"additional_special_tokens": list(MEDIA_TOKENS.values())})
    tok = base.__class__(
        tokenizer_object=base.backend_tokenizer, bos_token=base.bos_token,
        eos_token=base.eos_token, pad_token=base.pad_token, extra_special_tokens=MEDIA_TOKENS,
    )
    torch.manual_seed(seed)
    text = Gemma3TextConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=512,
        sliding_window=64, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    vision = SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                num_attention_heads=2, image_size=32, patch_size=8)
    cfg = Gemma3Config(
        text_config=text, vision_config=vision, mm_tokens_per_image=4,
        boi_token_index=tok.boi_token_id,
        eoi_token_index=tok.convert_tokens_to_ids("<end_of_image>"),
        image_token_index=tok.image_token_id, num_labels=1, pad_token_id=tok.pad_token_id,
    )
    model = Gemma3ForSequenceClassification(cfg)
    with torch.no_grad():  # the projector starts at zero: give the image a say in the reward
        projector = model.model.multi_modal_projector
        projector.mm_input_projection_weight.normal_(0.0, 0.5)
        projector.mm_soft_emb_norm.weight.normal_(0.0, 1.0)
        model.score.weight.normal_(0.0, 1.0)
    processor = Gemma3Processor(
        image_processor=Gemma3ImageProcessor(size={"height": 32, "width": 32}),
        tokenizer=tok, image_seq_length=4, chat_template=CHAT_TEMPLATE,
    )
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def mark_as_remote_code(folder: Path) -> None:
    """Make the folder's config claim its own code (``auto_map``), as the paper's reward model
    does, so the judge must be told to trust it."""
    cfg_path = folder / "config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["auto_map"] = {"AutoModelForSequenceClassification":
                       "modeling_reward.RewardForSequenceClassification"}
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
