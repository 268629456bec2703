"""The ``eval-anything`` command line: thin typer commands over the Python API.

Each command family lives in its own module with a ``register(app)`` function; modules listed
in ``COMMAND_MODULES`` that are present are registered in order. Nothing imports the CLI.
"""

from __future__ import annotations

import importlib
import importlib.util

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
)

app = typer.Typer(
    name="eval-anything",
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
) -> None:
    """Evaluate any-to-any models, train them, score every checkpoint, gate regressions."""


for _name in COMMAND_MODULES:
    _mod = f"{__name__}.{_name}"
    if importlib.util.find_spec(_mod) is not None:
        importlib.import_module(_mod).register(app)


def main() -> None:
    app()
