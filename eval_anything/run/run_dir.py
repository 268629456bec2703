"""The run directory's identity file, ``run.json``: it makes a rerun into the same folder a
resume, and refuses to mix two different evaluations in one folder. Also how a run's files are
carried into another run folder (rescoring, merging shards)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from eval_anything.core.results import Lineage, RunSpec
from eval_anything.core.results_files import atomic_write_text
from eval_anything.errors import UserError

RUN_FILE = "run.json"
# fields that must match for a folder to be resumed (tasks and limit may grow)
_MUST_MATCH = ("model", "seed", "judges", "gen_overrides", "shard", "judge_repeats")
_DEFAULTS = {"judge_repeats": 1}  # fields newer than some run.json files: absent means this


class RunDirError(UserError):
    pass


def prepare_run_dir(
    run_dir: Path, spec: RunSpec, model_identity: str, lineage: Lineage | None,
    former_identity: str | None = None,
) -> str:
    """Create or reopen ``run_dir``; returns the run id (kept across resumes).
    ``former_identity``: the identity the same model was recorded under before model
    identities left out the adapter and the label (the adapter identity); a folder written
    then is resumed, and its ``run.json`` takes the current identity."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / RUN_FILE
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if former_identity is not None and old.get("model_identity") == former_identity != (
                model_identity):
            old["model_identity"] = model_identity
            atomic_write_text(path, json.dumps(old, indent=2))
        if old.get("model_identity") != model_identity:
            raise RunDirError(
                f"{run_dir}: holds a run of a different model (identity "
                f"{str(old.get('model_identity'))[:12]}, now {model_identity[:12]}); use a new "
                "--output-dir, or delete the folder to start over"
            )
        for key in _MUST_MATCH:
            if old.get("spec", {}).get(key, _DEFAULTS.get(key)) != spec.model_dump(
                    mode="json").get(key):
                raise RunDirError(
                    f"{run_dir}/{RUN_FILE}: field 'spec.{key}' differs from this run "
                    f"({old['spec'].get(key)!r} there); use a new --output-dir to change it"
                )
        return str(old["run_id"])
    run_id = uuid.uuid4().hex[:16]
    atomic_write_text(
        path,
        json.dumps(
            {
                "run_id": run_id,
                "model_identity": model_identity,
                "spec": spec.model_dump(mode="json"),
                "lineage": lineage.model_dump(mode="json") if lineage else None,
            },
            indent=2,
        ),
    )
    return run_id


def copy_files(
    src: Path, dest: Path, on_existing: Callable[[Path, Path], None] | None = None
) -> None:
    """Every file under ``src`` put at the same place under ``dest``, hard-linked where the file
    system allows (run outputs are never rewritten), else copied. A file already at ``dest`` is
    kept; ``on_existing(file, dest_file)`` may refuse it. A missing ``src`` holds nothing."""
    if not src.is_dir():
        return
    for f in sorted(src.rglob("*")):
        if not f.is_file():
            continue
        target = dest / f.relative_to(src)
        if target.exists():
            if on_existing is not None:
                on_existing(f, target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(f, target)
        except OSError:
            shutil.copy2(f, target)
