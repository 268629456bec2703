"""Which store the app shows: ``streamlit run leaderboard/app.py -- --store URL``, else the
default store (``EVAL_ANYTHING_STORE``, else the SQLite file under ~/.cache/eval_anything).

Under ``eval-anything view RUN_DIR...`` the app also knows the runs it was asked to show
(:data:`VIEW_RUNS_ENV`, set by that command): every one of them is shown, so filters that
thin the board by default (the latest run per checkpoint) start off there."""

from __future__ import annotations

import argparse
import os
import sys

from eval_anything.store.config import normalize_url

VIEW_RUNS_ENV = "EVAL_ANYTHING_VIEW_RUNS"
SEPARATOR = ","


def store_url(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="leaderboard/app.py", add_help=False)
    parser.add_argument("--store", default=None)
    args, _unknown = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return normalize_url(args.store)


def view_runs() -> list[str]:
    """The run ids ``eval-anything view`` named (empty when the app serves a store)."""
    return [r for r in os.environ.get(VIEW_RUNS_ENV, "").split(SEPARATOR) if r]


def view_runs_env(run_ids: list[str]) -> dict[str, str]:
    """The environment that tells the app it shows exactly these runs."""
    return {**os.environ, VIEW_RUNS_ENV: SEPARATOR.join(run_ids)}
