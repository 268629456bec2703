"""The overlap check at the size of align-anything-200k against an evaluation suite: time and
peak memory (RSS) of ``check_overlap``, and whether it found every planted overlap.

    python benchmarks/overlap_scale.py                       # 200k rows vs 3,000 synthetic items
    python benchmarks/overlap_scale.py --rows 20000          # a quicker look
    python benchmarks/overlap_scale.py --tasks eval-anything-mini   # the bundled mini items

The training side is written once to ``--data`` (JSONL, align-anything's text layout:
``prompt, response_0, response_1, better_response_id``; prompts and answers of realistic length,
words drawn from a Zipf-distributed vocabulary so common words repeat as in real text), with
``--image-every`` rows carrying a small PNG. The evaluation side is synthetic items from the same
vocabulary (so most of their words occur in training text, the costly case), a tenth of them with
an image, or the items of ``--tasks``. Overlaps are planted: whole items copied into responses,
13-word runs of items inside longer answers, item images saved under other names. The check runs
in a child process, so its peak RSS is its own and not that of the data generation.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

VOCAB = 30_000


class Words:
    """Zipf-distributed words (a fixed vocabulary of made-up words), seeded."""

    POOL = 4_000_000

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        ranks = np.arange(1, VOCAB + 1)
        p = 1.0 / ranks**1.1
        vocab = np.array([f"w{i:x}" for i in range(VOCAB)], dtype=object)
        self.pool = vocab[self.rng.choice(VOCAB, size=self.POOL, p=p / p.sum())]

    def text(self, n: int) -> str:
        """``n`` words from a random place in a long Zipf-distributed stream."""
        start = int(self.rng.integers(0, self.POOL - n))
        return " ".join(self.pool[start:start + n])

    def length(self, mean: int) -> int:
        return int(max(5, self.rng.normal(mean, mean / 3)))


def _png(path: Path, seed: int) -> None:
    from PIL import Image

    px = np.random.default_rng(seed).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(px).save(path)


def make_data(out: Path, rows: int, items: int, image_every: int, planted: int) -> None:
    """Training JSONL, the evaluation items (a task folder) and the planted ids."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "task" / "media").mkdir(parents=True, exist_ok=True)
    (out / "train_media").mkdir(exist_ok=True)
    ev = Words(1)
    eval_rows = []
    for i in range(items):
        parts: list[dict[str, Any]] = [{"type": "text", "text": ev.text(ev.length(40))}]
        if i % 10 == 0:
            _png(out / "task" / "media" / f"{i}.png", 10_000 + i)
            parts.append({"type": "image", "path": f"media/{i}.png"})
        eval_rows.append({"id": f"item-{i}", "input": parts, "target": "x"})
    (out / "task" / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in eval_rows))
    (out / "task" / "synthetic_suite.yaml").write_text(
        "task: synthetic_suite\nversion: '1'\nsource: {jsonl: items.jsonl}\n"
        "loader: {name: sample}\nscorers: [{name: exact_match}]\nprimary_metric: exact_match\n")
    n_images = max(rows // image_every, 1) if image_every else 0
    for k in range(min(n_images, 2000)):
        _png(out / "train_media" / f"t{k}.png", k)
    tr = Words(2)
    plant_rows = {int(r): j for j, r in enumerate(
        np.random.default_rng(3).choice(rows, size=3 * planted, replace=False))}
    expected: set[str] = set()
    with (out / "train.jsonl").open("w") as f:
        for r in range(rows):
            row: dict[str, Any] = {"prompt": tr.text(tr.length(30)),
                                   "response_0": tr.text(tr.length(120)),
                                   "response_1": tr.text(tr.length(120)),
                                   "better_response_id": r % 2}
            if image_every and r % image_every == 0:
                row["image"] = f"train_media/t{(r // image_every) % 2000}.png"
            j = plant_rows.get(r)
            if j is not None:
                item = j * 10  # every planted item has an image, for the media plants
                text = eval_rows[item]["input"][0]["text"]
                expected.add(f"item-{item}")
                if j < planted:  # the whole item as an answer
                    row["response_1"] = text
                elif j < 2 * planted:  # a 13-word run inside a longer answer
                    run = " ".join(text.split()[3:16])
                    row["response_0"] = f"{tr.text(40)} {run} {tr.text(40)}"
                else:  # the item's image under another name
                    src = out / "task" / "media" / f"{item}.png"
                    (out / "train_media" / f"copy{item}.png").write_bytes(src.read_bytes())
                    row["image"] = f"train_media/copy{item}.png"
            f.write(json.dumps(row) + "\n")
    (out / "planted.json").write_text(json.dumps(sorted(expected)))


def run_check(data: Path, tasks: str | None) -> dict[str, Any]:
    """In this process (the child): the check, its time and this process's peak RSS."""
    from eval_anything.overlap import check_overlap
    from eval_anything.spec.catalog import load_catalog

    cat = load_catalog([data / "task"])
    names, _ = cat.expand((tasks or "synthetic_suite").split(","))
    specs = [cat.tasks[n] for n in names]
    t0 = time.perf_counter()
    report = check_overlap([data / "train.jsonl"], specs, media_root=data)
    seconds = time.perf_counter() - t0
    flagged = {t: sorted(report.flagged_ids(t)) for t in report.tasks}
    return {"seconds": seconds, "peak_rss_mib": resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024, "train_rows": report.train_rows,
            "items": sum(t.n for t in report.tasks.values()), "flagged": flagged}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--items", type=int, default=3_000)
    ap.add_argument("--image-every", type=int, default=100, help="1 row in N has an image")
    ap.add_argument("--planted", type=int, default=20, help="overlaps planted of each kind")
    ap.add_argument("--data", type=Path, default=Path("/tmp/overlap_scale"))
    ap.add_argument("--tasks", default=None, help="check these tasks instead of synthetic items")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.items < 30 * args.planted:
        ap.error("--items must be at least 30 x --planted (each planted item is one with an image)")
    if args.child:
        print(json.dumps(run_check(args.data, args.tasks)))
        return
    marker = args.data / f"made-{args.rows}-{args.items}-{args.image_every}-{args.planted}"
    if not marker.exists():
        t0 = time.perf_counter()
        make_data(args.data, args.rows, args.items, args.image_every, args.planted)
        marker.touch()
        print(f"data written in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    cmd = [sys.executable, __file__, "--child", "--data", str(args.data)]
    cmd += ["--tasks", args.tasks] if args.tasks else []
    res = json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout)
    size = (args.data / "train.jsonl").stat().st_size / 2**20
    print(f"| {res['train_rows']:,} rows ({size:.0f} MiB JSONL) | {res['items']:,} items | "
          f"{res['seconds']:.0f} s | {res['peak_rss_mib']:.0f} MiB |")
    if not args.tasks:
        want = set(json.loads((args.data / "planted.json").read_text()))
        got = set(res["flagged"]["synthetic_suite"])
        print(f"planted {len(want)} items, flagged {len(got)}: missed {sorted(want - got)}, "
              f"extra {sorted(got - want)}")


if __name__ == "__main__":
    main()
