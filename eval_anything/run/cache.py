"""SQLite cache of model responses and judgments.

The key covers everything that decides an answer: the adapter's identity (weights identity and
output-changing args), the request content (media by content hash) and the generation config;
a sampled request (temperature > 0) also carries its seed. Two checkpoints never share answers.
WAL mode lets several processes read and write one cache file. A cache that cannot be used (a
full disk, a locked or corrupt file) is an :class:`~eval_anything.errors.EnvironmentFailure`
naming the file; values pass through the secret redaction before they are stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eval_anything.errors import database_failure, environment_failure
from eval_anything.redact import redact


def default_cache_path() -> Path:
    from eval_anything.paths import cache_dir

    return cache_dir() / "cache.sqlite"


def cache_file(cache_path: Path | str | None | bool) -> Path | None:
    """The cache file a ``cache_path`` argument means: True the default, None/False none."""
    if cache_path is True:
        return default_cache_path()
    if cache_path is None or cache_path is False:
        return None
    return Path(cache_path)


def make_key(namespace: str, identity: str, request_hash: str, extra: Any = None) -> str:
    payload = json.dumps([namespace, identity, request_hash, extra], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


class ResponseCache:
    """A key-value store of JSON strings. ``path=None`` disables caching (always misses)."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = None if path is None else Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.hits = 0
        self.misses = 0
        if self.path is not None:
            with self._failures():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA synchronous=NORMAL")
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS entries "
                        "(key TEXT PRIMARY KEY, namespace TEXT, value TEXT)"
                    )
                    conn.commit()
                except BaseException:
                    conn.close()
                    raise
            self._conn = conn

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """SQLite and OS errors the user can fix become one-line errors naming the cache."""
        try:
            yield
        except sqlite3.Error as e:
            err = database_failure(e, f"response cache {self.path}")
            if err is None:
                raise
            raise err from e
        except OSError as e:
            env = environment_failure(e, f"response cache {self.path}")
            if env is None:
                raise
            raise env from e

    def get(self, key: str) -> str | None:
        """The value stored under ``key`` (None: a miss). Every look-up is counted in
        :attr:`hits` or :attr:`misses`, so a run can say how much the cache answered."""
        if self._conn is None:
            with self._lock:
                self.misses += 1
            return None
        with self._lock, self._failures():
            row = self._conn.execute("SELECT value FROM entries WHERE key=?", (key,)).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        return str(row[0])

    def counts(self) -> tuple[int, int]:
        """``(hits, misses)`` so far; a task's share is the difference of two readings."""
        with self._lock:
            return self.hits, self.misses

    def put_many(self, items: list[tuple[str, str, str]]) -> None:
        """Store ``(key, namespace, value)`` rows in one transaction."""
        if self._conn is None or not items:
            return
        items = [(k, ns, redact(v)) for k, ns, v in items]
        with self._lock, self._failures():
            self._conn.executemany(
                "INSERT OR REPLACE INTO entries (key, namespace, value) VALUES (?, ?, ?)", items
            )
            self._conn.commit()

    def put(self, key: str, namespace: str, value: str) -> None:
        self.put_many([(key, namespace, value)])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
