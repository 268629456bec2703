"""The CI regression gate: is the candidate run at least as good as the baseline, task by task?

Per task the two runs are paired on the same items (sample id; the task fingerprints must match,
and the judges too, unless forced) and the per-item difference ``d = candidate - baseline`` of the
task's primary score is tested. The direction comes from the task's declared scale
(``scale.higher_is_better`` in its YAML; higher is better when undeclared): for a lower-is-better
task the scores are turned first (``paired.oriented``), so ``d`` is always "positive = better"
and a regression is a rise. The decision rule (also in docs/gate.md):

* ``p`` tests H0 "the candidate is not worse than baseline - margin" against a regression beyond
  the margin. Binary scores without clusters: ``p = max(McNemar exact one-sided p, normal p of
  (mean(d) + margin) / SE)`` -- both a real regression and one beyond the margin must show.
  Binary with clusters: the normal test with the cluster-robust SE (McNemar assumes independent
  items). Other scores: paired bootstrap (items or whole clusters resampled, seeded), shift
  method.
* Holm's step-down adjustment across the compared tasks gives ``p_holm``.
* FAIL when ``p_holm < alpha``; else PASS when the lower bound of the two-sided ``1 - alpha``
  interval of the mean difference is above ``-margin`` (non-inferior); else INCONCLUSIVE.
* With ``min_judge_agreement`` X: a judged task (one whose run names a judge) whose measured
  judge agreement (the lowest of both runs' ``judge_agreement`` values: a panel's or repeats'
  alpha, a kappa against labels) is below X, or is unknown, is INCONCLUSIVE whatever its test
  says: a verdict is no firmer than the judge behind it. Tasks scored without a judge are
  unaffected.
* Overall: FAIL if any task fails, PASS if every task passes, else INCONCLUSIVE.

No multiplicity correction is needed for PASS: the run passes only when *every* task passes
(an intersection-union test keeps the error rate at alpha without adjusting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from eval_anything.core.results import SampleRecord, primary_score_name
from eval_anything.gate.inputs import GateInputError, RunSource, load_run
from eval_anything.gate.overlap_notes import train_overlap_notes
from eval_anything.stats.paired import holm
from eval_anything.stats.run_pair import RunPairComparison, compare_records

Verdict = Literal["PASS", "FAIL", "INCONCLUSIVE"]


class TaskComparison(RunPairComparison):
    """The paired comparison of one task (the numbers are
    :class:`~eval_anything.stats.run_pair.RunPairComparison`'s) with the gate's decision."""

    task: str
    p_value: float = Field(default=1.0, description="The gate's p: ``p_regression``.")
    p_holm: float = 1.0
    verdict: Verdict = "INCONCLUSIVE"
    judge_agreement: float | None = Field(
        default=None, description="Lowest measured agreement of the task's judge in either "
        "run (None: not judged, or not measured).",
    )


class GateReport(BaseModel):
    """Everything the gate decided, with the numbers behind each verdict."""

    baseline: str
    candidate: str
    baseline_run_id: str
    candidate_run_id: str
    margin: float
    alpha: float
    forced: bool = False
    tasks: list[TaskComparison]
    verdict: Verdict
    warnings: list[str] = Field(default_factory=list)

    def exit_code(self, strict: bool = False) -> int:
        """0 pass (and inconclusive unless ``strict``), 1 fail."""
        if self.verdict == "FAIL" or (strict and self.verdict == "INCONCLUSIVE"):
            return 1
        return 0


def gate(
    baseline: str | Path | RunSource,
    candidate: str | Path | RunSource,
    tasks: list[str] | None = None,
    margin: float = 0.01,
    alpha: float = 0.05,
    force: bool = False,
    store_url: str | None = None,
    seed: int = 0,
    n_boot: int = 2000,
    directions: dict[str, bool] | None = None,
    min_judge_agreement: float | None = None,
) -> GateReport:
    """Compare ``candidate`` with ``baseline`` (run dirs or store run ids); see the module doc
    for the rule. ``directions``: task -> higher is better (default: the declared scales of the
    bundled and plugin tasks). Raises :class:`GateInputError` for runs that cannot be compared
    as asked. ``min_judge_agreement``: judged tasks whose judge agreement is below it (or
    unknown) are INCONCLUSIVE (module doc)."""
    if margin < 0 or not 0 < alpha < 1:
        raise GateInputError(f"need margin >= 0 and 0 < alpha < 1 (got {margin}, {alpha})")
    base = baseline if isinstance(baseline, RunSource) else load_run(baseline, store_url)
    cand = candidate if isinstance(candidate, RunSource) else load_run(candidate, store_url)
    names, warnings = _tasks_to_compare(base, cand, tasks)
    warnings += _check_comparable(base, cand, names, force)
    higher = declared_directions() if directions is None else directions
    comparisons = []
    for name in names:
        score = primary_score_name(base.results.tasks[name], base.records(name))
        if score is None:
            raise GateInputError(f"task {name!r}: the baseline's records carry no scores")
        comparisons.append(
            compare_task(
                name, score, base.records(name), cand.records(name), margin, alpha, seed, n_boot,
                higher_is_better=higher.get(name, True),
            )
        )
    for comp in comparisons:
        comp.judge_agreement = judge_agreement(base, cand, comp.task)
    report = decide(base, cand, comparisons, margin, alpha, force, warnings, min_judge_agreement)
    for comp in report.tasks:
        comp.notes += train_overlap_notes(comp.task, base.results, cand.results)
    return report


def judge_agreement(base: RunSource, cand: RunSource, task: str) -> float | None:
    """The lowest judge agreement either run measured for ``task`` (None when unknown)."""
    known = [v for v in (src.results.tasks[task].lowest_judge_agreement()
                         for src in (base, cand)) if v is not None]
    return min(known) if known else None


def is_judged(base: RunSource, cand: RunSource, task: str) -> bool:
    return any(src.results.tasks[task].judges for src in (base, cand))


def apply_judge_floor(comp: TaskComparison, judged: bool, floor: float | None) -> None:
    """INCONCLUSIVE for a judged task whose judge agreement is below ``floor`` or unknown."""
    if floor is None or not judged:
        return
    value = comp.judge_agreement
    if value is None:
        comp.notes.append(f"judge agreement unknown (--min-judge-agreement {floor:g}): measure "
                          "it with a panel, --judge-repeats or `eval-anything agreement --write`")
    elif value < floor:
        comp.notes.append(f"judge agreement {value:.3f} is below --min-judge-agreement "
                          f"{floor:g}")
    else:
        return
    comp.verdict = "INCONCLUSIVE"


def declared_directions() -> dict[str, bool]:
    """Task -> higher is better, from the declared scales of the bundled and plugin tasks."""
    from eval_anything.scoring.scales import scales_of
    from eval_anything.spec.catalog import load_catalog

    return {name: scale.higher_is_better for name, scale in scales_of(load_catalog()).items()}


def decide(
    base: RunSource,
    cand: RunSource,
    comparisons: list[TaskComparison],
    margin: float,
    alpha: float,
    force: bool,
    warnings: list[str],
    min_judge_agreement: float | None = None,
) -> GateReport:
    """Holm across tasks, then each task's verdict (held at INCONCLUSIVE where the judge is
    not trusted enough) and the overall one."""
    adjusted = holm([c.p_value for c in comparisons])
    for comp, p_adj in zip(comparisons, adjusted, strict=True):
        comp.p_holm = p_adj
        comp.verdict = task_verdict(comp, margin, alpha)
        apply_judge_floor(comp, is_judged(base, cand, comp.task), min_judge_agreement)
    verdicts = {c.verdict for c in comparisons}
    overall: Verdict = (
        "FAIL" if "FAIL" in verdicts else ("PASS" if verdicts == {"PASS"} else "INCONCLUSIVE")
    )
    return GateReport(
        baseline=base.label,
        candidate=cand.label,
        baseline_run_id=base.results.run_id,
        candidate_run_id=cand.results.run_id,
        margin=margin,
        alpha=alpha,
        forced=force,
        tasks=comparisons,
        verdict=overall,
        warnings=warnings,
    )


def task_verdict(comp: TaskComparison, margin: float, alpha: float) -> Verdict:
    if comp.n_pairs < 2:
        return "INCONCLUSIVE"
    if comp.p_holm < alpha:
        return "FAIL"
    if comp.ci_low > -margin:
        return "PASS"
    return "INCONCLUSIVE"


def compare_task(
    task: str,
    score: str,
    base_records: list[SampleRecord],
    cand_records: list[SampleRecord],
    margin: float = 0.01,
    alpha: float = 0.05,
    seed: int = 0,
    n_boot: int = 2000,
    higher_is_better: bool = True,
) -> TaskComparison:
    """Pair two runs' records of one task by sample id and test the difference (before Holm);
    ``higher_is_better=False`` turns the scores first, so a rise counts as the regression. The
    numbers are :func:`eval_anything.stats.run_pair.compare_records`'s, the one computation of
    a paired comparison that the leaderboard and the demo show too."""
    pair = compare_records(base_records, cand_records, score, higher_is_better, margin, alpha,
                           seed, n_boot)
    return TaskComparison(task=task, p_value=pair.p_regression, **pair.model_dump())


def _tasks_to_compare(
    base: RunSource, cand: RunSource, wanted: list[str] | None
) -> tuple[list[str], list[str]]:
    b, c = base.results.tasks, cand.results.tasks
    if wanted:
        missing = [
            f"{t!r} (not in {who})"
            for t in wanted
            for who, tasks in (("baseline", b), ("candidate", c))
            if t not in tasks
        ]
        if missing:
            raise GateInputError(
                f"--tasks: {', '.join(missing)}; the baseline has {sorted(b)}, the candidate "
                f"{sorted(c)}"
            )
        return list(dict.fromkeys(wanted)), []
    common = [t for t in b if t in c]
    if not common:
        raise GateInputError(
            f"the runs share no task: baseline {base.label} has {sorted(b)}, candidate "
            f"{cand.label} has {sorted(c)}"
        )
    only = sorted((b.keys() | c.keys()) - set(common))
    warnings = [f"tasks in only one run are not gated: {', '.join(only)}"] if only else []
    return common, warnings


def _check_comparable(base: RunSource, cand: RunSource, names: list[str], force: bool) -> list[str]:
    problems = []
    for name in names:
        bt, ct = base.results.tasks[name], cand.results.tasks[name]
        if bt.task_fingerprint != ct.task_fingerprint:
            problems.append(
                f"task {name!r}: task_fingerprint differs (baseline {bt.task_fingerprint[:12]}, "
                f"candidate {ct.task_fingerprint[:12]}): different items, prompts or limit"
            )
        bj = sorted((j.role, j.identity, j.template_hash or "") for j in bt.judges)
        cj = sorted((j.role, j.identity, j.template_hash or "") for j in ct.judges)
        if bj != cj:
            problems.append(f"task {name!r}: judges differ (baseline {bj}, candidate {cj})")
    if problems and not force:
        raise GateInputError(
            "runs are not comparable:\n  "
            + "\n  ".join(problems)
            + "\nrescore both with the same task version and judges, or pass --force"
        )
    return [f"forced: {p}" for p in problems]


__all__ = ["GateInputError", "GateReport", "TaskComparison", "compare_task", "gate"]
