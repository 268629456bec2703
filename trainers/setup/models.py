"""The model side of a training run: which checkpoint, its tokenizer or processor, the policy
with its head, LoRA, and whether the processor takes the media the rows carry.

A model that takes media is recognized by the same rule the ``hf`` adapter loads checkpoints by
(:func:`eval_anything.models.hf_loading.multimodal_auto_class`), so training and scoring agree on
the class and the processor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eval_anything.errors import ConfigError
from eval_anything.trainers.config import TrainConfig
from eval_anything.trainers.data.examples import Completion, Pair

#: models to suggest when rows carry a modality the chosen model does not take
MEDIA_MODEL_EXAMPLES = {
    "image": "LLaVA, Qwen2-VL", "audio": "Qwen2-Audio", "video": "Qwen2-VL, LLaVA-NeXT-Video",
}


def resolve_model_path(path: str) -> str:
    """'smollm2' is the bundled SmolLM2-135M-Instruct, converted once to a cached folder."""
    if path == "smollm2":
        from eval_anything.models.smollm2 import ensure_converted

        return str(ensure_converted())
    return path


def media_auto_class(path: str, trust_remote_code: bool = False) -> Any | None:
    """The Auto class of a model that takes media through a processor (image-text-to-text,
    multimodal LM: LLaVA, Qwen2-VL, Qwen2-Audio...), or None for a text-only model."""
    import transformers

    from eval_anything.models.hf_loading import multimodal_auto_class

    try:
        config = transformers.AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError):
        return None
    return multimodal_auto_class(config)


def load_tokenizer(cfg: TrainConfig) -> Any:
    """The tokenizer, or the processor of a model that takes media, with a pad token set."""
    import transformers

    src = resolve_model_path(cfg.model.tokenizer or cfg.model.path)
    trust = cfg.model.trust_remote_code
    if media_auto_class(src, trust) is not None:
        loaded = transformers.AutoProcessor.from_pretrained(src, trust_remote_code=trust)
    else:
        loaded = transformers.AutoTokenizer.from_pretrained(src, trust_remote_code=trust)
    tok = text_tokenizer(loaded)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return loaded


def text_tokenizer(processing_class: Any) -> Any:
    """The tokenizer inside a processor (or the tokenizer itself)."""
    return getattr(processing_class, "tokenizer", processing_class)


def load_policy(cfg: TrainConfig, head: str = "causal_lm", tokenizer: Any = None) -> Any:
    """The model to train, in fp32 (mixed precision is the trainer's autocast, not the weights).
    ``head="reward"`` is a one-logit sequence classifier whose padding is the tokenizer's."""
    import torch
    import transformers

    path = resolve_model_path(cfg.model.path)
    kw: dict[str, Any] = {"dtype": torch.float32, "trust_remote_code": cfg.model.trust_remote_code}
    if head == "reward":
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=1, **kw
        )
        if model.config.pad_token_id is None and tokenizer is not None:
            model.config.pad_token_id = tokenizer.pad_token_id
        return model
    auto = media_auto_class(path, cfg.model.trust_remote_code)
    if auto is not None:
        return auto.from_pretrained(path, **kw)
    return transformers.AutoModelForCausalLM.from_pretrained(path, **kw)


def peft_config(cfg: TrainConfig, task_type: str = "CAUSAL_LM") -> Any:
    """peft's LoRA config from ``model.lora``, or None to train every weight."""
    if cfg.model.lora is None:
        return None
    from peft import LoraConfig

    lora = cfg.model.lora
    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        task_type=task_type,
    )


def accepted_modalities(processing: Any) -> tuple[str, ...]:
    """What the model's processor can prepare (``("text",)`` for a tokenizer)."""
    from eval_anything.models.hf_av import accepted_modalities as accepted

    if getattr(processing, "tokenizer", None) is None:
        return ("text",)
    return accepted(processing)


def check_media(cfg: TrainConfig, items: Sequence[Pair | Completion], processing: Any) -> None:
    """Every row's media must reach the model: a modality its processor does not take stops the
    run (exit 2) naming the file, row, field and modality. Never a text-only fallback."""
    accepted = accepted_modalities(processing)
    for item in items:
        for m in item.media:
            if m.modality in accepted:
                continue
            kind = "text-only" if accepted == ("text",) else f"takes only {', '.join(accepted)}"
            raise ConfigError(
                f"{item.source or cfg.where()}: field {m.field!r} holds {m.modality}, but model "
                f"{cfg.model.path!r} is {kind}; train a model whose processor takes {m.modality} "
                f"(e.g. {MEDIA_MODEL_EXAMPLES[m.modality]}), or remove the field from the data"
            )
    if any(item.media for item in items) and not getattr(processing, "chat_template", None):
        raise ConfigError(
            f"{cfg.where()}: model {cfg.model.path!r}: its processor has no chat template, which "
            "places the media tokens in the prompt; save the processor with one"
        )
