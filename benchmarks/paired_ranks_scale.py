"""Cost of a board's paired ranks: every pair of N runs tested on their shared items.

    python benchmarks/paired_ranks_scale.py                 # 50 runs: 24 / 500 binary, 2,000 graded
    python benchmarks/paired_ranks_scale.py --runs 20

Two ways are timed on the same synthetic runs (one task, per-item scores drawn per run):
``paired_ranking`` (all pairs of an item set at once, ``compare_all_pairs``) and the peer, the
gate's one-pair ``compare_records`` called for a sample of pairs and scaled to all of them. Both use
the same seeded resamples, so they give the same difference and two-sided p (what a rank
uses); the benchmark checks that too. Writes
a markdown table to stdout (pasted into docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from eval_anything.core.results import SampleRecord  # noqa: E402
from eval_anything.leaderboard.paired_ranks import paired_ranking  # noqa: E402
from eval_anything.stats.run_pair import compare_records  # noqa: E402
from eval_anything.store.synthetic import make_records  # noqa: E402

TASK = "bench"
SAMPLED_PAIRS = 20


def _runs(n_runs: int, n_items: int, graded: bool, seed: int = 0
          ) -> dict[str, list[SampleRecord]]:
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n_runs):
        p = 0.4 + 0.3 * i / max(n_runs - 1, 1)
        values = (rng.integers(1, 11, n_items) * p if graded
                  else (rng.random(n_items) < p).astype(float))
        out[f"run{i:03d}"] = make_records(TASK, [float(v) for v in values])
    return out


def _case(n_runs: int, n_items: int, graded: bool) -> dict[str, object]:
    records = _runs(n_runs, n_items, graded)
    rows = pd.DataFrame({"run_id": list(records), "task": TASK, "task_fingerprint": "fp"})
    start = time.perf_counter()
    ranking = paired_ranking(rows, [TASK], lambda run, task: ("acc", records[run]))
    all_at_once = time.perf_counter() - start
    pairs = list(itertools.combinations(records, 2))
    sample = pairs[:: max(len(pairs) // SAMPLED_PAIRS, 1)][:SAMPLED_PAIRS]
    start = time.perf_counter()
    one_by_one = [compare_records(records[a], records[b], "acc") for a, b in sample]
    per_pair = (time.perf_counter() - start) / len(sample)
    by_pair = {(p.baseline, p.candidate): p for p in ranking.pairs}
    same = all(abs(by_pair[(a, b)].p_two_sided - c.p_two_sided) < 1e-9
               and abs(by_pair[(a, b)].diff - c.diff) < 1e-12
               for (a, b), c in zip(sample, one_by_one, strict=True))
    return {"runs": n_runs, "items": n_items, "scores": "graded 1-10" if graded else "0/1",
            "pairs": len(pairs), "all pairs at once (s)": round(all_at_once, 2),
            "one pair at a time, scaled (s)": round(per_pair * len(pairs), 1),
            "same numbers": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    cases = [(24, False), (500, False), (2000, True)]
    rows = [_case(args.runs, n, graded) for n, graded in cases]
    head = list(rows[0])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(str(r[h]) for h in head) + " |")
    print(f"\nload average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
