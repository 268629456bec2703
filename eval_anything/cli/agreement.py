"""``eval-anything agreement``: how well a judge agrees with people (see
:mod:`eval_anything.judges.calibration` and docs/judges.md).

Two modes: judged runs against a labels file (``RUN_DIR... --labels LABELS.jsonl``), or a judge
asked about preference rows in both orders (``--judge judge=BINDING --preferences DATA``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer


def register(app: typer.Typer) -> None:
    @app.command("agreement")
    def agreement(
        run_dirs: list[Path] = typer.Argument(  # noqa: B008
            None, metavar="RUN_DIR...", help="Judged run folders (with --labels)."
        ),
        labels: Path | None = typer.Option(
            None, "--labels",
            help='JSONL of {"task", "sample_id", "label"} rows: a rating on the task\'s scale, '
            "A/B/tie for pairwise, 0/1 for binary (optional: score, run_id).",
        ),
        judge: list[str] = typer.Option(
            [], "--judge", help="judge=BINDING, the judge to measure (with --preferences)."
        ),
        preferences: Path | None = typer.Option(
            None, "--preferences",
            help="align-anything preference rows (JSONL, JSON, Parquet or a datasets folder).",
        ),
        preference_field: str | None = typer.Option(
            None, "--preference-field",
            help="The field naming the better response (default better_response_id or "
            "overall_response; e.g. p_response, safer_response_id).",
        ),
        limit: int | None = typer.Option(None, "--limit", help="Only the first N pairs."),
        include_path: list[Path] = typer.Option(
            [], "--include-path", help="Folders of task YAML the runs used (if not bundled)."
        ),
        resamples: int = typer.Option(
            1000, "--resamples", help="Bootstrap resamples for the 95% intervals (0: none)."
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse cached judgments."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
        as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
        write: bool = typer.Option(
            False, "--write",
            help="Record each run's agreement (measured on its own items) in its results.json, "
            "where report, the leaderboard and gate --min-judge-agreement read it.",
        ),
    ) -> None:
        """Measure a judge against human labels: per task and judged score, or on preference
        pairs; every figure with a 95% bootstrap interval."""
        from eval_anything.cli.common import user_errors
        from eval_anything.judges.base import parse_judge_options
        from eval_anything.judges.calibration import (
            agreement_with_labels,
            agreement_with_preferences,
        )

        with user_errors():
            if resamples < 0:
                _usage("--resamples must be 0 or more")
            if preferences is not None:
                if write:
                    _usage("--write records labels' agreement in runs: it goes with --labels")
                if labels is not None or run_dirs:
                    _usage("give RUN_DIR... --labels F, or --judge judge=B --preferences DATA, "
                           "not both")
                bindings = parse_judge_options(judge)
                if len(bindings) != 1:
                    _usage("--preferences needs one --judge ROLE=BINDING, e.g. "
                           "--judge judge=smollm2:mode=likelihood")
                role, binding = next(iter(bindings.items()))
                report = agreement_with_preferences(
                    binding, preferences, preference_field=preference_field, limit=limit,
                    cache_path=None if no_cache else True, resamples=resamples, seed=seed,
                    progress=not (quiet or as_json), role=role,
                )
            else:
                if labels is None or not run_dirs:
                    _usage("give judged runs and their labels (RUN_DIR... --labels "
                           "LABELS.jsonl), or a judge and preference rows (--judge judge=B "
                           "--preferences DATA)")
                if judge or preference_field or limit is not None:
                    _usage("--judge, --preference-field and --limit go with --preferences")
                assert labels is not None
                report = agreement_with_labels(run_dirs, labels, include_paths=include_path,
                                               resamples=resamples, seed=seed)
                if write:
                    from eval_anything.judges.calibration.recorded import write_label_agreement

                    write_label_agreement(run_dirs, labels, include_paths=include_path,
                                          resamples=resamples, seed=seed)
        if as_json:
            typer.echo(json.dumps(report.to_json(), indent=2))
        else:
            from eval_anything.cli.common import console, print_whole

            print_whole(console, agreement_table(report))
        for line in report_notes(report):
            typer.echo(f"note: {line}", err=True)
        if write:
            typer.echo(f"recorded judge agreement in {len(run_dirs)} run(s)' results.json",
                       err=True)


def _usage(message: str) -> None:
    from eval_anything.errors import UserError

    raise UserError(f"eval-anything agreement: {message}")


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def agreement_table(report: Any) -> Any:
    """One row per figure: where, score, kind, n, unscored, unmatched, value and 95% CI."""
    from rich.table import Table

    t = Table(title="judge agreement with human labels (95% bootstrap CI over items)")
    for col in ("task / data", "score", "kind", "n", "unscored", "unmatched", "figure",
                "value", "95% CI"):
        right = col in ("n", "unscored", "unmatched", "value")
        t.add_column(col, justify="right" if right else "left", overflow="fold")
    for name, s in report.rows():
        for i, (figure, fig) in enumerate(s.figures.items()):
            ci = "-" if fig.ci_low is None else f"[{fig.ci_low:.3f}, {fig.ci_high:.3f}]"
            head = i == 0
            t.add_row(name if head else "", (s.score or "-") if head else "",
                      s.kind if head else "", str(s.n) if head else "",
                      str(s.n_unscored) if head else "", str(s.n_unmatched) if head else "",
                      figure, _fmt(fig.value), ci)
    return t


def report_notes(report: Any) -> list[str]:
    """What the counts mean for the reader: unscored and unmatched items, judges, caveats."""
    lines = []
    for name, s in report.rows():
        what = f"{name}" + (f" score {s.score}" if s.score else "")
        if s.judges:
            lines.append(f"{what}: judge {', '.join(s.judges)}")
        if s.n_unscored:
            lines.append(f"{what}: {s.n_unscored} labelled item(s) have no judge verdict; "
                         "counted apart, not as zeros")
        if s.n_unmatched:
            lines.append(f"{what}: {s.n_unmatched} label(s) match no sample of the runs")
        if s.n_rule_scored:
            lines.append(f"{what}: {s.n_rule_scored} labelled item(s) were scored by a rule "
                         "(no output to judge), left out")
        lines += [f"{what}: {n}" for n in s.notes]
    return lines
