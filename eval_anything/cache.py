"""SQLite cache of model responses and judgments.

The key covers everything that decides an answer: the adapter's identity (weights identity and
output-changing args), the request content (media by content hash) and the generation config;
a sampled request (temperature > 0) also carries its seed. Two checkpoints never share answers.
WAL mode lets several processes read and write one cache file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any


def default_cache_path() -> Path:
    from eval_anything.paths import cache_dir

    return cache_dir() / "cache.sqlite"


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
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS entries "
                "(key TEXT PRIMARY KEY, namespace TEXT, value TEXT)"
            )
            conn.commit()
            self._conn = conn

    def get(self, key: str) -> str | None:
        if self._conn is None:
            self.misses += 1
            return None
        with self._lock:
            row = self._conn.execute("SELECT value FROM entries WHERE key=?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return str(row[0])

    def put_many(self, items: list[tuple[str, str, str]]) -> None:
        """Store ``(key, namespace, value)`` rows in one transaction."""
        if self._conn is None or not items:
            return
        with self._lock:
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
