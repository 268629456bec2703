"""Shared CLI plumbing: error handling and result tables.

Only :class:`~eval_anything.errors.UserError` (and the OS and SQLite failures the user can fix:
a full disk, no permission, a read-only folder, a locked or corrupt database) becomes one line
on stderr with its exit code; anything else is a bug and keeps its traceback (exit 1)."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from eval_anything.errors import UserError, database_failure, environment_failure
from eval_anything.redact import redact

#: Width of tables written to a pipe or file (CI logs) when ``COLUMNS`` does not say: rich would
#: otherwise assume 80. A terminal, or ``COLUMNS``, sets the width itself.
PIPED_COLUMNS = 100


def _table_width() -> int | None:
    return None if sys.stdout.isatty() or "COLUMNS" in os.environ else PIPED_COLUMNS


console = Console(width=_table_width())


def print_whole(out: Console, table: Any) -> None:
    """Print a table that must not fold (the paper's 16 columns of scores): written to a pipe or
    file, it takes the width it needs; a terminal keeps its own width (rich then cuts cells
    with an ellipsis rather than breaking a number across lines)."""
    from rich.measure import Measurement

    if out.is_terminal:
        out.print(table)
        return
    needed = Measurement.get(out, out.options.update(width=10_000), table).maximum
    Console(width=max(out.width, needed), file=out.file, color_system=None).print(table)
err_console = Console(stderr=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """A user error -> one readable (redacted) line on stderr and its exit code."""
    try:
        yield
    except typer.Exit:
        raise
    except UserError as e:
        _fail(str(e), e.exit_code)
    except OSError as e:
        env = environment_failure(e)
        if env is None:
            raise
        _fail(str(env), env.exit_code)
    except sqlite3.Error as e:
        db = database_failure(e, "database")
        if db is None:
            raise
        _fail(str(db), db.exit_code)


def _fail(msg: str, code: int) -> NoReturn:
    typer.echo(f"error: {redact(msg)}", err=True)
    raise typer.Exit(code) from None


def fail_on_error_option() -> Any:
    return typer.Option(
        "--fail-on-error",
        help="Exit 3 when more items than this fail after retries: a count (default 0: any), "
        "a fraction below 1 (0.05), or 'never'. A rerun retries only the failed items.",
    )


def check_failed_items(results: Any, fail_on_error: str | None, what: str = "run") -> None:
    """Print the failure summary on stderr; exit 3 when it exceeds ``--fail-on-error``."""
    from eval_anything.run.failures import check_failures, parse_fail_on_error, summarize

    with user_errors():
        policy = parse_fail_on_error(fail_on_error)
        summary = summarize(results)
        if summary.failed and not policy.exceeded(summary.failed, summary.total):
            typer.echo(f"warning: {redact(summary.message(what))}", err=True)
        check_failures(results, policy, what)


def fmt(v: float | None, digits: int = 4) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def results_table(results: Any) -> Table:
    """Per task and group: metric, value, stderr, 95% CI, n, unscored, judges."""
    emits = ", ".join(results.model.output_modalities) or "-"
    t = Table(title=f"run {results.run_id} - {results.model.name} (emits {emits})",
              show_lines=False)
    for col in ("task", "metric", "value", "stderr", "95% CI", "n", "unscored", "judges"):
        right = col in ("value", "stderr", "n", "unscored")
        t.add_column(col, justify="right" if right else "left", overflow="fold")
    for name, tr in results.tasks.items():
        judges = ", ".join(f"{j.role}={j.identity}" for j in tr.judges) or "-"
        judges += "".join(  # the judge's measured agreement beside the score it gave
            f"; {a.source} agreement {a.value:.3f}" if a.value is not None
            else f"; {a.source} agreement undefined" for a in tr.judge_agreement)
        for i, (metric, mv) in enumerate(tr.metrics.items()):
            unscored = tr.n_unscored.get(metric, tr.n_unscored.get(metric.split("/")[0], 0))
            ci = "-" if mv.ci_low is None else f"[{mv.ci_low:.4f}, {mv.ci_high:.4f}]"
            clustered = " (clustered)" if mv.clustered else ""
            t.add_row(
                name if i == 0 else "",
                metric,
                fmt(mv.value),
                fmt(mv.stderr) + clustered,
                ci,
                str(mv.n),
                str(unscored),
                judges if i == 0 else "",
            )
    for name, gr in results.groups.items():
        for i, (metric, mv) in enumerate(gr.metrics.items()):
            ci = "-" if mv.ci_low is None else f"[{mv.ci_low:.4f}, {mv.ci_high:.4f}]"
            t.add_row(
                f"[bold]{name}[/] (group)" if i == 0 else "",
                metric,
                fmt(mv.value),
                fmt(mv.stderr),
                ci,
                str(mv.n),
                "",
                f"{gr.aggregation} of {len(gr.tasks)}" if i == 0 else "",
            )
    return t


def unscored_notes(results: Any, run_dir: Path) -> list[str]:
    """One line per task with unscored items: how many, the most common reason, and, when an
    LLM judge in generation mode wrote no parseable verdict, the fix (``mode=likelihood``).

    Why: a small local judge in the default generation mode rarely writes a verdict, so a
    re-judged run can come back with every item unscored and nothing on screen says why."""
    from eval_anything.core.results_files import read_sample_records
    from eval_anything.run.failures import failure_reason

    notes: list[str] = []
    for name, tr in results.tasks.items():
        if not any(tr.n_unscored.values()):
            continue
        reasons: Counter[str] = Counter()
        parse_failures: set[str] = set()
        for rec in read_sample_records(run_dir, name):
            if failure_reason(rec) is not None:
                continue  # a failed item: the failure summary already says why
            for score in rec.scores.values():
                if score.value is not None:
                    continue
                reason = score.unscored_reason or "no reason recorded"
                reasons[reason] += 1
                judge = score.judge or ""
                if (judge.startswith("llm:") and "mode=likelihood" not in judge
                        and "verdict" in reason):
                    parse_failures.add(judge.rsplit(":", 1)[0].removeprefix("llm:"))
        if not reasons:
            continue
        reason, count = reasons.most_common(1)[0]
        line = (f"{name}: {sum(reasons.values())} unscored score(s) of {tr.n} item(s) "
                "(failed items not counted); "
                f"most common reason ({count}): {reason}")
        if parse_failures:
            binding = sorted(parse_failures)[0]
            line += (f" - the judge {binding} wrote no parseable verdict in generation mode; "
                     f"add mode=likelihood to its binding (e.g. --judge judge={binding},"
                     "mode=likelihood)")
        notes.append(redact(line))
    return notes


def print_unscored_notes(results: Any, run_dir: Path | None) -> None:
    """Print :func:`unscored_notes` on stderr (nothing when every item was scored)."""
    if run_dir is None:
        return
    for line in unscored_notes(results, run_dir):
        typer.echo(f"note: {line}", err=True)


def run_cli(fn: Callable[[], Any]) -> Any:
    with user_errors():
        return fn()
