"""``eval-anything gate``: the CI regression gate (exit 0 pass, 1 fail, 2 bad input)."""

from __future__ import annotations

from pathlib import Path

import typer

from eval_anything.cli.store import STORE_HELP


def gate_command(
    baseline: str = typer.Option(..., "--baseline", help="Baseline run: directory or run id."),
    candidate: str = typer.Option(..., "--candidate", help="Candidate run: directory or run id."),
    tasks: str | None = typer.Option(
        None, "--tasks", help="Comma-separated tasks to gate (default: all tasks both runs have)."
    ),
    margin: float = typer.Option(0.01, "--margin", help="Tolerated drop (in score units)."),
    alpha: float = typer.Option(0.05, "--alpha", help="Family-wise error rate (Holm)."),
    force: bool = typer.Option(
        False, "--force", help="Compare even when task fingerprints or judges differ."
    ),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on INCONCLUSIVE too."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON, not a table."),
    junit: Path | None = typer.Option(None, "--junit", help="Write JUnit XML here."),
    markdown: Path | None = typer.Option(None, "--markdown", help="Write a Markdown summary here."),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    seed: int = typer.Option(0, "--seed", help="Seed of the paired bootstrap."),
    n_boot: int = typer.Option(2000, "--bootstrap", help="Bootstrap replicates."),
    min_judge_agreement: float | None = typer.Option(
        None, "--min-judge-agreement",
        help="INCONCLUSIVE for a judged task whose measured judge agreement (alpha or kappa) "
        "is below this, or unknown (docs/judges.md).",
    ),
) -> None:
    """Gate a candidate run against a baseline: PASS (non-inferior), FAIL (regression beyond
    the margin, Holm-corrected across tasks) or INCONCLUSIVE. See docs/gate.md."""
    from eval_anything.cli.common import user_errors
    from eval_anything.gate import report as gate_report
    from eval_anything.gate.verdict import gate

    task_list = [t.strip() for t in tasks.split(",") if t.strip()] if tasks else None
    with user_errors():  # unreadable runs name the file and line; exit 2
        if store is not None and _both_run_folders(baseline, candidate):
            # the store goes unread, so a typo in it would pass unseen; a run looked up by id
            # meets a missing store in load_run, which names the run and the store together
            from eval_anything.store.config import require_existing_store

            require_existing_store(store)
        report = gate(baseline, candidate, tasks=task_list, margin=margin, alpha=alpha,
                      force=force, store_url=store, seed=seed, n_boot=n_boot,
                      min_judge_agreement=min_judge_agreement)
    typer.echo(gate_report.to_json(report) if as_json else gate_report.to_table(report))
    with user_errors():
        if junit is not None:
            gate_report.write(junit, gate_report.to_junit(report))
        if markdown is not None:
            gate_report.write(markdown, gate_report.to_markdown(report))
    raise typer.Exit(report.exit_code(strict))


def _both_run_folders(*refs: str) -> bool:
    from eval_anything.core.results import RESULTS_FILE

    return all((Path(ref) / RESULTS_FILE).is_file() for ref in refs)


def register(app: typer.Typer) -> None:
    app.command("gate")(gate_command)
