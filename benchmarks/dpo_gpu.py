"""The GPU check's DPO row: our DPO trainer against a minimal PyTorch DPO step, same model,
pairs, batch and precision (bf16 autocast over fp32 weights, as the Trainer's ``bf16=True``),
reference log-probs precomputed in both. TRL is not on the GPU machine by default: without it
the row says so instead of failing (``gpu_check.sh`` installs a carried wheel when present)."""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from pathlib import Path
from typing import Any

from gpu_models import prompt_text


def dpo_row(model_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    missing = [m for m in ("trl", "datasets") if importlib.util.find_spec(m) is None]
    if missing:
        return {"row": "dpo step", "skipped": f"{', '.join(missing)} not installed "
                "(put their wheels in benchmarks/wheels; see gpu_check.sh)"}
    from dpo_step import ours

    from eval_anything.trainers.data.examples import Pair

    n_pairs = 4 * args.batch
    pairs = [Pair(prompt_text(i, args.prompt_words), prompt_text(i + 1, 32),
                  prompt_text(i + 2, 32)) for i in range(n_pairs)]
    steps = args.dpo_steps
    out = model_dir.parent / "dpo-out"
    ours_t: list[float] = []
    plain_t: list[float] = []
    for r in range(max(args.rounds - 1, 1)):
        ours_t += ours(str(model_dir), pairs, args.batch, steps, out / f"ours-{r}")
        plain_t += plain_steps(model_dir, pairs, args.batch, steps, args.device)
    o, p = statistics.median(ours_t), statistics.median(plain_t)
    return {"row": "dpo step", "ours_s": o, "raw_s": p,
            "note": f"{args.batch} pairs per step, ~{args.prompt_words + 32} tokens each; "
                    "raw = plain PyTorch step; median s/step"}


def plain_steps(model_dir: Path, pairs: list[Any], batch: int, steps: int,
                device: str) -> list[float]:
    """Seconds per step of the least a DPO step does (first step dropped as warm-up)."""
    import torch
    import torch.nn.functional as F
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)

    def encode(group: list[Any]) -> tuple[torch.Tensor, ...]:
        rows, masks = [], []
        for answer in ("chosen", "rejected"):
            for p in group:
                chat = [{"role": "user", "content": p.prompt}]
                head = tok(tok.apply_chat_template(chat, add_generation_prompt=True,
                                                   tokenize=False),
                           add_special_tokens=False)["input_ids"]
                tail = tok(getattr(p, answer) + tok.eos_token,
                           add_special_tokens=False)["input_ids"]
                rows.append(list(head) + list(tail))
                masks.append([0] * len(head) + [1] * len(tail))
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), tok.pad_token_id)
        attn, comp = torch.zeros_like(ids), torch.zeros_like(ids)
        for i, (r, m) in enumerate(zip(rows, masks, strict=True)):
            ids[i, : len(r)], attn[i, : len(r)] = torch.tensor(r), 1
            comp[i, : len(m)] = torch.tensor(m)
        return ids.to(device), attn.to(device), comp.to(device)

    def logps(ids: torch.Tensor, attn: torch.Tensor, comp: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device, dtype=torch.bfloat16):
            logits = model(input_ids=ids, attention_mask=attn).logits[:, :-1]
        lp = torch.log_softmax(logits.float(), dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)
        return (lp * comp[:, 1:]).sum(dim=1)

    batches = [encode(pairs[i : i + batch]) for i in range(0, len(pairs), batch)]
    with torch.no_grad():
        refs = [logps(*b) for b in batches]
    times = []
    for step in range(steps + 1):
        b, ref = batches[step % len(batches)], refs[step % len(batches)]
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        lp = logps(*b)
        n = lp.shape[0] // 2
        margin = (lp[:n] - ref[:n]) - (lp[n:] - ref[n:])
        loss = -F.logsigmoid(0.1 * margin).mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return times[1:]
