"""Schema versioning with alembic. The revision lives in alembic's ``alembic_version`` table.

Opening a store checks the revision cheaply and runs alembic only when it is behind, inside a
write transaction (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), rechecking under
the lock, so concurrent first opens migrate exactly once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from eval_anything.store.errors import StoreError

if TYPE_CHECKING:
    from eval_anything.store.engine import Store

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
HEAD_REVISION = "0002"  # tests check this equals the newest script in migrations/versions
VERSION_TABLE = "alembic_version"


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    row = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
    return None if row is None else str(row[0])


def _alembic_config(conn: Connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the store's schema to ``revision`` (default: the newest)."""
    with store.read() as conn:
        now = current_revision(conn)
    if revision == "head" and now == HEAD_REVISION:
        return
    if now is not None and now > HEAD_REVISION:
        raise StoreError(
            f"store {store!r} has schema revision {now}, newer than this eval-anything "
            f"understands ({HEAD_REVISION}); upgrade eval-anything"
        )

    def run(conn: Connection) -> None:
        from alembic import command

        if revision == "head" and current_revision(conn) == HEAD_REVISION:
            return  # another process migrated while we waited for the lock
        command.upgrade(_alembic_config(conn), revision)

    store.write(run, lock_key="eval_anything.store.migrate")


def downgrade(store: Store, revision: str) -> None:
    """Step the schema back to ``revision`` ("base" drops everything); for tests and rollbacks."""

    def run(conn: Connection) -> None:
        from alembic import command

        command.downgrade(_alembic_config(conn), revision)

    store.write(run, lock_key="eval_anything.store.migrate")


def script_head() -> str | None:
    """The newest revision among the migration scripts (reads the files)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()
