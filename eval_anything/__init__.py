"""eval-anything: evaluation-first harness for all-modality models.

The public Python API; the CLI is a thin layer over these functions.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["evaluate", "rescore", "__version__"]


def evaluate(*args: Any, **kwargs: Any) -> Any:
    """Run models on tasks and write a run directory; see :func:`eval_anything.runner.evaluate`."""
    from eval_anything.runner import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


def rescore(*args: Any, **kwargs: Any) -> Any:
    """Re-judge an existing run without regenerating; see :func:`eval_anything.rescore.rescore`."""
    from eval_anything.rescore import rescore as _rescore

    return _rescore(*args, **kwargs)
