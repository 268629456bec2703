"""Several processes pushing at once lose nothing (SQLite WAL + busy retries; PostgreSQL locks)."""

from __future__ import annotations

import multiprocessing as mp
import traceback
from pathlib import Path

import pytest

from eval_anything.store import open_store, push
from eval_anything.store import queries as q
from eval_anything.store.synthetic import binary_run

pytest_plugins = ["store_support"]


def _worker(url: str, run_dirs: list[str], go: object, errors: object) -> None:
    try:
        go.wait(60)  # type: ignore[attr-defined]
        for run_dir in run_dirs:
            push(run_dir, url)
    except Exception:  # noqa: BLE001 - reported to the parent, which fails the test
        errors.put(traceback.format_exc())  # type: ignore[attr-defined]
        raise


def _push_in_parallel(url: str, batches: list[list[str]]) -> list[str]:
    ctx = mp.get_context("spawn")
    go, errors = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, b, go, errors)) for b in batches]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(300)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert [p.exitcode for p in procs] == [0] * len(procs), found
    return found


@pytest.mark.slow
def test_eight_processes_pushing_fifty_runs_each_into_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    batches = []
    for w in range(8):
        batches.append([
            str(binary_run(tmp_path / f"w{w}-r{i}", f"w{w}-r{i:02d}",
                           {"a": [1, 0, 1, 1, 0], "b": [0.5, 0.25, 1.0]}))
            for i in range(50)
        ])
    assert _push_in_parallel(url, batches) == []
    with open_store(url) as store:
        assert q.count_runs(store) == 400
        rows = q.leaderboard_rows(store)
        assert len(rows) == 800
        assert len(q.sample_records(store, "w7-r49", "a")) == 5


@pytest.mark.slow
def test_concurrent_pushes_of_the_same_runs_store_each_once(store_url: str, tmp_path: Path) -> None:
    runs = [str(binary_run(tmp_path / f"r{i}", f"same-{i}", {"a": [1, 0, 1]})) for i in range(10)]
    assert _push_in_parallel(store_url, [runs] * 4) == []
    with open_store(store_url) as store:
        assert q.count_runs(store) == 10
        assert len(q.leaderboard_rows(store)) == 10
        assert len(q.sample_records(store, "same-3", "a")) == 3
