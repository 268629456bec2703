"""Our own cost per request: everything the runner does around the model call.

    python benchmarks/request_overhead.py [--items 2000] [--json F]

A scripted model answers instantly, so a run's time is all ours: planning, prompt rendering,
request hashing, the resume check, cache lookups and stores, scoring, records, JSONL appends
(fsync included), reading the log back and the metrics. The run is profiled in-process and
its wall time is reported per item (from a run without the profiler) with each part's share of
a profiled run (cumulative time of the functions that do it), with the response cache off and
on (a fresh cache file: every request a miss, then stored).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

# (label, file suffix, function name): cumulative seconds of these functions
PARTS = [
    ("plan: load tasks and samples", "runner.py", "plan_tasks"),
    ("resume check (render + hash per item)", "requests.py", "is_done"),
    ("request building (render)", "requests.py", "request"),
    ("request hashing", "base.py", "content_hash"),
    ("cache lookups", "cache.py", "get"),
    ("cache stores", "cache.py", "put_many"),
    ("model call (scripted: instant)", "scripted.py", "generate"),
    ("scoring", "requests.py", "score_answers"),
    ("records built", "requests.py", "make_record"),
    ("JSONL appends (write + fsync)", "results.py", "append_sample_records"),
    ("log read back for metrics", "results.py", "read_sample_records"),
    ("metrics", "reduce.py", "task_metrics"),
    ("results.json written", "results.py", "write_results"),
]


def write_task(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": f"q{i}", "question": f"What is {i} + {i}?", "answer": "7"} for i in range(n)]
    (folder / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "overhead.yaml").write_text(
        "task: overhead\nsource: {jsonl: items.jsonl}\nloader: {name: qa}\n"
        "prompt: {template: '{{ text }} Answer with the number only.'}\n"
        "scorers: [{name: exact_match, args: {regex: '-?\\\\d+'}}]\n"
    )


def profile_run(tasks: Path, out: Path, cache: Path | None) -> tuple[float, pstats.Stats]:
    from eval_anything.run.runner import evaluate

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    evaluate("scripted", ["overhead"], model_args={"default": "7"}, include_paths=[tasks],
             output_dir=out, cache_path=cache if cache is not None else None, progress=False)
    prof.disable()
    return time.perf_counter() - t0, pstats.Stats(prof)


def plain_run(tasks: Path, out: Path, cache: Path | None) -> float:
    """Wall seconds of the run without the profiler (which slows Python-heavy parts most)."""
    from eval_anything.run.runner import evaluate

    t0 = time.perf_counter()
    evaluate("scripted", ["overhead"], model_args={"default": "7"}, include_paths=[tasks],
             output_dir=out, cache_path=cache, progress=False)
    return time.perf_counter() - t0


def parts(stats: pstats.Stats) -> dict[str, float]:
    """Share of the profiled run's time spent in each part."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    whole = max(v[3] for (_, _, name), v in table.items() if name == "evaluate")
    out = {}
    for label, suffix, func in PARTS:
        total = sum(v[3] for (file, _, name), v in table.items()
                    if name == func and file.endswith(suffix))
        out[label] = round(total / whole, 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import eval_anything.run.runner  # noqa: F401 - imports are start-up, not per-request cost

    work = Path(tempfile.mkdtemp(prefix="request_overhead-"))
    write_task(work / "tasks", args.items)
    figures: dict[str, Any] = {"items": args.items}
    for label, cache in (("no cache", None), ("fresh cache", work / "cache.sqlite")):
        slug = label.replace(" ", "_")
        wall = plain_run(work / "tasks", work / f"{slug}-plain", cache and work / "plain.sqlite")
        _, stats = profile_run(work / "tasks", work / slug, cache)
        shares = parts(stats)
        figures[label] = {"wall_s": round(wall, 3),
                          "us_per_item": round(wall / args.items * 1e6, 1),
                          "share_of_run": shares}
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
