"""Runs whose scores are a row of the paper's table, reduced by the real path: synthetic sample
records -> the bundled task specs' metrics -> the bundled groups' aggregators, as a run reduces
them. Shared by the golden test, the report CLI test and the leaderboard's paper view test."""

from __future__ import annotations

from pathlib import Path

from eval_anything.core.results import GroupResult, Results, SampleRecord, ScoreRecord, TaskResult
from eval_anything.run.reduce import reduce_groups, task_metrics
from eval_anything.scoring.paper_table import PaperRow
from eval_anything.spec.catalog import load_catalog
from eval_anything.store.synthetic import make_results, write_run

CATEGORIES = ("perception", "reasoning", "instruction-following", "safety")
PAIRS = ("ti", "ta", "ia")
SPREAD = 0.01  # each value is the mean of two items value +- SPREAD, so every metric has an SE
SHARES = {"t": 0.1, "i": 0.1, "a": 0.1, "ti": 0.3, "ta": 0.2, "ia": 0.1, "tia": 0.1}


def v(row: PaperRow, key: str) -> float:
    value = row.value(key)
    assert value is not None, f"{row.model}: no {key}"
    return value


def _records(score: str, value: float, **meta: object) -> list[SampleRecord]:
    tag = meta.get("evaluation_dimension", "")
    return [
        SampleRecord(sample_id=f"{score}-{tag}-{k}", input_ref="r", prompt_hash="p",
                     metadata=dict(meta), scores={score: ScoreRecord(value=value + sign * SPREAD)})
        for k, sign in enumerate((-1, 1))
    ]


def _synergy_records(row: PaperRow) -> list[SampleRecord]:
    out = []
    for k, sign in enumerate((-1, 1)):
        scores = {f"synergy/{p}": ScoreRecord(value=v(row, f"synergy_{p}") + sign * SPREAD)
                  for p in PAIRS}
        out.append(SampleRecord(sample_id=f"syn-{k}", input_ref="r", prompt_hash="p",
                                scores=scores))
    return out


def suite_records(row: PaperRow, prefix: str) -> dict[str, list[SampleRecord]]:
    """Per task of the suite (``prefix`` "" or "mini_"): records whose means are the row."""
    amu = [r for c in CATEGORIES for r in _records("amu", v(row, c), evaluation_dimension=c)]
    return {
        f"{prefix}amu": amu,
        f"{prefix}amg_if_text": _records("instruction_following", v(row, "if_t")),
        f"{prefix}amg_if_image": _records("instruction_following", v(row, "if_i")),
        f"{prefix}amg_if_audio": _records("instruction_following", v(row, "if_a")),
        f"{prefix}amg_if_video": _records("instruction_following", 5.0),
        f"{prefix}amg_modality_selection": _records("selection", v(row, "select"),
                                                    selection=SHARES),
        f"{prefix}amg_modality_synergy": _synergy_records(row),
    }


def reduce_tasks(
    suite: str, prefix: str, row: PaperRow
) -> tuple[dict[str, TaskResult], dict[str, GroupResult], dict[str, list[SampleRecord]]]:
    catalog = load_catalog()
    tasks, groups = catalog.expand([suite])
    records = suite_records(row, prefix)
    assert sorted(tasks) == sorted(records)
    results = {}
    for name in tasks:
        spec = catalog.tasks[name]
        metrics, unscored = task_metrics(spec, records[name])
        results[name] = TaskResult(
            task=name, task_version=spec.version, task_fingerprint=f"fp-{name}",
            n=len(records[name]), n_unscored=unscored, metrics=metrics,
            primary_metric=spec.primary_metric, input_modalities=spec.input_modalities,
            output_modalities=spec.output_modalities,
        )
    return results, reduce_groups(groups, catalog, results, dict(catalog.tasks)), records


def reduce_suite(suite: str, prefix: str, row: PaperRow) -> dict[str, GroupResult]:
    """The groups of ``suite`` as a run of it would reduce the row's records."""
    return reduce_tasks(suite, prefix, row)[1]


def paper_run(root: Path, row: PaperRow, run_id: str, suite: str = "eval-anything-mini",
              model_name: str | None = None, minute: int = 0) -> Path:
    """A run folder (results.json + samples) of ``suite`` scoring like ``row``."""
    prefix = "mini_" if suite.endswith("-mini") else ""
    tasks, groups, records = reduce_tasks(suite, prefix, row)
    results: Results = make_results(run_id, tasks, model_name=model_name or row.model,
                                    created_at=f"2026-01-01T01:{minute:02d}:00+00:00")
    results = results.model_copy(update={"groups": groups})
    return write_run(root / run_id, results, records)
