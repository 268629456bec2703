"""The store's connection: one SQLAlchemy engine, tuned per database.

SQLite (the default, one file) is set up for several writers at once: WAL journal (readers never
block the writer), a 60 s busy timeout, and write transactions that start with
``BEGIN IMMEDIATE`` so two pushes queue for the write lock up front instead of deadlocking on a
lock upgrade half way. On top of that every write is retried with backoff when the database still
reports itself busy, so eight processes pushing at once all land. PostgreSQL needs none of that:
a push takes a transaction-scoped advisory lock on its run id instead.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError

from eval_anything.errors import ConfigError, database_failure
from eval_anything.store.config import (
    normalize_url,
    redact,
    require_existing_store,
    sqlite_file,
)
from eval_anything.store.errors import StoreError

T = TypeVar("T")
WRITE_OPTION = "eval_anything_write"
SQLITE_BUSY_TIMEOUT_S = 60.0
MAX_WRITE_ATTEMPTS = 30


class Store:
    """An open leaderboard store. Create with :func:`open_store`; close when done."""

    def __init__(self, url: str | None = None, migrate: bool = True) -> None:
        self.url = normalize_url(url)
        self.engine = _make_engine(self.url)
        if migrate:
            from eval_anything.store.migrate import upgrade

            upgrade(self)

    def __repr__(self) -> str:
        return f"Store({redact(self.url)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for queries (SQLite: a deferred transaction, never blocks writers)."""
        with self.engine.connect() as conn:
            yield conn

    def write(self, fn: Callable[[Connection], T], lock_key: str | None = None) -> T:
        """Run ``fn(conn)`` in one write transaction, retried while the database is busy or a
        concurrent writer won a race; ``lock_key`` serializes writers of the same key on
        PostgreSQL (SQLite's write lock already serializes everything)."""
        delay = 0.02
        conflicts = 0
        for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
            try:
                with self.engine.connect() as conn:
                    conn = conn.execution_options(**{WRITE_OPTION: True})
                    with conn.begin():
                        if lock_key is not None and self.dialect == "postgresql":
                            lock = text("SELECT pg_advisory_xact_lock(:k)")
                            conn.execute(lock, {"k": advisory_key(lock_key)})
                        return fn(conn)
            except (OperationalError, IntegrityError, DBAPIError) as e:
                # a key conflict from a racing writer resolves on the next try; one that
                # persists is a real error in the data and is raised at once
                conflicts += isinstance(e, IntegrityError)
                if attempt == MAX_WRITE_ATTEMPTS or conflicts > 2 or not _retryable(e):
                    if isinstance(e, IntegrityError):
                        raise
                    raise store_failure(e, self.url, "cannot write") from e
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.engine.dispose()


def advisory_key(key: str) -> int:
    """A signed 64-bit integer for ``pg_advisory_xact_lock`` from any string."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def _retryable(e: DBAPIError) -> bool:
    if isinstance(e, IntegrityError):
        return True  # two writers inserted the same new key; the retry sees the winner's row
    msg = str(e.orig).lower() if e.orig is not None else str(e).lower()
    markers = ("locked", "busy", "deadlock", "could not serialize", "serialization")
    return any(m in msg for m in markers)


def _make_engine(url: str) -> Engine:
    path = sqlite_file(url)
    if url.startswith("sqlite"):
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"store {url}: cannot create folder {path.parent}: {e}") from e
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        )
        _tune_sqlite(engine, wal=path is not None)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except Exception as e:  # noqa: BLE001 - a bad URL or missing driver, reported with the URL
        raise StoreError(f"store {redact(url)}: {e}") from e


def _tune_sqlite(engine: Engine, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event (below) issue BEGIN itself, so writes can ask for
        # BEGIN IMMEDIATE; pysqlite's implicit transactions would always start deferred.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            if wal:
                _with_busy_retry(lambda: cur.execute("PRAGMA journal_mode = WAL"))
                cur.execute("PRAGMA synchronous = NORMAL")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _with_busy_retry(op: Callable[[], Any], attempts: int = 50) -> None:
    import sqlite3

    for i in range(attempts):
        try:
            op()
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e) or i == attempts - 1:
                raise
            time.sleep(0.05 * (1 + random.random()))


def open_store(url: str | None = None, migrate: bool = True, create: bool = True) -> Store:
    """Open (creating and migrating when needed) the store at ``url``: a SQLAlchemy URL, a
    file path (SQLite), or None for the default (``EVAL_ANYTHING_STORE``, else
    ``~/.cache/eval_anything/leaderboard.sqlite``). ``create=False`` (readers: the leaderboard,
    the gate, queries) refuses a SQLite file that does not exist instead of creating an empty
    store (:func:`~eval_anything.store.config.require_existing_store`, exit 2)."""
    if not create:
        require_existing_store(url)
    try:
        return Store(url, migrate=migrate)
    except DBAPIError as e:
        raise store_failure(e, url, "cannot open it") from e


def check_store(url: str | None) -> str:
    """Check, before a run that will push to it, that the store at ``url`` can take the push,
    so that a bad store fails in a second instead of after the evaluation: a URL SQLAlchemy
    cannot use is a :class:`~eval_anything.errors.ConfigError` (exit 2); a store that cannot be
    reached, opened, migrated or written is a :class:`StoreError` (exit 4). A SQLite file that
    does not exist yet is not created here (only its folder is checked): a run whose input
    then fails leaves nothing behind. Returns the normalized URL."""
    full = normalize_url(url)
    shown = redact(full)
    try:
        make_url(full).get_dialect()
    except (ArgumentError, ValueError) as e:
        raise ConfigError(
            f"--store {redact(str(url))}: not a store URL eval-anything can use ({e}); give "
            "sqlite:///PATH, postgresql://USER@HOST/DB or a file path"
        ) from None
    path = sqlite_file(full)
    if path is not None and not path.exists():
        folder = next(p for p in (path.parent, *path.parent.parents) if p.exists())
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(
                f"store {shown}: cannot create {path}: {folder} is not a folder this user can "
                "write; choose another store path"
            )
        return full
    with open_store(full) as store:
        try:
            store.write(lambda conn: None)
        except DBAPIError as e:
            raise store_failure(e, full, "cannot write") from e
    return full


def store_failure(e: DBAPIError, url: str | None, doing: str) -> StoreError:
    """One line naming the store, what failed and the fix (a full disk, a locked or corrupt
    database, a server that refuses the connection)."""
    import sqlite3

    where = f"store {redact(normalize_url(url))}"
    if isinstance(e.orig, sqlite3.Error):
        known = database_failure(e.orig, where)
        if known is not None:
            return StoreError(str(known))
    reason = " ".join(str(e.orig).split())  # a driver's message may span lines; ours is one
    return StoreError(f"{where}: {doing}: {reason}")
