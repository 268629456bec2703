"""Which store the app shows: ``streamlit run leaderboard/app.py -- --store URL``, else the
default store (``EVAL_ANYTHING_STORE``, else the SQLite file under ~/.cache/eval_anything)."""

from __future__ import annotations

import argparse
import sys

from eval_anything.store.config import normalize_url


def store_url(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="leaderboard/app.py", add_help=False)
    parser.add_argument("--store", default=None)
    args, _unknown = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return normalize_url(args.store)
