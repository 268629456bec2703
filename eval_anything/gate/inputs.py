"""What the gate (and the store) need from a run: its results, its sample records per task, and
which per-sample score is the task's primary one.

A run is named by its directory (holding ``results.json``) or by its run id in the store; both
give the same :class:`RunSource`, so the gate never cares where a run came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from eval_anything.core.results import RESULTS_FILE, Results, SampleRecord
from eval_anything.core.results_files import read_results, read_sample_records
from eval_anything.errors import UserError


class GateInputError(UserError):
    """Runs that cannot be compared as asked (missing, mismatched); the CLI exits 2."""


@dataclass
class RunSource:
    """A run's results plus a loader of its sample records (loaded once per task)."""

    label: str
    results: Results
    _load: Callable[[str], list[SampleRecord]]
    _cache: dict[str, list[SampleRecord]] = field(default_factory=dict)

    def records(self, task: str) -> list[SampleRecord]:
        if task not in self._cache:
            self._cache[task] = self._load(task)
        return self._cache[task]


def run_from_dir(run_dir: Path) -> RunSource:
    try:
        results = read_results(run_dir)
    except ValidationError as e:
        where = Path(run_dir) / RESULTS_FILE
        raise GateInputError(f"{where}: not a valid results file: {e}") from e
    return RunSource(str(run_dir), results, lambda task: read_sample_records(run_dir, task))


def load_run(ref: str | Path, store_url: str | None = None) -> RunSource:
    """A run by directory, or else by run id (or a unique prefix of one) in the store."""
    path = Path(ref)
    if (path / RESULTS_FILE).exists():
        return run_from_dir(path)
    if path.exists():
        raise GateInputError(f"{path}: no {RESULTS_FILE} here; give a run directory or a run id")
    from eval_anything.store import normalize_url, open_store
    from eval_anything.store.config import sqlite_file
    from eval_anything.store.queries import load_results, resolve_run_id, sample_records

    db_file = sqlite_file(normalize_url(store_url))
    if db_file is not None and not db_file.exists():
        raise GateInputError(
            f"{ref!r}: not a run directory, and there is no store at {db_file} to look it up in "
            "(give a run directory, or --store URL)"
        )
    with open_store(store_url) as store:
        run_id = resolve_run_id(store, str(ref))
        if run_id is None:
            raise GateInputError(
                f"{ref!r}: not a run directory, and no run with that id in store {store!r} "
                "(push it with `eval-anything push RUN_DIR`, or pass --store)"
            )
        results = load_results(store, run_id)
        url = store.url

    def load(task: str) -> list[SampleRecord]:
        with open_store(url, migrate=False) as s:
            return sample_records(s, run_id, task)

    return RunSource(f"{run_id} (store)", results, load)
