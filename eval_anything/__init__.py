"""eval-anything: evaluation-first harness for all-modality models.

The public Python API; the CLI is a thin layer over these functions. ``evaluate`` and ``rescore``
are imported on first use (``import eval_anything`` stays cheap) and are the real functions, with
their signatures: :func:`eval_anything.run.runner.evaluate` and
:func:`eval_anything.run.rescore.rescore`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["evaluate", "rescore", "__version__"]

if TYPE_CHECKING:
    from eval_anything.run.rescore import rescore
    from eval_anything.run.runner import evaluate

_LAZY = {"evaluate": "eval_anything.run.runner", "rescore": "eval_anything.run.rescore"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'eval_anything' has no attribute {name!r}")
