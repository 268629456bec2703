"""``eval-anything report RUN_DIR... --format paper [--with-paper]``: finished runs in the Align
Anything paper's results-table layout (see :mod:`eval_anything.scoring.paper_table`), optionally
beside the paper's seven published rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

FORMATS = ("paper", "json")


def agreement_rows(results: Any, label: str) -> list[dict[str, Any]]:
    """One row per measured judge agreement of a run (panel, repeats, labels): what the
    judged scores in the table can be trusted to, with the judge that gave them."""
    rows = []
    for task, tr in results.tasks.items():
        for a in tr.judge_agreement:
            rows.append({"run": label, "task": task, "score": a.score, "judge": a.judge,
                         "source": a.source, "statistic": a.statistic, "value": a.value,
                         "ci_low": a.ci_low, "ci_high": a.ci_high, "n": a.n,
                         "within_item_sd": a.within_item_sd})
    return rows


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def agreement_table(rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title="judge agreement (how far the judged scores above can be trusted)")
    for col in ("run", "task", "score", "judge", "measured by", "agreement [95% CI]", "n",
                "within-item SD"):
        table.add_column(col, overflow="fold")
    for r in rows:
        ci = "" if r["ci_low"] is None else f" [{_num(r['ci_low'])}, {_num(r['ci_high'])}]"
        table.add_row(r["run"], r["task"], r["score"], r["judge"] or "-",
                      f"{r['source']}: {r['statistic']}", _num(r["value"]) + ci, str(r["n"]),
                      _num(r["within_item_sd"]))
    return table


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        run_dirs: list[Path] = typer.Argument(..., help="One or more finished run directories."),
        fmt: str = typer.Option(
            "paper", "--format", help="paper: the paper's table layout; json: the same rows "
            "with value, stderr and 95% CI per cell."
        ),
        with_paper: bool = typer.Option(
            False, "--with-paper", help="Show the paper's seven published rows beside yours."
        ),
        no_ci: bool = typer.Option(False, "--no-ci", help="Values only, without [CI] bounds."),
    ) -> None:
        """Print runs of the eval-anything (or eval-anything-mini) suite as the paper's table:
        AMU by category, AMU, Select, T/V/A, synergy T-V/T-A/V-A, AMG, Overall."""
        from rich.table import Table

        from eval_anything.cli.common import console, print_whole, user_errors
        from eval_anything.core.results_files import read_results
        from eval_anything.scoring.paper_table import (
            HEADERS,
            paper_reference,
            rows_as_json,
            rows_as_records,
            run_row,
        )

        if fmt not in FORMATS:
            typer.echo(f"error: --format {fmt!r}: choose one of {', '.join(FORMATS)}", err=True)
            raise typer.Exit(2)
        with user_errors():
            runs = [read_results(d) for d in run_dirs]
            rows = [run_row(r, where=str(d)) for r, d in zip(runs, run_dirs, strict=True)]
        agreement = [a for r in runs for a in agreement_rows(r, r.run_id[:12])]
        ref = paper_reference()
        shown = [*rows, *ref.rows] if with_paper else rows
        if fmt == "json":
            out: dict[str, object] = {"rows": rows_as_json(shown)}
            if with_paper:
                out["paper_source"] = ref.source
            out["judge_agreement"] = agreement
            typer.echo(json.dumps(out, indent=2))
            return
        table = Table(title="eval-anything, in the paper's results-table layout")
        for col in ("model", "from"):
            table.add_column(col, no_wrap=True)
        for col in HEADERS.values():
            # a header or a score never breaks mid-word ("AM/U", "3.8/7")
            table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
        for i, rec in enumerate(rows_as_records(shown, with_ci=not no_ci)):
            if with_paper and i == len(rows):
                table.add_section()
            origin = "paper" if rec["origin"] == "paper" else str(rec["origin"])[:12]
            table.add_row(rec["model"], origin, *(rec[h] for h in HEADERS.values()))
        print_whole(console, table)
        console.print(
            "P/R/IF/S: AMU categories (1-10); T/V/A: instruction following (0-10); T-V/T-A/V-A: "
            "synergy (0-1); AMG = Select * sum of 1/2 (S_m1 + S_m2) S_pair; Overall = "
            "(AMU + AMG) / 2. ± = half-width of the 95% CI.", soft_wrap=True,
        )
        if agreement:
            print_whole(console, agreement_table(agreement))
        else:
            console.print("judge agreement: not measured for these runs (a judge panel, "
                          "--judge-repeats or `eval-anything agreement --write` measure it; "
                          "docs/judges.md)", soft_wrap=True)
        if with_paper:
            console.print(f"paper rows: {ref.source}", soft_wrap=True)
            console.print(
                "Comparable only with the paper's judges (GPT-4 family, its trained synergy "
                "reward model) and full datasets; our judge prompts are paraphrases, and "
                "mini-suite scores come from offline stand-in judges.", soft_wrap=True,
            )
