"""EvalAnything-Selection_Synergy rows -> Samples (loader ``eval_anything_selection``).

Fields: ``instruction_uid``, ``instruction`` and ``selection``: the crowd's vote shares over the
seven output combinations ``t, i, a, ti, ta, ia, tia``. Shares that do not sum to 1 (raw vote
counts) are divided by their sum; the record notes it. The same rows drive the modality
selection task and the modality synergy task.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from eval_anything.core.content import TextPart
from eval_anything.core.sample import Sample
from eval_anything.formats.fields import FormatError, require
from eval_anything.registry import register
from eval_anything.scoring.selection import COMBINATIONS

FORMAT = "EvalAnything-Selection_Synergy"
FIELDS = ("instruction_uid", "instruction", "selection")


def vote_shares(raw: Any) -> tuple[dict[str, float], bool]:
    """Validated shares for all seven combinations, and whether they were normalized."""
    if not isinstance(raw, dict):
        raise FormatError(f"{FORMAT} field 'selection' must be an object of vote shares "
                          f"keyed {', '.join(COMBINATIONS)}")
    unknown = sorted(set(raw) - set(COMBINATIONS))
    if unknown:
        raise FormatError(f"{FORMAT} field 'selection' has unknown combinations {unknown}; "
                          f"expected {', '.join(COMBINATIONS)}")
    shares: dict[str, float] = {}
    for combo in COMBINATIONS:
        value = raw.get(combo, 0.0)
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise FormatError(
                f"{FORMAT} field 'selection.{combo}' is not a number: {value!r}"
            ) from None
        if v < 0 or math.isnan(v):
            raise FormatError(f"{FORMAT} field 'selection.{combo}' must be >= 0 (got {v})")
        shares[combo] = v
    total = sum(shares.values())
    if total <= 0:
        raise FormatError(f"{FORMAT} field 'selection' has no votes (all shares are 0)")
    if abs(total - 1.0) > 1e-3:
        return {k: v / total for k, v in shares.items()}, True
    return shares, False


@register("loader", "eval_anything_selection")
def selection_loader(row: dict[str, Any], index: int, base_dir: Path, **_: Any) -> Sample:
    require(row, FORMAT, FIELDS)
    shares, normalized = vote_shares(row["selection"])
    meta: dict[str, Any] = {
        "instruction_uid": str(row["instruction_uid"]),
        "instruction": str(row["instruction"]),
        "selection": shares,
    }
    if normalized:
        meta["selection_normalized"] = True
    return Sample(id=str(row["instruction_uid"]), input=[TextPart(text=str(row["instruction"]))],
                  metadata=meta)
