"""The one base class for errors a user can fix (bad input, a busy folder, a full disk).

The CLI turns a ``UserError`` into one line on stderr and its ``exit_code``; anything else is a
bug in eval-anything and keeps its traceback (exit 1). ``UserError`` derives from ``ValueError``
so callers that caught ``ValueError`` keep working.

Exit codes (the README's "Exit codes" section lists the same):

- 0: done; 1: an internal error (traceback), or the gate found a regression;
- 2: bad input: a file, field or flag the message names (nothing was written);
- 3: items failed after retries, more than ``--fail-on-error`` allows (rerun to retry them);
- 4: the environment: disk full, permission denied, read-only folder, locked or corrupt database.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USER = 2
EXIT_ITEMS_FAILED = 3
EXIT_ENVIRONMENT = 4


class UserError(ValueError):
    """Input or environment the user can fix; the message names the file, flag and the fix."""

    exit_code: int = EXIT_USER


class ConfigError(UserError):
    """A setting that cannot be used (a flag, a config file's field, an unknown name, an unbound
    judge role); the message names where it came from and the fix."""


class EnvironmentFailure(UserError):
    """The machine, not the input: a full disk, a folder we may not write, a locked database."""

    exit_code = EXIT_ENVIRONMENT


class ItemsFailed(UserError):
    """A run finished, but more items failed (errors after retries) than ``--fail-on-error``
    tolerates. The run folder is complete and a rerun into it retries only those items."""

    exit_code = EXIT_ITEMS_FAILED


_FIXES = {
    errno.ENOSPC: "no space left on the device; free space (or pick a folder on another disk) "
    "and rerun: finished items are kept",
    errno.EDQUOT: "disk quota exceeded; free space and rerun: finished items are kept",
    errno.EACCES: "permission denied; choose a folder you can write, or fix its permissions",
    errno.EPERM: "operation not permitted; choose a folder you can write, or fix its permissions",
    errno.EROFS: "the file system is read-only; choose a writable folder",
}


def environment_failure(e: OSError, path: Path | str | None = None) -> EnvironmentFailure | None:
    """One-line error for an ``OSError`` the user can fix, or None for any other OSError."""
    fix = _FIXES.get(e.errno or -1)
    if fix is None:
        return None
    where = path or e.filename or "?"
    return EnvironmentFailure(f"{where}: {fix}")


def database_failure(e: sqlite3.Error, path: Path | str) -> EnvironmentFailure | None:
    """One-line error for an SQLite failure the user can fix (full, locked, read-only, not a
    database), or None for anything else (a bug: it keeps its traceback)."""
    text = str(e).lower()
    if "disk is full" in text or "disk i/o error" in text:
        fix = "the disk is full (or failing); free space and rerun"
    elif "locked" in text or "busy" in text:
        fix = "the database is locked by another process; wait for it, then rerun"
    elif "readonly" in text or "read-only" in text:
        fix = "the database is read-only; fix its permissions or choose another path"
    elif "not a database" in text or "malformed" in text or "file is encrypted" in text:
        fix = "this file is not an intact SQLite database; point to another file or remove it"
    elif "unable to open" in text:
        fix = "the database cannot be opened; check that its folder exists and is writable"
    else:
        return None
    return EnvironmentFailure(f"{path}: {fix} ({e})")


def field_errors(err: ValidationError, hints: Mapping[str, str] | None = None) -> list[str]:
    """One ``field 'a.b': message`` per problem pydantic found. ``hints`` replaces the message
    of an error type (``extra_forbidden``, ``missing``) with the caller's fix."""
    out = []
    for e in err.errors():
        field = ".".join(str(x) for x in e["loc"]) or "(top)"
        msg = (hints or {}).get(e["type"], e["msg"])
        out.append(f"field '{field}': {msg}")
    return out


def first_field_error(err: ValidationError) -> str:
    """The first problem, and how many more there are: for one-line messages."""
    first = field_errors(err)[0]
    more = err.error_count() - 1
    return f"{first} (and {more} more)" if more else first
