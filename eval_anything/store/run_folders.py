"""Run folders named on a command line -> a store, for ``eval-anything view RUN_DIR...``.

The viewer reads run folders the way ``inspect view`` reads a log folder: no ``push`` first.
Each argument may be a run folder, a folder holding run folders (searched recursively, e.g.
``runs/``), or a glob (``'runs/*'``, for shells that leave it unexpanded). Nothing is dropped
silently: every argument that yields no run, every folder that is not a finished run, every
unreadable ``results.json`` and every second folder holding an already-seen run id is listed in
:attr:`FoundRuns.refused` with the reason and the fix.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

from eval_anything.core.results import RESULTS_FILE, SAMPLES_DIR, Results
from eval_anything.core.results_files import read_results
from eval_anything.errors import EnvironmentFailure, UserError
from eval_anything.store.engine import Store
from eval_anything.store.ingest import push

GLOB_CHARS = frozenset("*?[")


@dataclass
class FoundRuns:
    """The run folders to show (with their results) and what was not taken, with why."""

    runs: dict[Path, Results] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def refuse(self, what: str | Path, why: str) -> None:
        self.refused.append((str(what), why))


def _expand(arg: str, found: FoundRuns) -> list[Path]:
    if not GLOB_CHARS & set(arg):
        return [Path(arg).expanduser()]
    matches = sorted(glob.glob(str(Path(arg).expanduser())))
    if not matches:
        found.refuse(arg, "the pattern matches nothing")
    return [Path(m) for m in matches]


def _runs_in(path: Path, found: FoundRuns) -> list[Path]:
    """The run folders that ``path`` names or holds; a refusal when it holds none."""
    if not path.exists():
        found.refuse(path, "no such file or folder")
        return []
    if path.is_file():
        if path.name == RESULTS_FILE:
            return [path.parent]
        found.refuse(path, "a file, not a run folder (give the folder holding results.json)")
        return []
    if (path / RESULTS_FILE).is_file():
        return [path]
    if (path / SAMPLES_DIR).is_dir():
        found.refuse(path, "an unfinished run: samples/ but no results.json (rerun the same "
                     "command into this folder to finish it)")
        return []
    nested = sorted(p.parent for p in path.rglob(RESULTS_FILE) if p.is_file())
    if not nested:
        found.refuse(path, "not a run folder (no results.json) and holds none")
    return nested


def find_runs(args: list[str]) -> FoundRuns:
    """Resolve command-line arguments to run folders and read each ``results.json``."""
    found = FoundRuns()
    seen_ids: dict[str, Path] = {}
    for arg in args:
        for path in _expand(arg, found):
            for run_dir in _runs_in(path, found):
                key = run_dir.resolve()
                if key in found.runs:
                    continue  # the same folder named twice (runs/ and runs/x)
                try:
                    results = read_results(run_dir)
                except UserError as e:
                    found.refuse(run_dir, str(e))
                    continue
                first = seen_ids.get(results.run_id)
                if first is not None:
                    found.refuse(run_dir, f"holds run {results.run_id}, already shown from "
                                 f"{first} (a copy of that run folder?)")
                    continue
                seen_ids[results.run_id] = run_dir
                found.runs[key] = results
    return found


def fill_store(found: FoundRuns, store: Store) -> list[str]:
    """Push every found run into ``store``; a run the store refuses moves to ``refused``.
    Returns the run ids stored."""
    stored = []
    for run_dir in list(found.runs):
        try:
            stored.append(push(run_dir, store=store))
        except EnvironmentFailure:
            raise  # the store or the disk, not this run: stop, naming it
        except ValueError as e:  # UserError too: this run's files (duplicate ids, bad records)
            found.runs.pop(run_dir)
            found.refuse(run_dir, str(e))
    return stored
