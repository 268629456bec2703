"""Where eval-anything keeps its files. The one place that reads path environment variables.

- ``EVAL_ANYTHING_HOME`` (default ``~/.cache/eval_anything``): root of everything below.
- ``EVAL_ANYTHING_CACHE_DIR``: the response/judgment cache (default ``$HOME_DIR/``).
- ``EVAL_ANYTHING_MODELS_DIR``: converted models such as smollm2 (default ``$HOME_DIR/models``).
"""

from __future__ import annotations

import os
from pathlib import Path


def home_dir() -> Path:
    return Path(os.environ.get("EVAL_ANYTHING_HOME") or Path.home() / ".cache" / "eval_anything")


def cache_dir() -> Path:
    return Path(os.environ.get("EVAL_ANYTHING_CACHE_DIR") or home_dir())


def models_dir() -> Path:
    return Path(os.environ.get("EVAL_ANYTHING_MODELS_DIR") or home_dir() / "models")
