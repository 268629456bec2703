"""One folder, one writer: an exclusive lock on a run folder (or a training output dir).

The lock is an ``flock`` on a small file inside the folder. The kernel drops an ``flock`` when
its holder dies, so a folder left behind by a crash or ``kill -9`` is free again at once (a stale
lock needs no cleanup, and resume keeps working); the file records the holder's pid, host and
command so a refused writer can say who holds the folder. The file is removed on release; the
holder checks after locking that the path still names the file it locked, so a writer that
opened the file just before it was removed never believes it holds the folder.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from eval_anything.errors import UserError

LOCK_FILE = ".eval-anything.lock"


class FolderBusyError(UserError):
    """Another live process writes to this folder; the message names it."""


class FolderLock:
    """Exclusive, process-lifetime lock on ``path`` (created if missing).

    ``with FolderLock(run_dir, what="run folder"):`` raises :class:`FolderBusyError` naming the
    holder when another process holds the folder. Locks are per open file, so two locks on one
    folder conflict inside one process too.
    """

    def __init__(self, path: Path | str, what: str = "run folder") -> None:
        self.path = Path(path)
        self.what = what
        self.lock_path = self.path / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        if self._fd is not None:
            return self
        self.path.mkdir(parents=True, exist_ok=True)
        for _ in range(20):
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise FolderBusyError(
                    f"{self.path}: this {self.what} is in use by {_describe(holder)}; wait for "
                    f"it to finish, or use another folder (the lock is {self.lock_path}, and "
                    "frees itself when that process ends)"
                ) from None
            if _same_file(fd, self.lock_path):
                break
            # the previous holder removed the file between our open and our lock: try again
            os.close(fd)
            time.sleep(0.01)
        else:  # pragma: no cover - needs 20 lost races in a row
            raise FolderBusyError(f"{self.path}: could not lock this {self.what}; try again")
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(sys.argv)[:300],
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if _same_file(fd, self.lock_path):
                self.lock_path.unlink()
        except OSError:
            pass  # a folder removed under us, or read-only: the lock still ends with close()
        finally:
            os.close(fd)

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        raw = os.pread(fd, 4096, 0)
        data = json.loads(raw.decode("utf-8")) if raw else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(holder: dict[str, Any]) -> str:
    if not holder.get("pid"):
        return "another process (starting up)"
    text = f"pid {holder['pid']}"
    if holder.get("host"):
        text += f" on {holder['host']}"
    if holder.get("since"):
        text += f" since {holder['since']}"
    if holder.get("command"):
        text += f" ({holder['command']})"
    return text
