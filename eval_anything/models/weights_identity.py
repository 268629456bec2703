"""Identity of a model's weights, for cache keys (two checkpoints must never share answers) and
for the model identity that results and the leaderboard group runs by.

A local folder is identified by the sha256 of its config files and of every weight file's bytes
(hashes are remembered per (path, size, mtime) in a small side file so a 500 MB checkpoint is
read once). A hub id is identified by its id and revision.

:func:`checkpoint_identity` is the model identity of every adapter that loads checkpoint weights
(``hf``, ``smollm2``, ``vllm``): the weights and the settings that change what is generated, never
the adapter's name, the ``name=`` label or the folder's path, so one checkpoint is one model on
the leaderboard whichever of them evaluated it (the adapter is recorded beside it).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eval_anything.paths import models_dir

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".ckpt")
CONFIG_FILES = (
    "config.json",
    "generation_config.json",
    "adapter_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
    "preprocessor_config.json",
    "processor_config.json",
    "special_tokens_map.json",
    "open_clip_config.json",
)
_CHUNK = 1 << 20
# adapter identity fields that change what loaded weights generate; unset ones are left out, so
# an adapter without a setting and one that leaves it unset agree (vLLM has no LoRA base, hf no
# KV-cache dtype)
GENERATION_SETTINGS = (
    "base", "gguf_file", "dtype", "quantization", "kv_cache_dtype", "tokenizer",
    "add_bos_token", "chat_template", "video_audio", "media",
)


def _memo_path() -> Path:
    return models_dir() / "weights_hashes.json"


def file_sha256(path: Path) -> str:
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    memo_file = _memo_path()
    memo: dict[str, str] = {}
    if memo_file.exists():
        try:
            memo = json.loads(memo_file.read_text())
        except (OSError, ValueError):
            memo = {}
    if key in memo:
        return memo[key]
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    digest = h.hexdigest()
    memo[key] = digest
    try:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(memo))
        os.replace(tmp, memo_file)
    except OSError:
        pass
    return digest


def folder_identity(folder: Path) -> dict[str, str]:
    """File name -> sha256 for the config and weight files of a model folder."""
    out: dict[str, str] = {}
    for f in sorted(folder.iterdir()):
        if f.is_file() and (f.name in CONFIG_FILES or f.suffix in WEIGHT_SUFFIXES):
            out[f.name] = file_sha256(f)
    return out


def weights_identity(pretrained: str, revision: str | None = None) -> dict[str, object]:
    path = Path(pretrained)
    if path.is_dir():
        files = folder_identity(path)
        digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
        return {"kind": "local", "sha256": digest}
    if path.is_file():
        return {"kind": "file", "sha256": file_sha256(path)}
    return {"kind": "hub", "id": pretrained, "revision": revision or "main"}


def checkpoint_identity(adapter_identity: Mapping[str, Any]) -> dict[str, Any]:
    """The model identity of checkpoint weights from an adapter's identity: its ``weights``
    and the :data:`GENERATION_SETTINGS` it sets. Left out: the adapter, the label (``name``,
    which defaults to the path) and serving knobs (context length, parallelism, batch sizes)."""
    settings = {
        k: adapter_identity[k] for k in GENERATION_SETTINGS if adapter_identity.get(k) is not None
    }
    return {"weights": adapter_identity["weights"], **settings}
