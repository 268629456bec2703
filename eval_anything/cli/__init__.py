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
)

app = typer.Typer(
    name="eval-anything",
    help="Evaluate any-to-any models, train them, score every checkpoint, gate regressions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _name in COMMAND_MODULES:
    _mod = f"{__name__}.{_name}"
    if importlib.util.find_spec(_mod) is not None:
        importlib.import_module(_mod).register(app)


def main() -> None:
    app()
