"""Alembic environment: always online, on the connection ``store.migrate`` hands over inside
its own (locked) transaction, so concurrent openers never migrate twice."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "eval-anything store migrations run through eval_anything.store.migrate.upgrade(); "
        "the alembic command line is not wired to a database"
    )
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
