"""Agreement with human labels kept in the run it measures (``eval-anything agreement RUN...
--labels F --write``), so ``report``, the leaderboard and the gate show it beside the score.

Each run is measured on its own (its items only, never pooled with another run's), and each
labelled score becomes one :class:`~eval_anything.core.results.JudgeAgreement` with
``source="labels"``: its ``value`` is the chance-corrected figure comparable with a panel's
alpha (quadratic-weighted kappa for ratings, Cohen's kappa for binary and pairwise labels), and
``figures`` holds the others (spearman, accuracy, ...). A later ``--write`` with labels for the
same score replaces the earlier entry; entries from panels and repeats are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eval_anything.core.results import JudgeAgreement, Results
from eval_anything.core.results_files import read_results, write_results
from eval_anything.judges.calibration.labels import agreement_with_labels
from eval_anything.judges.calibration.report import AgreementReport, ScoreAgreement
from eval_anything.run.folder_lock import FolderLock

HEADLINE_FIGURE = {"rating": "kappa_quadratic", "binary": "kappa", "pairwise": "kappa"}


def as_recorded(score: ScoreAgreement) -> JudgeAgreement:
    """One labelled score's measurement in the results file's terms."""
    statistic = HEADLINE_FIGURE.get(score.kind, "kappa")
    head = score.figures.get(statistic)
    return JudgeAgreement(
        score=score.score or "", source="labels", judge=", ".join(score.judges) or None,
        statistic=statistic, value=None if head is None else head.value,
        ci_low=None if head is None else head.ci_low,
        ci_high=None if head is None else head.ci_high, n=score.n,
        figures={name: fig.value for name, fig in score.figures.items() if name != statistic},
    )


def record_in_results(results: Results, report: AgreementReport) -> Results:
    """``results`` with the report's label agreement of each of its tasks recorded."""
    tasks = dict(results.tasks)
    for task, measured in report.tasks.items():
        if task not in tasks:
            continue
        new = [as_recorded(s) for s in measured.scores.values() if s.n > 0]
        if not new:
            continue
        replaced = {a.score for a in new}
        kept = [a for a in tasks[task].judge_agreement
                if not (a.source == "labels" and a.score in replaced)]
        tasks[task] = tasks[task].model_copy(update={"judge_agreement": [*kept, *new]})
    return results.model_copy(update={"tasks": tasks})


def write_label_agreement(
    run_dirs: Sequence[Path | str], labels: Path | str, include_paths: Sequence[Path | str] = (),
    resamples: int = 1000, seed: int = 0,
) -> dict[str, AgreementReport]:
    """Measure each run against ``labels`` on its own and record the figures in its
    ``results.json``; returns each run folder's report."""
    out: dict[str, AgreementReport] = {}
    for d in run_dirs:
        run_dir = Path(d)
        report = agreement_with_labels([run_dir], labels, include_paths=include_paths,
                                       resamples=resamples, seed=seed)
        with FolderLock(run_dir, what="run folder"):
            write_results(run_dir, record_in_results(read_results(run_dir), report))
        out[str(run_dir)] = report
    return out
