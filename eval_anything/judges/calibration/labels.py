"""A judged run (or several) against human labels: ``eval-anything agreement RUN... --labels F``.

A labels file is JSONL, one row per labelled item: ``{"task", "sample_id", "label"}``, with
``score`` (which of the task's scores the label measures; default the score behind the task's
primary metric) and ``run_id`` (which run's sample, when several runs hold the same task and
sample id) optional; any other field (an annotator, a note) is kept out of the way.

The label's kind decides the figures (:mod:`eval_anything.stats.agreement`):

- ``"A"``, ``"B"`` or ``"tie"``: a pairwise preference (the judge's 1 / 0 / 0.5 verdict; ``A``
  is the answer the judge saw first, the model's);
- ``0`` or ``1`` where every verdict the judge gave the score is either end of the task's scale
  (TIFA's 0 or 10, a pass/fail judge's 0 or 1): binary, the top end being 1;
- any other number: a rating on the task's declared scale (the task YAML's ``scale``).

Items are joined by (task, sample id) to the run's sample log; an item the judge left unscored
is counted (``n_unscored``), never joined as a zero; an item a rule scored instead of the judge
(the model produced no image: ``rule:missing-output``) is counted apart (``n_rule_scored``);
a label whose sample is in no run is counted (``n_unmatched``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval_anything.core import json_rows
from eval_anything.core.results import Results, SampleRecord, primary_score_name
from eval_anything.core.results_files import read_results, read_sample_records
from eval_anything.errors import UserError
from eval_anything.judges.calibration.report import (
    FIGURES_BY_KIND,
    AgreementReport,
    ScoreAgreement,
    TaskAgreement,
)
from eval_anything.scoring.judged import MISSING_OUTPUT_RULE
from eval_anything.spec.task import ScaleSpec
from eval_anything.stats import agreement as stats

PAIRWISE_LABELS = {"A": 0, "B": 1, "tie": 2}
_PAIRWISE_VERDICTS = {1.0: 0, 0.0: 1, 0.5: 2}
# scores a rule gave instead of the judge are named "rule:<what>" (MISSING_OUTPUT_RULE)
RULE_PREFIX = MISSING_OUTPUT_RULE.split(":", 1)[0] + ":"


class LabelsError(UserError):
    """A labels file that cannot be used; the message names the file, line, field and fix."""


@dataclass(frozen=True)
class LabelRow:
    line: int
    task: str
    sample_id: str
    label: float | str
    score: str | None = None
    run_id: str | None = None


def read_labels(path: Path | str) -> list[LabelRow]:
    """Every row of a labels file, checked (JSON object, fields present and typed, no
    duplicates); a bad row is a :class:`LabelsError` naming the line, field and fix."""
    p = Path(path)
    if not p.is_file():
        raise LabelsError(f"--labels {p}: file not found")
    rows: list[LabelRow] = []
    seen: dict[tuple[str, str | None, str, str | None], int] = {}
    try:
        for line, value in json_rows.jsonl_values(p):
            row = _label_row(p, line, value)
            key = (row.task, row.score, row.sample_id, row.run_id)
            if key in seen:
                raise LabelsError(
                    f"{p}:{line}: sample {row.sample_id!r} of task {row.task!r} is labelled "
                    f"again (first on line {seen[key]}); keep one label per item"
                )
            seen[key] = line
            rows.append(row)
    except json_rows.RowError as e:
        raise LabelsError(f"{p}:{e.line}: {e}; each line must be one JSON object") from None
    except OSError as e:
        raise LabelsError(f"--labels {p}: cannot read it ({e.strerror})") from None
    if not rows:
        raise LabelsError(f"{p}: no label rows; write one JSON object per line: "
                          '{"task": ..., "sample_id": ..., "label": ...}')
    return rows


def _label_row(p: Path, line: int, value: Any) -> LabelRow:
    where = f"{p}:{line}"
    example = '{"task": "mini_amu", "sample_id": "amu-mini-001", "label": 7}'
    if not isinstance(value, dict):
        raise LabelsError(f"{where}: expected a JSON object like {example}, got "
                          f"{type(value).__name__}")
    for name in ("task", "sample_id", "label"):
        if name not in value or value[name] is None:
            raise LabelsError(f"{where}: field {name!r} is missing; every row needs task, "
                              f"sample_id and label, like {example}")
    task, sample_id, label = value["task"], value["sample_id"], value["label"]
    if not isinstance(task, str) or not task:
        raise LabelsError(f"{where}: field 'task' must be a task name (text), got {task!r}")
    if isinstance(sample_id, bool) or not isinstance(sample_id, str | int):
        raise LabelsError(f"{where}: field 'sample_id' must be the sample's id (text), got "
                          f"{sample_id!r}")
    if isinstance(label, bool) or not isinstance(label, str | int | float):
        raise LabelsError(
            f"{where}: field 'label' must be a rating (a number), A, B or tie, or 0/1; got "
            f"{label!r}"
        )
    if isinstance(label, str) and label not in PAIRWISE_LABELS:
        raise LabelsError(f"{where}: field 'label': {label!r} is not a preference; write "
                          "\"A\", \"B\" or \"tie\" (or a number for a rating)")
    optional: dict[str, str | None] = {}
    for name in ("score", "run_id"):
        got = value.get(name)
        if got is not None and (not isinstance(got, str) or not got):
            raise LabelsError(f"{where}: field {name!r} must be text, got {got!r}")
        optional[name] = got
    return LabelRow(line, task, str(sample_id), label if isinstance(label, str)
                    else float(label), optional["score"], optional["run_id"])


# ---------------------------------------------------------------------- joining runs


@dataclass
class _Run:
    path: Path
    results: Results
    _records: dict[str, dict[str, SampleRecord]] = field(default_factory=dict)

    def names(self) -> set[str]:
        return {self.results.run_id, self.path.name}

    def records(self, task: str) -> dict[str, SampleRecord]:
        if task not in self._records:
            recs = read_sample_records(self.path, task) if task in self.results.tasks else []
            self._records[task] = {r.sample_id: r for r in recs}
        return self._records[task]


@dataclass
class _Joined:
    judge: list[float] = field(default_factory=list)
    human: list[float | str] = field(default_factory=list)
    rows: list[LabelRow] = field(default_factory=list)
    judges: dict[str, set[str]] = field(default_factory=dict)  # run folder -> identities
    n_unscored: int = 0
    n_unmatched: int = 0
    n_rule_scored: int = 0


def agreement_with_labels(
    run_dirs: Sequence[Path | str], labels: Path | str,
    include_paths: Sequence[Path | str] = (), resamples: int = stats.DEFAULT_RESAMPLES,
    seed: int = stats.DEFAULT_SEED,
) -> AgreementReport:
    """Each labelled task and score of ``labels`` joined to the runs and measured."""
    if not run_dirs:
        raise LabelsError("give at least one judged run folder: eval-anything agreement RUN_DIR "
                          "--labels LABELS.jsonl")
    path = Path(labels)
    rows = read_labels(path)
    runs = [_Run(Path(d), read_results(Path(d))) for d in run_dirs]
    scales = _scales([r.task for r in rows if any(r.task in run.results.tasks for run in runs)],
                     include_paths)
    by_task: dict[str, list[LabelRow]] = {}
    for row in rows:
        by_task.setdefault(row.task, []).append(row)
    report = AgreementReport()
    for task, task_rows in by_task.items():
        report.tasks[task] = _task_agreement(path, task, task_rows, runs, scales.get(task),
                                             resamples, seed)
    return report


def _scales(tasks: list[str], include_paths: Sequence[Path | str]) -> dict[str, ScaleSpec | None]:
    if not tasks:
        return {}
    from eval_anything.spec.catalog import load_catalog

    catalog = load_catalog(include_paths)
    return {t: catalog.tasks[t].scale for t in tasks if t in catalog.tasks}


def _task_agreement(path: Path, task: str, rows: list[LabelRow], runs: list[_Run],
                    scale: ScaleSpec | None, resamples: int, seed: int) -> TaskAgreement:
    holders = [run for run in runs if task in run.results.tasks]
    if not holders:
        kind = "pairwise" if isinstance(rows[0].label, str) else "rating"
        lone = ScoreAgreement(score=rows[0].score, kind=kind, n_labels=len(rows),
                              n_unmatched=len(rows), resamples=resamples, seed=seed,
                              figures=_undefined(kind),
                              notes=[f"task {task!r} is in none of the runs"])
        return TaskAgreement(headline=lone, scores={lone.score or "": lone})
    first = holders[0]
    default = primary_score_name(first.results.tasks[task],
                                 list(first.records(task).values())) or ""
    by_score: dict[str, list[LabelRow]] = {}
    for row in rows:
        by_score.setdefault(row.score or default, []).append(row)
    scores = {name: _score_agreement(path, task, name, score_rows, holders, scale, resamples,
                                     seed)
              for name, score_rows in by_score.items()}
    headline = scores.get(default) or scores[sorted(scores)[0]]
    return TaskAgreement(headline=headline, scores=scores)


def _score_agreement(path: Path, task: str, score: str, rows: list[LabelRow],
                     runs: list[_Run], scale: ScaleSpec | None, resamples: int,
                     seed: int) -> ScoreAgreement:
    known = {name for run in runs for rec in run.records(task).values() for name in rec.scores}
    if score not in known:
        raise LabelsError(
            f"{path}:{rows[0].line}: field 'score': {score!r} is not a score of task {task!r} "
            f"in the runs; its scores are {', '.join(sorted(known)) or '(none)'}"
        )
    joined = _join(path, task, score, rows, runs)
    kind = _kind(path, task, score, joined, rows, scale)
    judges = _judges(path, task, score, joined, runs)
    notes = [] if scale is not None else [
        f"task {task!r} is not in the task catalog: labels were not checked against its "
        "scale (pass --include-path with the folder of its YAML)"]
    return ScoreAgreement(
        score=score, kind=kind, judges=judges, n=len(joined.judge), n_labels=len(rows),
        n_unscored=joined.n_unscored, n_unmatched=joined.n_unmatched,
        n_rule_scored=joined.n_rule_scored, resamples=resamples, seed=seed, notes=notes,
        figures=_figures(kind, joined, scale, resamples, seed),
    )


def _join(path: Path, task: str, score: str, rows: list[LabelRow], runs: list[_Run]) -> _Joined:
    out = _Joined()
    for row in rows:
        where = [run for run in runs if row.run_id is None or row.run_id in run.names()]
        hits = [(run, run.records(task)[row.sample_id]) for run in where
                if row.sample_id in run.records(task)]
        if len(hits) > 1:
            names = ", ".join(str(run.path) for run, _ in hits)
            raise LabelsError(
                f"{path}:{row.line}: sample {row.sample_id!r} of task {task!r} is in {len(hits)} "
                f"runs ({names}); add \"run_id\" to the row, or compare one run at a time"
            )
        if not hits:
            out.n_unmatched += 1
            continue
        run, rec = hits[0]
        got = rec.scores.get(score)
        if got is not None and (got.judge or "").startswith(RULE_PREFIX):
            out.n_rule_scored += 1
            continue
        if got is None or got.value is None:
            out.n_unscored += 1
            continue
        out.judge.append(float(got.value))
        out.human.append(row.label)
        out.rows.append(row)
        ident = {got.judge} if got.judge else {j.identity for j in run.results.tasks[task].judges}
        out.judges.setdefault(str(run.path), set()).update(ident)
    return out


def _kind(path: Path, task: str, score: str, joined: _Joined, rows: list[LabelRow],
          scale: ScaleSpec | None) -> str:
    """pairwise, binary or rating (module doc), every label checked against it."""
    text = isinstance(rows[0].label, str)
    for row in rows:
        if isinstance(row.label, str) != text:
            want = "A, B or tie like line" if text else "a number like line"
            raise LabelsError(f"{path}:{row.line}: field 'label': {row.label!r} mixes kinds; "
                              f"task {task!r} score {score!r} takes {want} {rows[0].line}")
    if text:
        odd = [v for v in joined.judge if v not in _PAIRWISE_VERDICTS]
        if odd:
            raise LabelsError(
                f"{path}:{rows[0].line}: field 'label': A/B/tie labels need a pairwise judge's "
                f"verdicts (1, 0.5, 0), but task {task!r} score {score!r} holds ratings (e.g. "
                f"{odd[0]:g}); label it with numbers on the task's scale"
            )
        return "pairwise"
    low, high = (scale.min, scale.max) if scale is not None else (0.0, 1.0)
    labels = [float(r.label) for r in rows]
    if (joined.judge and all(v in (low, high) for v in joined.judge)
            and all(v in (0.0, 1.0) for v in labels)):
        return "binary"
    if scale is not None:
        for row in rows:
            if not low <= float(row.label) <= high:
                raise LabelsError(
                    f"{path}:{row.line}: field 'label': {row.label:g} is off the scale of task "
                    f"{task!r} ({scale.label()}); give a rating from {low:g} to {high:g}"
                )
    return "rating"


def _judges(path: Path, task: str, score: str, joined: _Joined, runs: list[_Run]) -> list[str]:
    sets = {frozenset(v) for v in joined.judges.values()}
    if len(sets) > 1:
        said = "; ".join(f"{run}: {', '.join(sorted(v))}" for run, v in joined.judges.items())
        raise LabelsError(
            f"{path}: task {task!r} score {score!r} was judged by different judges in the runs "
            f"({said}); figures would mix them: compare one run at a time"
        )
    return sorted(next(iter(sets))) if sets else []


def _undefined(kind: str) -> dict[str, stats.Figure]:
    return {name: stats.Figure(value=None) for name in FIGURES_BY_KIND[kind]}


def _figures(kind: str, joined: _Joined, scale: ScaleSpec | None, resamples: int,
             seed: int) -> dict[str, stats.Figure]:
    kw: dict[str, Any] = {"resamples": resamples, "seed": seed}
    if kind == "pairwise":
        judge = [_PAIRWISE_VERDICTS[v] for v in joined.judge]
        human = [PAIRWISE_LABELS[str(v)] for v in joined.human]
        return stats.choice_agreement(judge, human, categories=[0, 1, 2], tie=2, **kw)
    if kind == "binary":
        top = scale.max if scale is not None else 1.0
        judge_codes = [int(v == top) for v in joined.judge]
        human_codes = [int(float(v)) for v in joined.human]
        return stats.choice_agreement(judge_codes, human_codes, categories=[0, 1], **kw)
    categories = (stats.rating_categories(scale.min, scale.max) if scale is not None else None)
    human_ratings = [float(v) for v in joined.human]
    return stats.rating_agreement(joined.judge, human_ratings, categories=categories, **kw)
