"""The leaderboard store: runs, metrics with CIs, per-sample scores and training lineage in
SQLite (one file, the default) or PostgreSQL (a shared leaderboard), via SQLAlchemy.

    from eval_anything.store import push, open_store
    run_id = push("runs/my-run")                  # idempotent by run id
    with open_store(create=False) as store:  # reading: a missing SQLite file is refused
        rows = queries.leaderboard_rows(store)
"""

from __future__ import annotations

from eval_anything.store import queries
from eval_anything.store.config import (
    STORE_ENV,
    default_store_url,
    normalize_url,
    require_existing_store,
)
from eval_anything.store.engine import Store, check_store, open_store
from eval_anything.store.errors import StoreError
from eval_anything.store.ingest import ingest, push

__all__ = [
    "STORE_ENV", "Store", "StoreError", "check_store", "default_store_url", "ingest",
    "normalize_url", "open_store", "push", "queries", "require_existing_store",
]
