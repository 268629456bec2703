"""How long the leaderboard's main page takes to load its data from a large store.

Seeds a SQLite store with N runs x T tasks (synthetic runs through the real ingest path: half
of them checkpoints of training runs), then times what the main page computes on a cold cache:
open the store, run the page's query, keep the latest run per checkpoint, pivot, rank by CI
upper bound, build sparklines; and the first screen's boards (one ranked board per task, up to
twelve, as the page shows them). Streamlit's cache makes repeat views free; this is the miss.

    python benchmarks/leaderboard_load.py                       # 1,000 runs x 20 tasks
    python benchmarks/leaderboard_load.py --runs 200 --store /tmp/lb.sqlite --keep
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from eval_anything.leaderboard import ranking
from eval_anything.spec.task import ScaleSpec
from eval_anything.store import Store, ingest, open_store, queries
from eval_anything.store.synthetic import random_store_runs


def seed(path: Path, runs: int, tasks: int, samples: int) -> float:
    started = time.perf_counter()
    with open_store(str(path)) as store:
        for results, records in random_store_runs(runs, tasks, samples):
            ingest(store, results, records)
    return time.perf_counter() - started


def main_page_load(store: Store) -> tuple[float, int]:
    """Seconds for one load of the main page's data on a data-cache miss (the app keeps the
    open store in ``st.cache_resource``); returns also the table's rows."""
    started = time.perf_counter()
    rows = queries.leaderboard_rows(store)
    unit = ScaleSpec(min=0, max=1)  # the synthetic tasks are accuracies: one declared scale
    scales = {str(t): unit for t in rows["task"].unique()}
    table = ranking.board_table(ranking.latest_per_checkpoint(rows), scales=scales)
    return time.perf_counter() - started, len(table)


def first_screen_load(store: Store, boards: int = 12) -> tuple[float, int]:
    """Seconds for the first screen's boards on a data-cache miss: the query, latest run per
    checkpoint, then one ranked board per suite or task (up to ``boards``, as the page shows);
    returns also how many boards were built."""
    started = time.perf_counter()
    rows = ranking.latest_per_checkpoint(queries.leaderboard_rows(store))
    unit = ScaleSpec(min=0, max=1)
    scales = {str(t): unit for t in rows["task"].unique()}
    names = ranking.first_screen_boards(ranking.board_names(rows), {})[:boards]
    for name in names:
        ranking.board_table(ranking.board_rows(rows, name)[0], name, scales)
    return time.perf_counter() - started, len(names)


def app_render(path: Path) -> float:
    """Seconds for a whole first run of the app script (query, ranking, widgets, table) under
    ``streamlit.testing.v1.AppTest``: the server-side cost of opening the main page."""
    import os

    from streamlit.testing.v1 import AppTest

    os.environ["EVAL_ANYTHING_STORE"] = str(path)
    app = Path(__file__).resolve().parent.parent / "leaderboard" / "app.py"
    started = time.perf_counter()
    at = AppTest.from_file(str(app), default_timeout=120).run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"the app failed: {at.exception}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--samples", type=int, default=10, help="Samples per task and run.")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--store", type=Path, default=None, help="SQLite file (default: temp).")
    parser.add_argument("--keep", action="store_true", help="Reuse an already seeded --store.")
    parser.add_argument("--app", action="store_true", help="Also time a full app run (AppTest).")
    args = parser.parse_args()
    path = args.store or Path(tempfile.mkdtemp()) / "leaderboard.sqlite"
    seed_s = 0.0
    if not (args.keep and path.exists()):
        path.unlink(missing_ok=True)
        seed_s = seed(path, args.runs, args.tasks, args.samples)
    started = time.perf_counter()
    with open_store(str(path)) as store:
        first, n_rows = main_page_load(store)
        first += time.perf_counter() - started - first  # include opening the store
        times = [main_page_load(store)[0] for _ in range(args.repeat)]
        boards = [first_screen_load(store) for _ in range(args.repeat)]
    report = {
        "runs": args.runs, "tasks": args.tasks, "samples_per_task": args.samples,
        "store_mb": round(path.stat().st_size / 2**20, 1), "seed_s": round(seed_s, 1),
        "table_rows": n_rows, "first_load_s": round(first, 3),
        "load_median_s": round(statistics.median(times), 3), "load_max_s": round(max(times), 3),
        "first_screen_boards": boards[0][1],
        "first_screen_median_s": round(statistics.median(b[0] for b in boards), 3),
    }
    if args.app:
        report["app_render_s"] = round(app_render(path), 3)
    print(json.dumps(report))
    print(f"main page data: first load {report['first_load_s']} s (opening the store), then "
          f"median {report['load_median_s']} s, max {report['load_max_s']} s over {args.repeat} "
          f"cache misses ({args.runs} runs x {args.tasks} tasks; goal < 1 s)")


if __name__ == "__main__":
    main()
