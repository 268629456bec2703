"""Schema versioning: alembic scripts build exactly the tables the code uses, upgrade keeps data."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from eval_anything.store import Store, StoreError, open_store, push
from eval_anything.store import queries as q
from eval_anything.store.ingest import build_rows
from eval_anything.store.migrate import (
    HEAD_REVISION,
    current_revision,
    downgrade,
    script_head,
    upgrade,
)
from eval_anything.store.schema import metadata
from eval_anything.store.synthetic import binary_run

pytest_plugins = ["store_support"]  # store_url / pg_url fixtures (SQLite + PostgreSQL)


def test_head_constant_matches_the_newest_script() -> None:
    assert script_head() == HEAD_REVISION


def test_migrations_build_the_schema_the_code_declares(store_url: str) -> None:
    with open_store(store_url) as store, store.read() as conn:
        assert current_revision(conn) == HEAD_REVISION
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []


def test_upgrade_from_first_revision_keeps_runs(store_url: str, tmp_path: Path) -> None:
    run = binary_run(tmp_path / "r", "old-run", {"a": [1, 0, 1]})
    from eval_anything.core.results_files import read_results, read_sample_records

    results = read_results(run)
    rows = build_rows(results, {"a": read_sample_records(run, "a")}, run)
    old = Store(store_url, migrate=False)
    upgrade(old, "0001")
    with old.engine.begin() as conn:
        assert current_revision(conn) == "0001"
        assert not inspect(conn).has_table("media")
        for table in metadata.sorted_tables:
            if table.name in ("media", "run_media"):
                continue
            if rows.get(table.name):
                conn.execute(table.insert(), rows[table.name])
    old.close()
    with open_store(store_url) as store:  # opening upgrades to head
        with store.read() as conn:
            assert current_revision(conn) == HEAD_REVISION
        assert q.load_results(store, "old-run").run_id == "old-run"
        assert len(q.sample_records(store, "old-run", "a")) == 3
        push(run, store=store)
        assert q.count_runs(store) == 1


def test_downgrade_to_base_drops_everything(store_url: str) -> None:
    store = open_store(store_url)
    downgrade(store, "base")
    with store.read() as conn:
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert tables == set()
    upgrade(store)
    with store.read() as conn:
        assert current_revision(conn) == HEAD_REVISION
    store.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    url = str(tmp_path / "s.sqlite")
    store = open_store(url)
    store.write(lambda conn: conn.execute(text("UPDATE alembic_version SET version_num='9999'")))
    store.close()
    with pytest.raises(StoreError, match="newer than this eval-anything"):
        open_store(url)
