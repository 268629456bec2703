"""One writer per training output folder, for the lifetime of the run.

A second training into the same folder is refused with exit 2 naming the holder (the lock is
:class:`eval_anything.run.folder_lock.FolderLock`). Locking creates the folder, so it is taken
only after the data and the config were validated.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eval_anything.trainers.config import TrainConfig

_HELD: dict[Path, Any] = {}


def hold_output_dir(cfg: TrainConfig) -> None:
    """Lock ``output_dir`` for this process. Re-entrant within a process (LLF's DPO stage
    trains into the folder LLF holds); :func:`release_output_dirs` frees them."""
    from eval_anything.run.folder_lock import FolderLock

    path = cfg.output_dir.resolve()
    if path not in _HELD:
        _HELD[path] = FolderLock(path, what="training output folder").acquire()


def release_output_dirs(keep: frozenset[Path] = frozenset()) -> None:
    for path in [p for p in _HELD if p not in keep]:
        _HELD.pop(path).release()


@contextlib.contextmanager
def lock_scope() -> Iterator[None]:
    """Free, on exit, the output folders locked inside the block (not those held before)."""
    before = frozenset(_HELD)
    try:
        yield
    finally:
        release_output_dirs(keep=before)
