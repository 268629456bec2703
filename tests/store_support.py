"""Shared fixtures of the store, gate and leaderboard tests (imported by those modules).

PostgreSQL: ``EVAL_ANYTHING_TEST_PG_URL`` names a server (``make test`` exports it after
``scripts/postgres.sh start``); without it the fixture runs that script itself. When the script
cannot start a server the PostgreSQL cases skip with the script's reason, except under CI
(``CI`` set), where they fail: CI must exercise PostgreSQL. Each test gets a database of its own
(a random name), so parallel workers never see each other's tables.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PG_ENV = "EVAL_ANYTHING_TEST_PG_URL"


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = os.environ.get(PG_ENV, "").strip()
    if url:
        return url
    try:
        # parallel workers each ask; one at a time, so only the first installs or starts a server
        with (Path(tempfile.gettempdir()) / "eval-anything-pg-start.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            out = subprocess.run([str(ROOT / "scripts" / "postgres.sh"), "start"],
                                 capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        reason = f"scripts/postgres.sh could not run: {e}"
    else:
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip().splitlines()[-1]
        reason = f"scripts/postgres.sh start failed: {out.stderr.strip()[-500:]}"
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(reason)


def _admin_exec(server_url: str, sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    name = f"ea_test_{uuid.uuid4().hex[:12]}"
    _admin_exec(pg_server_url, f'CREATE DATABASE "{name}"')
    base = pg_server_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    _admin_exec(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on a SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return str(request.getfixturevalue("pg_url"))

