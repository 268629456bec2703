"""Reading and writing a run's files: ``RUN_DIR/results.json`` and the sample logs
``RUN_DIR/samples/<task>.jsonl`` (their types are in :mod:`eval_anything.core.results`).

The schema is versioned; readers refuse a newer version. ``results.json`` is written atomically
(a temporary file in the same folder, then a rename). A sample log is appended whole lines at a
time while its task runs (a torn last line left by a kill is cut on the next append), and is
rewritten atomically to one line per sample id when the task ends or resumes; in between, the
last line of an id is the one that counts (:func:`read_sample_records`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from eval_anything.core import json_rows
from eval_anything.core.results import (
    RESULTS_FILE,
    SAMPLES_DIR,
    SCHEMA_VERSION,
    Results,
    SampleRecord,
)
from eval_anything.errors import UserError, environment_failure, first_field_error
from eval_anything.redact import redact


class SchemaVersionError(UserError):
    pass


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """A full disk, a folder we may not write, a read-only file system: one line naming
    ``path`` and the fix (exit 4) instead of a traceback."""
    try:
        yield
    except OSError as e:
        env = environment_failure(e, path)
        if env is None:
            raise
        raise env from e


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (secrets redacted) to a temporary file beside ``path``, then rename: a
    reader sees the old file or the new one, never half of one."""
    text = redact(text)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def write_results(run_dir: Path, results: Results) -> Path:
    path = Path(run_dir) / RESULTS_FILE
    atomic_write_text(path, results.model_dump_json(indent=2))
    results._run_dir = Path(run_dir)
    return path


class ResultsFileError(UserError):
    """A results file or sample log that cannot be read; the message names the file (and line)."""


def read_results(run_dir: Path) -> Results:
    """``RUN_DIR/results.json``, strictly: a missing, truncated or invalid file is an error
    naming the file (and the line of a JSON error, or the field of a schema error)."""
    path = Path(run_dir) / RESULTS_FILE
    if not path.is_file():
        raise ResultsFileError(
            f"{path}: no results file (is {run_dir} a run directory? a run writes it when it ends)"
        )
    try:
        raw = json_rows.loads(path.read_bytes())
    except json_rows.RowError as e:
        at = f":{e.line}" if e.line is not None else ""
        raise ResultsFileError(
            f"{path}{at}: {e}; the file was truncated or edited: rerun into the run folder to "
            "write it again"
        ) from None
    except OSError as e:
        raise ResultsFileError(f"{path}: cannot read it ({e.strerror})") from None
    if not isinstance(raw, dict):
        raise ResultsFileError(f"{path}: expected a JSON object, got {type(raw).__name__}")
    version = raw.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path}: schema_version {version!r} is not supported by this eval-anything "
            f"(reads up to {SCHEMA_VERSION}); upgrade eval-anything"
        )
    try:
        results = Results.model_validate(raw)
    except ValidationError as e:
        problem = first_field_error(e)
        raise ResultsFileError(f"{path}: not a valid results file: {problem}") from None
    results._run_dir = Path(run_dir)
    return results


def samples_path(run_dir: Path, task: str) -> Path:
    return Path(run_dir) / SAMPLES_DIR / f"{task}.jsonl"


def iter_sample_records(path: Path) -> Iterator[SampleRecord]:
    """Records of a sample log, in file order. A torn *last* line (a kill mid-write, no newline
    after it) is ignored, and repaired by the next append; any other unreadable line is an error
    naming the file and the line, never skipped. Rows are read by the one strict row reader
    (:mod:`eval_anything.core.json_rows`): a NaN a hand edit put in a score is refused."""
    if not path.exists():
        return
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ResultsFileError(f"{path}: cannot read it ({e.strerror})") from None
    lines = raw.split(b"\n")
    torn_tail = not raw.endswith(b"\n")
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = _parse_record(line, lineno)
        except (json_rows.RowError, ValidationError) as e:
            if torn_tail and lineno == len(lines):
                return
            problem = first_field_error(e) if isinstance(e, ValidationError) else str(e)
            raise ResultsFileError(
                f"{path}:{lineno}: not a sample record: {problem}; the sample log was "
                "edited or damaged: remove that line (a rerun recomputes the sample)"
            ) from None
        yield record


def _parse_record(line: bytes, lineno: int | None = None) -> SampleRecord:
    """One line of a sample log; raises ``RowError`` (NaN, Infinity) or ``ValidationError``.

    pydantic's JSON parser (the fast path: a log is read whole at every resume) accepts NaN and
    Infinity, so a line holding either word goes through the strict reader first, which
    decides (the words may just be text inside a string)."""
    if b"NaN" in line or b"Infinity" in line:
        json_rows.loads(line, lineno)
    return SampleRecord.model_validate_json(line)


def read_sample_records(run_dir: Path, task: str) -> list[SampleRecord]:
    """The task's records, one per sample id. A task's log holds one line per id once the task
    has ended; while it runs (or after a kill) a retried item may have a second line, and the
    last line of an id is the one that counts, so every reader goes through here."""
    return list(last_per_id(iter_sample_records(samples_path(run_dir, task))).values())


def last_per_id(records: Iterable[SampleRecord]) -> dict[str, SampleRecord]:
    """The last record of each sample id, in the order ids first appear."""
    by_id: dict[str, SampleRecord] = {}
    for rec in records:
        by_id[rec.sample_id] = rec
    return by_id


def append_sample_records(
    path: Path, records: Iterable[SampleRecord], fsync: bool = True
) -> None:
    """Append whole lines, so a kill loses at most the batch in flight; ``fsync`` also forces
    them to disk (a killed process loses nothing once written; fsync guards against the
    machine going down, and the runner's sample log spaces its fsyncs out)."""
    with open_sample_log(path) as f:
        write_sample_lines(f, path, records, fsync)


def open_sample_log(path: Path) -> TextIO:
    """The sample log ``path`` opened for appending (its folder made, a torn last line cut):
    a writer that appends many times keeps it open rather than paying this per append."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        f = path.open("a", encoding="utf-8")
        try:
            if f.tell() > 0:
                _repair_torn_tail(path, f)
        except BaseException:
            f.close()
            raise
        return f


def write_sample_lines(
    f: TextIO, path: Path, records: Iterable[SampleRecord], fsync: bool = True
) -> None:
    """Append ``records`` (secrets redacted) as whole lines to ``f``, opened by
    :func:`open_sample_log`, and hand them to the operating system at once."""
    lines = redact("".join(r.model_dump_json() + "\n" for r in records))
    with writing(path):
        start = f.tell()
        try:
            f.write(lines)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        except OSError:
            _truncate_quietly(f, start)  # a full disk leaves no torn line behind
            raise


def _repair_torn_tail(path: Path, f: Any) -> None:
    """Cut a torn last line (a kill mid-write) so the next record starts on a line of its own
    and the log holds only whole records."""
    with path.open("rb") as r:
        r.seek(-1, os.SEEK_END)
        if r.read(1) == b"\n":
            return  # the common case: one byte read, whatever the log's size
        keep, tail = _last_line(r)
    try:
        _parse_record(tail)
        f.write("\n")  # a whole record that lacks only its newline: keep it
        return
    except (json_rows.RowError, ValidationError):
        pass
    f.flush()
    f.truncate(keep)
    f.seek(keep)


def _last_line(r: Any, chunk: int = 1 << 16) -> tuple[int, bytes]:
    """Offset and bytes of the last (unterminated) line, read backwards chunk by chunk."""
    end = r.seek(0, os.SEEK_END)
    pos, tail = end, b""
    while pos > 0:
        step = min(chunk, pos)
        pos -= step
        r.seek(pos)
        tail = r.read(step) + tail
        cut = tail.rfind(b"\n")
        if cut >= 0:
            return pos + cut + 1, tail[cut + 1 :]
    return 0, tail


def _truncate_quietly(f: Any, size: int) -> None:
    try:
        f.truncate(size)
    except OSError:
        pass


def write_sample_records(path: Path, records: Iterable[SampleRecord]) -> None:
    """Write a whole sample log atomically (a temporary file, then a rename): a kill at any
    moment leaves the old log or the new one, never a mix."""
    atomic_write_text(path, "".join(r.model_dump_json() + "\n" for r in records))

