"""Times our multiple-choice scoring against lm-eval, and our batched generation against raw
batched ``generate`` calls, on the same model and items, in one run (ratios, not absolutes:
these machines are shared and noisy).

    .venv/bin/python benchmarks/mc_and_generation.py [--items 200] [--gen-items 32]

Prints a Markdown table; paste it into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0, proc.stdout


def lm_eval_task(folder: Path, items: Path) -> None:
    (folder / "starter_mc_lm.yaml").write_text(
        "task: starter_mc_lm\ndataset_path: json\n"
        f"dataset_kwargs:\n  data_files:\n    test: {items}\n"
        "test_split: test\noutput_type: multiple_choice\n"
        'doc_to_text: "Question: {{question}}\\nAnswer:"\n'
        'doc_to_choice: "{{choices}}"\ndoc_to_target: answer\n'
        "metric_list:\n  - metric: acc\n  - metric: acc_norm\n"
    )


def bench_mc(model_dir: Path, n: int, work: Path) -> dict[str, float]:
    from eval_anything.spec.catalog import bundled_tasks_dir

    data = bundled_tasks_dir() / "starter" / "starter_mc.jsonl"
    items = work / "items.jsonl"
    items.write_text("".join(data.read_text().splitlines(keepends=True)[:n]))
    lm_eval_task(work, items)
    lm_time, _ = timed([
        str(BIN / "lm_eval"), "run", "--model", "hf",
        "--model_args", f"pretrained={model_dir},dtype=float32", "--tasks", "starter_mc_lm",
        "--include_path", str(work), "--device", "cpu", "--batch_size", "8",
        "--output_path", str(work / "lm_out"),
    ])
    lm_res = json.loads(next((work / "lm_out").rglob("results_*.json")).read_text())
    lm_acc = lm_res["results"]["starter_mc_lm"]["acc,none"]
    our_time, _ = timed([
        str(BIN / "eval-anything"), "run", "--model", "hf",
        "--model-args", f"pretrained={model_dir},dtype=float32", "--tasks", "starter_mc",
        "--limit", str(n), "--no-cache", "--quiet", "--output-dir", str(work / "ours"),
    ])
    ours = json.loads((work / "ours" / "results.json").read_text())
    our_acc = ours["tasks"]["starter_mc"]["metrics"]["acc"]["value"]
    start, _ = timed([str(BIN / "eval-anything"), "tasks", "--no-sizes"])
    return {"lm_eval_s": lm_time, "ours_s": our_time, "lm_eval_acc": lm_acc, "our_acc": our_acc,
            "startup_s": start}


def bench_generation(model_dir: Path, n: int) -> dict[str, float]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from eval_anything.models.hf import HFModel
    from eval_anything.run.task_requests import TaskRequests
    from eval_anything.spec.catalog import load_catalog
    from eval_anything.spec.sources import load_samples
    from eval_anything.spec.task import render_input

    spec = load_catalog().tasks["starter_gen"]
    samples = load_samples(spec, limit=n)
    adapter = HFModel(str(model_dir), dtype="float32")
    treq = TaskRequests(spec, adapter, cache=_NoCache(), run_dir=Path(tempfile.mkdtemp()), seed=0)
    reqs = [treq.request(s) for s in samples]
    t0 = time.perf_counter()
    ours = adapter.generate(reqs)
    ours_s = time.perf_counter() - t0

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    texts = [
        tok.apply_chat_template([{"role": "user", "content": render_input(spec, s)[-1].text}],
                                add_generation_prompt=True, tokenize=False)
        for s in samples
    ]
    gen = {"max_new_tokens": spec.generation["max_new_tokens"], "do_sample": False,
           "pad_token_id": tok.pad_token_id or tok.eos_token_id}
    t0 = time.perf_counter()
    enc = tok(
        texts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False
    )
    with torch.inference_mode():
        out = model.generate(**enc, **gen)
    raw_texts = tok.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    raw_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for text in texts[:8]:
        e = tok([text], return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            model.generate(**e, **gen)
    one_s = (time.perf_counter() - t0) * len(texts) / 8
    same = sum(a.text.strip() == b.strip() for a, b in zip(ours, raw_texts, strict=True))
    return {"ours_s": ours_s, "raw_batched_s": raw_s, "one_at_a_time_s": one_s,
            "same_outputs": same, "n": len(texts)}


class _NoCache:
    def get(self, key: str) -> None:
        return None

    def put_many(self, rows: list) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--gen-items", type=int, default=32)
    ap.add_argument("--model-dir", type=Path, default=None)
    args = ap.parse_args()
    from eval_anything.models.smollm2 import ensure_converted

    model_dir = args.model_dir or ensure_converted()
    with tempfile.TemporaryDirectory() as tmp:
        mc = bench_mc(model_dir, args.items, Path(tmp))
    g = bench_generation(model_dir, args.gen_items)
    print(json.dumps({"mc": mc, "generation": g}, indent=2))
    print(f"\n| {args.items} MC items, SmolLM2-135M | wall (s) | acc |\n|---|---|---|")
    print(f"| lm-eval `hf` backend, batch 8 | {mc['lm_eval_s']:.1f} | {mc['lm_eval_acc']:.4f} |")
    print(f"| eval-anything `hf` (packed) | {mc['ours_s']:.1f} | {mc['our_acc']:.4f} |")
    print(f"| ratio (lm-eval / ours) | {mc['lm_eval_s'] / mc['ours_s']:.2f}x | |")
    print(f"| `eval-anything tasks` start-up | {mc['startup_s']:.1f} | |")
    print(f"\n| {g['n']} generations (starter_gen) | wall (s) |\n|---|---|")
    print(f"| raw batched `generate` | {g['raw_batched_s']:.2f} |")
    print(f"| eval-anything `hf` adapter | {g['ours_s']:.2f} |")
    print(f"| raw one at a time (extrapolated from 8) | {g['one_at_a_time_s']:.2f} |")
    print(f"| ours / raw batched | {g['ours_s'] / g['raw_batched_s']:.2f}x |")
    print(f"| identical outputs | {g['same_outputs']}/{g['n']} |")


if __name__ == "__main__":
    main()
