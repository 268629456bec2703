"""lm-eval's own ``hf`` backend vs eval-anything's ``lm_eval:<task>`` route, same task and model.

Both run lm-eval's task definition (prompts, metrics, stderr); only the model calls differ:
lm-eval's HFLM against our ``hf`` adapter through ``EvalAnythingLM``. The script reports each
route's evaluation wall time (model loading excluded, lm-eval's task loading included), their
ratio, both routes' metrics, and the largest per-choice log-likelihood difference.

    python benchmarks/lm_eval_vs_us.py                 # SmolLM2-135M (bundled), 100 items
    python benchmarks/lm_eval_vs_us.py --pretrained DIR --items 200 --batch-size 16

The task is a local lm-eval multiple-choice task (two-digit additions with four choices) written
to a temporary folder, so nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TASK = "bench_addition"


def write_task(folder: Path, items: int, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    rows = []
    for _ in range(items):
        a, b = rng.randint(10, 49), rng.randint(10, 49)
        right = a + b
        wrong = rng.sample([right + d for d in (-11, -10, -2, -1, 1, 2, 10, 11)], 3)
        choices = [str(x) for x in [right, *wrong]]
        rng.shuffle(choices)
        rows.append({"q": f"{a} + {b}", "choices": choices, "label": choices.index(str(right))})
    data = folder / "addition.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / f"{TASK}.yaml").write_text(
        f"task: {TASK}\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\n"
        "test_split: test\noutput_type: multiple_choice\n"
        'doc_to_text: "Question: What is {{q}}?\\nAnswer:"\n'
        'doc_to_choice: "{{choices}}"\ndoc_to_target: label\n'
        "metric_list:\n  - metric: acc\n  - metric: acc_norm\n"
    )
    return folder


def lm_eval_route(pretrained: str, tasks: Path, batch_size: int) -> dict[str, Any]:
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    lm = HFLM(pretrained=pretrained, dtype="float32", device="cpu", batch_size=batch_size)
    t0 = time.perf_counter()
    res = lm_eval.simple_evaluate(
        model=lm, tasks=[TASK], task_manager=TaskManager(include_path=str(tasks),
                                                         include_defaults=False),
        log_samples=True,
    )
    wall = time.perf_counter() - t0
    assert res is not None
    table = res["results"][TASK]
    lls = {
        str(ex["doc_id"]): [float(r[0][0]) for r in ex["resps"]] for ex in res["samples"][TASK]
    }
    return {
        "wall_s": wall,
        "acc": table["acc,none"], "acc_stderr": table["acc_stderr,none"],
        "acc_norm": table["acc_norm,none"], "lls": lls,
    }


def our_route(pretrained: str, tasks: Path, batch_size: int, out: Path) -> dict[str, Any]:
    from eval_anything.core.results import RunSpec
    from eval_anything.core.results_files import read_sample_records
    from eval_anything.integrations.lm_eval_tasks import run_lm_eval_task
    from eval_anything.models.hf import HFModel

    adapter = HFModel(pretrained=pretrained, dtype="float32", device="cpu", batch_size=batch_size)
    spec = RunSpec(model="hf", tasks=[f"lm_eval:{TASK}"], batch_size=batch_size)
    t0 = time.perf_counter()
    tr = run_lm_eval_task(adapter, f"lm_eval:{TASK}", spec, out, include_paths=[tasks])
    wall = time.perf_counter() - t0
    lls = {r.sample_id: r.metadata["choice_logprobs"]
           for r in read_sample_records(out, f"lm_eval:{TASK}")}
    return {
        "wall_s": wall,
        "acc": tr.metrics["acc"].value, "acc_stderr": tr.metrics["acc"].stderr,
        "acc_norm": tr.metrics["acc_norm"].value, "lls": lls,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pretrained", help="model folder (default: bundled SmolLM2-135M-Instruct)")
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()
    pretrained = args.pretrained
    if pretrained is None:
        from eval_anything.models.smollm2 import ensure_converted

        pretrained = str(ensure_converted())
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory() as tmp:
        tasks = write_task(Path(tmp) / "tasks", args.items)
        theirs = lm_eval_route(pretrained, tasks, args.batch_size)
        ours = our_route(pretrained, tasks, args.batch_size, Path(tmp) / "run")
    diff = max(
        abs(a - b) for k in theirs["lls"] for a, b in zip(theirs["lls"][k], ours["lls"][k],
                                                          strict=True)
    )
    figures = {
        "model": Path(pretrained).name, "items": args.items, "choices": 4,
        "batch_size": args.batch_size, "threads": torch.get_num_threads(),
        "lm_eval_hf_s": round(theirs["wall_s"], 2), "eval_anything_s": round(ours["wall_s"], 2),
        "time_ratio_ours_over_lm_eval": round(ours["wall_s"] / theirs["wall_s"], 3),
        "acc": [theirs["acc"], ours["acc"]], "acc_norm": [theirs["acc_norm"], ours["acc_norm"]],
        "acc_stderr": [theirs["acc_stderr"], ours["acc_stderr"]],
        "same_scores": theirs["acc"] == ours["acc"] and theirs["acc_norm"] == ours["acc_norm"],
        "max_abs_loglik_diff": diff,
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    sys.exit(0 if figures["same_scores"] else 1)


if __name__ == "__main__":
    main()
