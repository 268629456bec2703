"""Shared CLI plumbing: error handling (exit 2 on bad input) and result tables."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

# piped output (CI logs, files) gets a wide table rather than an 80-column fold
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)

USAGE_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError, FileNotFoundError)


@contextmanager
def user_errors() -> Iterator[None]:
    """Bad input -> one readable message on stderr and exit code 2 (no traceback)."""
    try:
        yield
    except typer.Exit:
        raise
    except USAGE_ERRORS as e:
        msg = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
        typer.echo(f"error: {msg}", err=True)
        raise typer.Exit(2) from None


def fmt(v: float | None, digits: int = 4) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def results_table(results: Any) -> Table:
    """Per task and group: metric, value, stderr, 95% CI, n, unscored, judges."""
    t = Table(title=f"run {results.run_id} - {results.model.name}", show_lines=False)
    for col in ("task", "metric", "value", "stderr", "95% CI", "n", "unscored", "judges"):
        right = col in ("value", "stderr", "n", "unscored")
        t.add_column(col, justify="right" if right else "left", overflow="fold")
    for name, tr in results.tasks.items():
        judges = ", ".join(f"{j.role}={j.identity}" for j in tr.judges) or "-"
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


def run_cli(fn: Callable[[], Any]) -> Any:
    with user_errors():
        return fn()


def die(msg: str, code: int = 2) -> None:
    typer.echo(f"error: {msg}", err=True)
    sys.exit(code)
