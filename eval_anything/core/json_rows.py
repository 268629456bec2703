"""Reading JSON rows strictly, the one rule for every file of rows we read (task data, training
rows, results files and sample logs).

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity`` although JSON does not; such a
value would reach a scorer or a trainer as a float that poisons every mean, or as the string
"nan" after a round trip. They are refused here, with the line and the dotted field, so each
caller can wrap the problem in its own error type (task spec, training config, results file).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class RowError(ValueError):
    """A row that cannot be used: not JSON, not UTF-8, or holding a non-finite number.
    ``line`` is the 1-based line of a JSONL file (None for a whole-file JSON document)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def _refuse(name: str) -> Any:
    raise RowError(f"{name} is not a number JSON allows; write null for a missing value")


def loads(text: str | bytes, line: int | None = None) -> Any:
    """``json.loads`` that refuses NaN/Infinity; every problem is a :class:`RowError`."""
    try:
        return json.loads(text, parse_constant=_refuse)
    except RowError as e:
        raise RowError(str(e), line) from None
    except json.JSONDecodeError as e:
        raise RowError(f"not valid JSON: {e}", line if line is not None else e.lineno) from None
    except UnicodeDecodeError as e:
        raise RowError(f"not UTF-8 text ({e.reason}); save the file as UTF-8", line) from None


def jsonl_values(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each non-blank line of a JSONL file, read as UTF-8 and parsed
    with :func:`loads`. Raises :class:`RowError` (with the line) or ``OSError``."""
    with Path(path).open("rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                problem = f"not UTF-8 text ({e.reason}); save the file as UTF-8"
                raise RowError(problem, lineno) from None
            if line.strip():
                yield lineno, loads(line, lineno)


def non_finite_field(value: Any, name: str = "") -> str | None:
    """The dotted name of the first NaN or infinite float inside ``value`` (rows that did not
    come through :func:`loads`: Parquet columns, ``datasets`` rows), or None."""
    if isinstance(value, float):
        return (name or "(value)") if not math.isfinite(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = non_finite_field(v, f"{name}.{k}" if name else str(k))
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = non_finite_field(v, f"{name}[{i}]")
            if found is not None:
                return found
    return None
