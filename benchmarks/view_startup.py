"""How long ``eval-anything view RUN_DIR...`` takes before it serves: finding and reading the run
folders, then pushing them into its temporary SQLite store (the page itself is then the
leaderboard's, timed by ``leaderboard_load.py``).

Writes N synthetic run folders (``results.json`` + ``samples/``, half of them checkpoints of
training runs) under a temporary folder, then times ``find_runs`` and ``fill_store`` as the
command runs them. ``--serve`` also times the whole command until Streamlit answers its health
check.

    python benchmarks/view_startup.py                     # 200 runs x 10 tasks x 20 samples
    python benchmarks/view_startup.py --runs 50 --serve
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from eval_anything.store import open_store
from eval_anything.store.run_folders import fill_store, find_runs
from eval_anything.store.synthetic import random_store_runs, write_run


def write_folders(root: Path, runs: int, tasks: int, samples: int) -> None:
    for results, records in random_store_runs(runs, tasks, samples):
        write_run(root / results.run_id, results, records)


def until_served(root: Path) -> float:
    """Seconds from starting ``eval-anything view ROOT`` until its server answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-c", "from eval_anything.cli import main; main()", "view",
           str(root), "--port", str(port)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/_stcore/health"
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.read() == b"ok":
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"eval-anything view exited with {proc.returncode}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--serve", action="store_true", help="also time the command until served")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        write_folders(root, args.runs, args.tasks, args.samples)
        t0 = time.perf_counter()
        found = find_runs([str(root)])
        t1 = time.perf_counter()
        with open_store(str(Path(tmp) / "view.sqlite")) as store:
            stored = fill_store(found, store)
        t2 = time.perf_counter()
        out = {
            "runs": args.runs, "tasks": args.tasks, "samples_per_task": args.samples,
            "stored": len(stored), "refused": len(found.refused),
            "find_and_read_s": round(t1 - t0, 2), "fill_store_s": round(t2 - t1, 2),
        }
        if args.serve:
            out["command_until_served_s"] = round(until_served(root), 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
