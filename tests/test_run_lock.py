"""One folder, one writer: the folder lock refuses a second holder, names the first, and frees
itself when its holder dies (even by SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eval_anything.errors import UserError
from eval_anything.folder_lock import LOCK_FILE, FolderBusyError, FolderLock


def test_second_holder_refused_naming_the_first(tmp_path: Path) -> None:
    with FolderLock(tmp_path / "run"):
        with pytest.raises(FolderBusyError) as err:
            FolderLock(tmp_path / "run").acquire()
    msg = str(err.value)
    assert isinstance(err.value, UserError) and err.value.exit_code == 2
    assert f"pid {os.getpid()}" in msg and str(tmp_path / "run") in msg
    # released on exit: the lock file is gone and the folder can be taken again
    assert not (tmp_path / "run" / LOCK_FILE).exists()
    with FolderLock(tmp_path / "run", what="training output dir"):
        pass


def test_lock_of_a_killed_holder_is_stale(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    code = textwrap.dedent(
        f"""
        import sys, time
        from eval_anything.folder_lock import FolderLock
        FolderLock({str(folder)!r}).acquire()
        print("locked", flush=True)
        time.sleep(600)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with pytest.raises(FolderBusyError, match=f"pid {child.pid}"):
            FolderLock(folder).acquire()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # the holder died without cleaning up: its file is left, its lock is not
    assert (folder / LOCK_FILE).exists()
    with FolderLock(folder):
        assert f'"pid": {os.getpid()}' in (folder / LOCK_FILE).read_text()
