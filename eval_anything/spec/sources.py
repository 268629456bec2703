"""Dataset sources: bundled JSONL files, or Hugging Face ``datasets`` at a pinned revision.
Rows become Samples through a registered loader (``loader:`` in the task YAML)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from eval_anything import registry
from eval_anything.core.json_rows import RowError, jsonl_values, non_finite_field
from eval_anything.core.sample import Sample
from eval_anything.spec.task import TaskSpec, TaskSpecError


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
    """Rows of a JSONL file, read by the one strict row reader (:mod:`eval_anything.core.json_rows`:
    UTF-8, no NaN/Infinity, which would reach scorers as the string "nan"); each must be a JSON
    object."""
    try:
        for lineno, row in jsonl_values(path):
            if not isinstance(row, dict):
                raise TaskSpecError(
                    f"{path}:{lineno}: a row must be a JSON object, got a "
                    f"{type(row).__name__}; write one object per line"
                )
            yield row
    except RowError as e:
        raise TaskSpecError(f"{path}:{e.line}: {e}") from None
    except OSError as e:
        raise TaskSpecError(f"{path}: cannot read the data file ({e.strerror})") from e


def _check_finite(row: dict[str, Any], where: str) -> None:
    """NaN or Infinity anywhere in a row that did not come through our JSON reader (a
    ``datasets`` row, a Parquet column)."""
    field = non_finite_field(row)
    if field is not None:
        raise TaskSpecError(
            f"{where}, field {field!r}: holds a NaN or infinite number; write null for a "
            "missing value"
        )


def load_samples(spec: TaskSpec, limit: int | None = None) -> list[Sample]:
    """All samples of a task (the first ``limit`` when given), media paths made absolute and
    checked: inside the dataset folder (or the loader's ``media_root``), and decodable."""
    if limit is not None and limit < 1:
        raise TaskSpecError(f"--limit {limit}: give a positive number of samples per task")
    loader = registry.loader(spec.loader.name, where=f"{spec.file}: field 'loader'")
    rows, base = iter_rows(spec)
    roots = media_roots(spec, base)
    data = spec.source.jsonl or (spec.source.hf.path if spec.source.hf else "?")
    samples: list[Sample] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if limit is not None and len(samples) >= limit:
            break
        if spec.source.hf is not None:  # JSONL rows were checked as they were parsed
            _check_finite(row, f"{spec.file}: row {i} of {data}")
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
        check_media(spec, sample, i, roots)
        samples.append(sample)
    if not samples:
        where = spec.source.jsonl or (spec.source.hf.path if spec.source.hf else "")
        raise TaskSpecError(
            f"{spec.file}: field 'source': the dataset {where} has no samples; "
            "point it at a file with at least one row"
        )
    return samples


def media_roots(spec: TaskSpec, base: Path) -> list[Path]:
    """Folders media may come from: the dataset's folder, and the loader's ``media_root``
    (relative to the dataset folder, or absolute) when the task configures one."""
    roots = [base.resolve()]
    extra = spec.loader.args.get("media_root")
    if extra:
        roots.append((base / str(extra)).resolve())
    return roots


def check_media(
    spec: TaskSpec, sample: Sample, row: int, roots: list[Path] | None = None
) -> None:
    """Every referenced media file lies inside ``roots`` (symlinks resolved), exists, and is
    what it claims (image, audio, video header decodes), before any model call."""
    for k, part in enumerate(sample.input):
        path = getattr(part, "path", None)
        if path is None:
            continue
        where = f"{spec.file}: row {row} (sample {sample.id!r}), field 'input[{k}].path'"
        p = Path(path).resolve()
        if roots is not None and not any(p.is_relative_to(r) for r in roots):
            shown = path if str(p) == path else f"{path} (resolved: {p})"
            raise TaskSpecError(
                f"{where}: {shown} is outside the dataset folder {roots[0]}; keep media inside "
                f"it, or name the folder that holds them in {spec.file} as "
                "'loader: {name: ..., args: {media_root: DIR}}'"
            )
        if not p.exists():
            raise TaskSpecError(
                f"{where}: {part.type} file not found: {p}; fix the path or add the file"
            )
        problem = media_problem(part.type, p)
        if problem:
            raise TaskSpecError(
                f"{where}: {p} is not a readable {part.type} ({problem}); replace it"
            )


def media_problem(kind: str, p: Path) -> str | None:
    """Why ``p`` does not decode as ``kind`` (None when it does)."""
    if kind == "image":
        if not p.is_file():
            return "not a file"
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(p) as img:
                img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
            return str(e)
    elif kind == "audio":
        if not p.is_file():
            return "not a file"
        import soundfile as sf

        try:
            sf.info(str(p))
        except (RuntimeError, sf.LibsndfileError) as e:
            return str(e)
    elif kind == "video":
        return _video_problem(p)
    return None


def _video_problem(p: Path) -> str | None:
    """A video file or frame folder must probe (open, a stream that decodes, frames)."""
    from eval_anything.media.video import VideoError, probe_video

    try:
        probe_video(p)
    except VideoError as e:
        return str(e).replace(f"{p}: ", "")
    return None


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
    from eval_anything.core.content import TextPart

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
