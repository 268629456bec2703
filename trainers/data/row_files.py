"""Reading a file of training rows: JSONL, JSON, Parquet, or a local Hugging Face ``datasets``
folder, into raw rows (``dict``), before any layout is looked at.

Everything is checked while reading, before a trainer writes anything: a row must be a JSON
object, and a NaN or an infinity anywhere in a row is refused rather than turned into the string
"nan" and trained on. JSON text is parsed by the shared strict reader
(:mod:`eval_anything.core.json_rows`), which refuses JSON's ``NaN``/``Infinity`` extensions with
the line; rows that did not come from JSON text (a Parquet float column, a ``datasets`` folder)
are searched for non-finite numbers by its :func:`~eval_anything.core.json_rows.non_finite_field`,
which names the field. Media columns of a ``datasets`` folder (``Image``, ``Audio``, ``Video``
features) are read undecoded, as ``{"bytes", "path"}``, so loading needs no audio or video
decoder and the media reach the layout readers exactly as stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval_anything.core.json_rows import RowError, jsonl_values, loads, non_finite_field
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
        bad = non_finite_field(row)
        if bad is not None:
            raise ConfigError(
                f"{p}: row {i}: field {bad!r} is NaN or infinite; fix or drop the row "
                "(numbers in training data must be finite)"
            )
    return rows


def _row_error(p: Path, e: RowError) -> ConfigError:
    """The file and line of a row the strict reader refused, with its reason and fix."""
    where = f"{p}:{e.line}" if e.line is not None else str(p)
    return ConfigError(f"{where}: {e}")


def _json_rows(p: Path) -> list[Any]:
    try:
        data = loads(p.read_bytes())
    except RowError as e:
        raise _row_error(p, e) from None
    rows = data if isinstance(data, list) else (
        (data.get("rows") or data.get("data")) if isinstance(data, dict) else None
    )
    if not isinstance(rows, list):
        raise ConfigError(f"{p}: expected a JSON list of rows (or {{'rows': [...]}})")
    return rows


def _jsonl_rows(p: Path) -> list[Any]:
    try:
        return [value for _, value in jsonl_values(p)]
    except RowError as e:
        raise _row_error(p, e) from None


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
