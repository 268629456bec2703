"""Where the leaderboard store lives. The one place that reads ``EVAL_ANYTHING_STORE``.

A store is named by a SQLAlchemy URL (``sqlite:///path``, ``postgresql://user@host/db``) or by a
plain file path (taken as a SQLite file). Without either, ``EVAL_ANYTHING_STORE`` decides, and
without that the store is ``~/.cache/eval_anything/leaderboard.sqlite``.

Only commands that write runs create a SQLite store (``push``, ``run --push``, ``view
--save-store``, a trainer's or watcher's push); every command that only reads one
(``leaderboard``, ``gate --store``) refuses a file that does not exist
(:func:`require_existing_store`), so a mistyped path is an error instead of a new empty store.
"""

from __future__ import annotations

import os
from pathlib import Path

STORE_ENV = "EVAL_ANYTHING_STORE"


def default_store_path() -> Path:
    return Path.home() / ".cache" / "eval_anything" / "leaderboard.sqlite"


def default_store_url() -> str:
    """The store used when no ``--store`` is given."""
    configured = os.environ.get(STORE_ENV, "").strip()
    return normalize_url(configured) if configured else sqlite_url(default_store_path())


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def normalize_url(url_or_path: str | Path | None) -> str:
    """A SQLAlchemy URL for ``url_or_path``: paths become SQLite URLs and a bare
    ``postgresql://`` gets the psycopg (v3) driver, the one installed with eval-anything."""
    if url_or_path is None or str(url_or_path).strip() == "":
        return default_store_url()
    text = str(url_or_path).strip()
    if "://" not in text:
        return sqlite_url(text)
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix) :]
    return text


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for in-memory or other databases)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path in ("", ":memory:"):
        return None
    return Path(path)


def require_existing_store(url_or_path: str | Path | None) -> str:
    """The normalized URL of a store that a reading command opens; a SQLite file that does not
    exist is a :class:`~eval_anything.errors.ConfigError` (exit 2) naming the path and the fix,
    because opening it would create an empty store and show "no runs" for a typo. Server URLs
    (PostgreSQL) are not checked here: connecting says whether the database exists."""
    from eval_anything.errors import ConfigError

    url = normalize_url(url_or_path)
    path = sqlite_file(url)
    if path is None or path.is_file():
        return url
    given = str(url_or_path).strip() if url_or_path is not None else ""
    source = (f"--store {given}" if given else
              f"{STORE_ENV}={os.environ[STORE_ENV]}" if os.environ.get(STORE_ENV, "").strip()
              else "the default store")
    what = "is a folder, not a SQLite file" if path.exists() else "does not exist"
    raise ConfigError(
        f"{source}: store file {path} {what}, and this command only reads a store (it never "
        f"creates one); give the path of an existing store, or create this one by pushing a "
        f"run: eval-anything push RUN_DIR --store {path}"
    )


def redact(url: str) -> str:
    """The URL with any password hidden, for messages and the app's header."""
    head, sep, tail = url.partition("://")
    if not sep or "@" not in tail:
        return url
    creds, _, rest = tail.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{head}://{user}:***@{rest}" if ":" in creds else url
