"""Dataset sources: bundled JSONL files, or Hugging Face ``datasets`` at a pinned revision.
Rows become Samples through a registered loader (``loader:`` in the task YAML)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from eval_anything import registry
from eval_anything.sample import Sample
from eval_anything.task import TaskSpec, TaskSpecError


def iter_rows(spec: TaskSpec) -> tuple[Iterator[dict[str, Any]], Path]:
    """Raw rows and the folder relative media paths resolve against."""
    src = spec.source
    if src.jsonl is not None:
        path = (spec.base_dir / src.jsonl).resolve()
        if not path.exists():
            raise TaskSpecError(f"{spec.file}: field 'source.jsonl': file not found: {path}")
        return _jsonl_rows(path), path.parent
    assert src.hf is not None
    import datasets

    hf = src.hf
    ds = datasets.load_dataset(
        hf.path, hf.name, revision=hf.revision, split=hf.split, data_files=hf.data_files
    )
    base = Path(hf.path) if Path(hf.path).is_dir() else Path.cwd()
    return (dict(r) for r in ds), base


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                raise TaskSpecError(f"{path}:{lineno}: not valid JSON: {e}") from e


def load_samples(spec: TaskSpec, limit: int | None = None) -> list[Sample]:
    """All samples of a task (the first ``limit`` when given), media paths made absolute."""
    loader = registry.get("loader", spec.loader.name, where=f"{spec.file}: field 'loader'")
    rows, base = iter_rows(spec)
    data = spec.source.jsonl or (spec.source.hf.path if spec.source.hf else "?")
    samples: list[Sample] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if limit is not None and len(samples) >= limit:
            break
        try:
            sample = loader(row, index=i, base_dir=base, **spec.loader.args)
        except (ValidationError, KeyError, TypeError, ValueError) as e:
            raise TaskSpecError(
                f"{spec.file}: row {i} of {data} does not fit loader {spec.loader.name!r}: {e}"
            ) from e
        if sample.id in seen:
            raise TaskSpecError(
                f"{spec.file}: duplicate sample id {sample.id!r} at row {i} of {data}; "
                "ids must be unique within a task"
            )
        seen.add(sample.id)
        sample = sample.absolutize(base)
        check_media(spec, sample, i)
        samples.append(sample)
    if not samples:
        where = spec.source.jsonl or (spec.source.hf.path if spec.source.hf else "")
        raise TaskSpecError(
            f"{spec.file}: field 'source': the dataset {where} has no samples; "
            "point it at a file with at least one row"
        )
    return samples


def check_media(spec: TaskSpec, sample: Sample, row: int) -> None:
    """Every referenced media file exists and (images, audio) decodes, before any model call."""
    for k, part in enumerate(sample.input):
        path = getattr(part, "path", None)
        if path is None:
            continue
        where = f"{spec.file}: row {row} (sample {sample.id!r}), field 'input[{k}].path'"
        p = Path(path)
        if not p.exists():
            raise TaskSpecError(
                f"{where}: {part.type} file not found: {p}; fix the path or add the file"
            )
        if part.type == "image" and p.is_file():
            from PIL import Image, UnidentifiedImageError

            try:
                with Image.open(p) as img:
                    img.verify()
            except (UnidentifiedImageError, OSError, SyntaxError) as e:
                raise TaskSpecError(
                    f"{where}: {p} is not a readable image ({e}); replace it"
                ) from e
        elif part.type == "audio":
            import soundfile as sf

            try:
                sf.info(str(p))
            except RuntimeError as e:
                raise TaskSpecError(f"{where}: {p} is not a readable audio file ({e})") from e


@registry.register("loader", "sample")
def sample_loader(row: dict[str, Any], index: int, base_dir: Path, **_: Any) -> Sample:
    """Rows already in the Sample format (id, input parts, target, ...)."""
    return Sample.model_validate(row)


@registry.register("loader", "qa")
def qa_loader(
    row: dict[str, Any],
    index: int,
    base_dir: Path,
    id_field: str = "id",
    question_field: str = "question",
    answer_field: str = "answer",
    choices_field: str | None = None,
    cluster_field: str | None = None,
    **_: Any,
) -> Sample:
    """Flat question/answer rows; an integer answer with choices is the index of the right one."""
    from eval_anything.content import TextPart

    choices = row.get(choices_field) if choices_field else None
    answer = row.get(answer_field)
    target_index = answer if isinstance(answer, int) and choices else None
    target = choices[answer] if target_index is not None and choices else answer
    meta = {k: v for k, v in row.items() if k not in (id_field, question_field)}
    return Sample(
        id=str(row.get(id_field, index)),
        input=[TextPart(text=str(row[question_field]))],
        target=None if target is None else str(target),
        choices=choices,
        target_index=target_index,
        metadata=meta,
        cluster=str(row[cluster_field]) if cluster_field and cluster_field in row else None,
    )
