"""DPO step time: our configured TRL DPOTrainer against a plain PyTorch DPO step.

Same model, same pairs, same batch, same precision (chosen from the hardware by
``eval_anything.trainers.setup.precision``), reference log-probs precomputed in both. The plain
loop is the least a DPO step can do: one policy forward over chosen+rejected, the sigmoid loss,
backward, AdamW. The ratio says what TRL's machinery costs on top (aim: within 10%). Rounds
alternate ours / plain so that load from other processes hits both alike; the figure is the
median step.

    python benchmarks/dpo_step.py                       # SmolLM2-135M, 4 pairs of 82 tokens
    python benchmarks/dpo_step.py --model DIR --steps 3 --rounds 2 --json out.json
    python benchmarks/dpo_step.py --trl-defaults        # also one step with TRL's own defaults
    python benchmarks/dpo_step.py --fused-head          # also ours with TRL's chunked LM head
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback

from eval_anything.trainers.algorithms.dpo import build_dpo_trainer
from eval_anything.trainers.config import load_train_config
from eval_anything.trainers.data.examples import Pair
from eval_anything.trainers.setup.models import resolve_model_path
from eval_anything.trainers.setup.precision import choose_precision

WORDS = ("the quick brown fox jumps over a lazy dog while seven red birds sing near the old "
         "river and children count stones in the warm evening light").split()


def text_of_tokens(tok: Any, n: int, offset: int) -> str:
    """A sentence of about ``n`` tokens (deterministic)."""
    words: list[str] = []
    i = offset
    while len(tok(" ".join(words), add_special_tokens=False)["input_ids"]) < n:
        words.append(WORDS[i % len(WORDS)])
        i += 1
    return " ".join(words)


def make_pairs(tok: Any, n_pairs: int, prompt_tokens: int, answer_tokens: int) -> list[Pair]:
    return [
        Pair(text_of_tokens(tok, prompt_tokens, 3 * i), text_of_tokens(tok, answer_tokens, i + 1),
             text_of_tokens(tok, answer_tokens, i + 7))
        for i in range(n_pairs)
    ]


class StepTimer(TrainerCallback):
    def __init__(self) -> None:
        self.times: list[float] = []
        self._t0 = 0.0

    def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self._t0 = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.times.append(time.perf_counter() - self._t0)


def ours(model: str, pairs: list[Pair], batch: int, steps: int, out: Path,
         extra: dict[str, Any] | None = None, lm_head: str = "auto") -> list[float]:
    """Per-step seconds of our configured DPO trainer (first step dropped as warm-up)."""
    overrides = {
        "model.path": model, "data.train": "benchmark pairs",
        "training.output_dir": str(out), "training.max_steps": steps + 1,
        "training.save_steps": 10_000, "training.per_device_train_batch_size": batch,
        "training.logging_steps": 10_000, "training.learning_rate": 1e-6,
        "dpo.precompute_ref_log_probs": True, "dpo.lm_head": lm_head,
        "training.trl": {"disable_tqdm": True, "save_strategy": "no", **(extra or {})},
    }
    cfg = load_train_config(None, "dpo", overrides)
    timer = StepTimer()
    trainer, _, _ = build_dpo_trainer(cfg, pairs, callbacks=[timer])
    trainer.train()
    return timer.times[1:]


def plain(model_dir: str, pairs: list[Pair], batch: int, steps: int, bf16: bool) -> list[float]:
    """Per-step seconds of a minimal PyTorch DPO step (same batches, ref log-probs precomputed)."""
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.pad_token = tok.pad_token or tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)

    def encode(group: list[Pair]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rows, masks = [], []
        for answer in ("chosen", "rejected"):
            for p in group:
                prompt = [{"role": "user", "content": p.prompt}]
                text = tok.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
                head = tok(text, add_special_tokens=False)["input_ids"]
                text = getattr(p, answer) + tok.eos_token
                tail = tok(text, add_special_tokens=False)["input_ids"]
                rows.append(list(head) + tail)
                masks.append([0] * len(head) + [1] * len(tail))
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), tok.pad_token_id)
        attn = torch.zeros_like(ids)
        comp = torch.zeros_like(ids)
        for i, (r, m) in enumerate(zip(rows, masks, strict=True)):
            ids[i, : len(r)] = torch.tensor(r)
            attn[i, : len(r)] = 1
            comp[i, : len(m)] = torch.tensor(m)
        return ids, attn, comp

    def logps(ids: torch.Tensor, attn: torch.Tensor, comp: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(input_ids=ids, attention_mask=attn).logits[:, :-1]
        lp = torch.log_softmax(logits.float(), dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)
        return (lp * comp[:, 1:]).sum(dim=1)

    batches = [encode(pairs[i : i + batch]) for i in range(0, len(pairs), batch)]
    with torch.no_grad():
        refs = [logps(*b) for b in batches]
    times = []
    for step in range(steps + 1):
        b, ref = batches[step % len(batches)], refs[step % len(batches)]
        t0 = time.perf_counter()
        lp = logps(*b)
        n = lp.shape[0] // 2
        margin = (lp[:n] - ref[:n]) - (lp[n:] - ref[n:])
        loss = -F.logsigmoid(0.1 * margin).mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t0)
    return times[1:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2", help="model folder or 'smollm2'")
    ap.add_argument("--pairs", type=int, default=16)
    ap.add_argument("--batch", type=int, default=4, help="pairs per step")
    ap.add_argument("--prompt-tokens", type=int, default=50)
    ap.add_argument("--answer-tokens", type=int, default=32, help="prompt + answer ~ 82 tokens")
    ap.add_argument("--steps", type=int, default=3, help="timed steps per round (after warm-up)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--trl-defaults", action="store_true",
                    help="also time one step with DPOConfig's own defaults (bf16=True, "
                         "gradient checkpointing, no precompute)")
    ap.add_argument("--fused-head", action="store_true",
                    help="also time ours with TRL's chunked LM head (dpo.lm_head=fused)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    model_dir = resolve_model_path(args.model)
    tok = AutoTokenizer.from_pretrained(model_dir)
    pairs = make_pairs(tok, args.pairs, args.prompt_tokens, args.answer_tokens)
    precision = choose_precision("auto")
    ours_t: list[float] = []
    plain_t: list[float] = []
    fused_t: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            ours_t += ours(model_dir, pairs, args.batch, args.steps, Path(tmp) / f"ours-{r}")
            plain_t += plain(model_dir, pairs, args.batch, args.steps, precision.name == "bf16")
            if args.fused_head:
                fused_t += ours(model_dir, pairs, args.batch, args.steps, Path(tmp) / f"f-{r}",
                                lm_head="fused")
        defaults_t = None
        if args.trl_defaults:
            defaults_t = ours(model_dir, pairs, args.batch, 1, Path(tmp) / "defaults",
                              extra={"bf16": True, "activation_checkpointing": True,
                                     "precompute_ref_log_probs": False}, lm_head="fused")
    result = {
        "model": args.model, "precision": precision.name, "precision_reason": precision.reason,
        "threads": torch.get_num_threads(), "batch_pairs": args.batch,
        "tokens_per_sequence": args.prompt_tokens + args.answer_tokens,
        "ours_s_per_step": statistics.median(ours_t),
        "plain_s_per_step": statistics.median(plain_t),
        "ours_steps": [round(t, 3) for t in ours_t], "plain_steps": [round(t, 3) for t in plain_t],
    }
    result["ratio"] = result["ours_s_per_step"] / result["plain_s_per_step"]
    if fused_t:
        result["ours_fused_head_s_per_step"] = statistics.median(fused_t)
    if defaults_t:
        result["trl_defaults_s_per_step"] = statistics.median(defaults_t)
    print(json.dumps(result, indent=2))
    print(f"ours {result['ours_s_per_step']:.2f} s/step, plain {result['plain_s_per_step']:.2f} "
          f"s/step, ratio {result['ratio']:.3f} ({precision.name}, {result['threads']} threads)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
