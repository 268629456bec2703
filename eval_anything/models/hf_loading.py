"""Loading transformers models: plain folders, hub ids, GGUF files and PEFT adapters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval_anything.models.weights_identity import weights_identity


@dataclass
class Loaded:
    model: Any
    tokenizer: Any
    processor: Any | None
    base_identity: dict[str, Any] | None


#: files that say a checkpoint folder carries its own processor configuration
PROCESSOR_FILES = ("processor_config.json", "preprocessor_config.json")


def multimodal_auto_class(config: Any) -> Any | None:
    """The Auto class for models that take media through a processor, or None (text only)."""
    import transformers
    from transformers.models.auto import modeling_auto as auto

    if config.model_type in auto.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES:
        return transformers.AutoModelForImageTextToText
    if config.model_type in auto.MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES:
        return transformers.AutoModelForMultimodalLM
    return None


def load_model_and_tokenizer(
    pretrained: str,
    revision: str | None,
    dtype: Any,
    device: str,
    gguf_file: str | None = None,
    base: str | None = None,
    trust_remote_code: bool = False,
    config_overrides: dict[str, Any] | None = None,
) -> Loaded:
    """``config_overrides``: config fields set before the weights load, for the fields this
    config has (``enable_audio_output=False`` builds a Qwen-Omni model without its talker)."""
    import transformers

    path = Path(pretrained)
    adapter_cfg = path / "adapter_config.json"
    if path.is_dir() and adapter_cfg.exists():
        return _load_peft(path, adapter_cfg, base, dtype, device, trust_remote_code)
    if path.exists() is False and ("/" not in pretrained or pretrained.startswith((".", "/"))):
        raise FileNotFoundError(
            f"--model-args pretrained={pretrained}: no such folder "
            "(give a model folder or a hub id)"
        )
    kw: dict[str, Any] = {"revision": revision, "trust_remote_code": trust_remote_code}
    if gguf_file:
        kw["gguf_file"] = gguf_file
    config = transformers.AutoConfig.from_pretrained(pretrained, **kw)
    overrides = {k: v for k, v in (config_overrides or {}).items() if hasattr(config, k)}
    for key, value in overrides.items():
        setattr(config, key, value)
    processor = None
    auto_cls = multimodal_auto_class(config)
    if auto_cls is not None:
        processor = transformers.AutoProcessor.from_pretrained(pretrained, **kw)
        tokenizer = getattr(processor, "tokenizer", processor)
        if overrides:
            kw["config"] = config
        model = auto_cls.from_pretrained(pretrained, dtype=dtype, **kw)
    else:
        tokenizer = transformers.AutoTokenizer.from_pretrained(pretrained, **kw)
        model = transformers.AutoModelForCausalLM.from_pretrained(pretrained, dtype=dtype, **kw)
    model.to(device).eval()  # type: ignore[arg-type]
    return Loaded(model, tokenizer, processor, None)


def _load_peft(
    path: Path, adapter_cfg: Path, base: str | None, dtype: Any, device: str, trust: bool
) -> Loaded:
    """A PEFT adapter checkpoint, loaded on its base model and merged for fast inference."""
    import transformers
    from peft import PeftModel

    cfg = json.loads(adapter_cfg.read_text())
    base_path = base or cfg.get("base_model_name_or_path")
    if not base_path:
        raise ValueError(
            f"{adapter_cfg}: field 'base_model_name_or_path' is empty; pass --model-args base=DIR"
        )
    config = transformers.AutoConfig.from_pretrained(base_path, trust_remote_code=trust)
    # a media model's adapter goes on the same class and processor its base is scored with
    auto_cls = multimodal_auto_class(config)
    model = (auto_cls or transformers.AutoModelForCausalLM).from_pretrained(
        base_path, dtype=dtype, trust_remote_code=trust
    )
    model = PeftModel.from_pretrained(model, str(path)).merge_and_unload()
    tok_src = path if (path / "tokenizer_config.json").exists() else Path(base_path)
    processor = None
    if auto_cls is not None:
        has_own = any((path / f).exists() for f in PROCESSOR_FILES)
        processor = transformers.AutoProcessor.from_pretrained(
            str(path if has_own else base_path), trust_remote_code=trust
        )
        tokenizer = getattr(processor, "tokenizer", processor)
    else:
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            str(tok_src), trust_remote_code=trust
        )
    model.to(device).eval()
    return Loaded(
        model, tokenizer, processor, {"base": str(base_path), **weights_identity(str(base_path))}
    )
