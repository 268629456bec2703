"""The ``eval-anything`` command line: thin typer commands over the Python API.

Each command family lives in its own module with a ``register(app)`` function; modules listed
in ``COMMAND_MODULES`` that are present are registered in order. Nothing imports the CLI.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import shutil
import sys

import typer

COMMAND_MODULES = (
    "run",
    "listing",
    "score",
    "merge",
    "store",
    "gate",
    "leaderboard",
    "train",
    "watch",
    "demo",
    "report",
    "view",
    "agreement",
    "overlap",
)

#: Help is drawn with rich's panels only on a terminal this wide: rich shrinks a narrow table by
#: cutting option names short ("--lm-eval-includ…"), while click's plain layout wraps the help
#: text and always prints every option name whole (pipes, CI logs, 80-column terminals).
RICH_HELP_MIN_COLUMNS = 100


def help_markup_mode() -> typer.core.MarkupMode:
    """``"rich"`` on a terminal at least :data:`RICH_HELP_MIN_COLUMNS` wide, else ``None``
    (click's plain help). ``COLUMNS`` counts as the width wherever it is set."""
    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        return None
    columns = shutil.get_terminal_size(fallback=(80, 24)).columns
    return "rich" if columns >= RICH_HELP_MIN_COLUMNS else None


app = typer.Typer(
    name="eval-anything",
    rich_markup_mode=help_markup_mode(),
    help="Evaluate any-to-any models, train them, score every checkpoint, gate regressions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from eval_anything import __version__

        typer.echo(f"eval-anything {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.",
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Log at INFO level on stderr (default: warnings only)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Log errors only on stderr."),
) -> None:
    """Evaluate any-to-any models, train them, score every checkpoint, gate regressions."""
    configure_logging(verbose=verbose, quiet=quiet)


def configure_logging(verbose: bool = False, quiet: bool = False) -> None:
    """Library modules only log; the CLI decides where it goes (stderr, so stdout stays the
    result) and how much: WARNING by default, INFO with ``-v``, ERROR with ``-q``."""
    if verbose and quiet:
        typer.echo("error: give -v/--verbose or -q/--quiet, not both", err=True)
        raise typer.Exit(2)
    level = logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(h)  # called again in one process (tests, embedding): one handler
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted, so a replaced stderr
    (a test runner's capture, a redirect) never leaves the handler on a closed stream."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


for _name in COMMAND_MODULES:
    _mod = f"{__name__}.{_name}"
    if importlib.util.find_spec(_mod) is not None:
        importlib.import_module(_mod).register(app)


def main() -> None:
    app()
