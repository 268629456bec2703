"""Alembic migrations of the leaderboard store (run programmatically by ``store.migrate``)."""
