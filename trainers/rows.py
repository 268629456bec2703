"""Reading training rows: JSONL, JSON, Parquet, or a local Hugging Face ``datasets`` folder.

Everything is checked while reading, before a trainer writes anything: a row must be a JSON
object, and a NaN or an infinity anywhere in a row is refused (JSON's ``NaN``/``Infinity``
extensions, or a float column of a Parquet file) rather than turned into the string "nan" and
trained on. Media columns of a ``datasets`` folder (``Image``, ``Audio``, ``Video`` features)
are read undecoded, as ``{"bytes", "path"}``, so loading needs no audio or video decoder and the
media reach the layout readers exactly as stored.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from eval_anything.errors import ConfigError

ROW_SUFFIXES = (".jsonl", ".json", ".parquet")


def read_rows(path: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows of ``path`` (first ``limit``), each checked to be an object without NaN/infinity."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"field 'data.train': {p}: file not found")
    if p.is_dir():
        rows = _dataset_rows(p)
    elif p.suffix == ".parquet":
        rows = _parquet_rows(p)
    elif p.suffix == ".json":
        rows = _json_rows(p)
    elif p.suffix in (".jsonl", ".ndjson", ""):
        rows = _jsonl_rows(p)
    else:
        raise ConfigError(
            f"field 'data.train': {p}: unknown file type {p.suffix!r}; give a .jsonl, .json or "
            ".parquet file, or a folder written by datasets' save_to_disk"
        )
    if not rows:
        raise ConfigError(f"field 'data.train': {p}: no rows")
    rows = rows[:limit] if limit is not None else rows
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ConfigError(
                f"{p}: row {i}: expected a JSON object with named fields, got "
                f"{type(row).__name__}"
            )
        bad = _non_finite(row)
        if bad is not None:
            raise ConfigError(
                f"{p}: row {i}: field {bad!r} is NaN or infinite; fix or drop the row "
                "(numbers in training data must be finite)"
            )
    return rows


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _json_rows(p: Path) -> list[Any]:
    try:
        data = json.loads(_text(p), parse_constant=_refuse_constant)
    except ValueError as e:
        raise ConfigError(f"{p}: not valid JSON: {e}") from e
    rows = data if isinstance(data, list) else (
        (data.get("rows") or data.get("data")) if isinstance(data, dict) else None
    )
    if not isinstance(rows, list):
        raise ConfigError(f"{p}: expected a JSON list of rows (or {{'rows': [...]}})")
    return rows


def _jsonl_rows(p: Path) -> list[Any]:
    rows = []
    for lineno, line in enumerate(_text(p).splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line, parse_constant=_refuse_constant))
            except ValueError as e:
                raise ConfigError(f"{p}:{lineno}: not valid JSON: {e}") from e
    return rows


def _text(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not UTF-8 text ({e}); save the file as UTF-8") from e


def _parquet_rows(p: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(p)
    except Exception as e:  # pyarrow raises several types for a file that is not Parquet
        raise ConfigError(f"{p}: not a readable Parquet file: {e}") from e
    return list(table.to_pylist())


def _dataset_rows(p: Path) -> list[dict[str, Any]]:
    import datasets

    try:
        ds = datasets.load_from_disk(str(p))
    except FileNotFoundError as e:
        files = sorted(p.glob("*.parquet")) + sorted(p.glob("*/*.parquet"))
        if files:  # a downloaded snapshot: Parquet shards
            return [r for f in files for r in _parquet_rows(f)]
        raise ConfigError(
            f"field 'data.train': {p}: a folder, but neither a datasets save_to_disk folder nor "
            f"a snapshot with Parquet files ({e})"
        ) from e
    if isinstance(ds, datasets.DatasetDict):
        if "train" not in ds:
            raise ConfigError(f"{p}: a DatasetDict without a 'train' split (has {list(ds)})")
        ds = ds["train"]
    for name, feature in ds.features.items():
        media = isinstance(feature, datasets.Image | datasets.Audio)
        if media or type(feature).__name__ == "Video":
            ds = ds.cast_column(name, type(feature)(decode=False))
    return [dict(r) for r in ds]


def _non_finite(value: Any, name: str = "") -> str | None:
    """The dotted name of the first NaN/infinite float inside ``value``, or None."""
    if isinstance(value, float):
        return name if not math.isfinite(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = _non_finite(v, f"{name}.{k}" if name else str(k))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _non_finite(v, f"{name}[{i}]")
            if found is not None:
                return found
    return None
