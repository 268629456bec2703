"""GPU check that needs nothing downloaded: the ``hf`` adapter against raw transformers, and a
DPO step against a plain PyTorch step, on random-weight models built from configs, in bf16.

    python benchmarks/gpu_check.py [--json F] [--smoke]

Rows (one table at the end; each figure is the median of ``--rounds`` rounds, ours and raw
alternating so that a noisy neighbour hits both):

- ``llama generate``: ``--prompts`` chat prompts, greedy, ``--new-tokens`` each, in batches of
  ``--batch``: ``HFModel.generate`` per batch (as the runner calls it) against
  ``tokenizer.apply_chat_template`` + left-padded ``model.generate`` on the same weights;
  also the share of identical texts (both are greedy on the same tokens);
- ``llama multiple choice``: ``--prompts`` items of four choices: ``HFModel.loglikelihood``
  against one raw forward per batch of (context + choice) rows summing the choice's
  log-probabilities; also the largest difference of a log-likelihood (bf16: ~1e-1 is noise);
- ``qwen2-vl generate``: a small Qwen2-VL with one image per prompt: the adapter against
  ``processor.apply_chat_template`` + ``processor(...)`` + ``model.generate``;
- ``dpo step``: our DPO trainer (TRL underneath, reference log-probs precomputed) against a
  minimal PyTorch DPO step (forward over chosen+rejected, sigmoid loss, backward, AdamW), when
  TRL is importable; otherwise the row says it was skipped.

``--smoke`` shrinks the models and counts so that the whole script runs on a CPU in a minute
(a check that it runs, not a measurement). Exit status 1 when a row fails.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_models import llama_like, prompt_text, qwen2vl_like  # noqa: E402


def timed(fn: Callable[[], Any], device: str) -> tuple[float, Any]:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def alternate(ours: Callable[[], Any], raw: Callable[[], Any], rounds: int,
              device: str) -> tuple[float, float, Any, Any]:
    """Median seconds of ours and raw (after one warm-up call each), and their last outputs."""
    ours(), raw()
    t_ours, t_raw = [], []
    out_ours = out_raw = None
    for _ in range(rounds):
        t, out_ours = timed(ours, device)
        t_ours.append(t)
        t, out_raw = timed(raw, device)
        t_raw.append(t)
    return statistics.median(t_ours), statistics.median(t_raw), out_ours, out_raw


def llama_rows(folder: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    import torch

    from eval_anything.core.content import TextPart
    from eval_anything.core.requests import GenerateRequest, GenerationConfig, LoglikelihoodRequest
    from eval_anything.core.requests import Message as Msg
    from eval_anything.models.hf import HFModel

    adapter = HFModel(pretrained=str(folder), dtype="bfloat16", device=args.device)
    tok, model, n, b = adapter.tokenizer, adapter.model, args.prompts, args.batch
    texts = [prompt_text(i, args.prompt_words) for i in range(n)]
    gen = GenerationConfig(max_new_tokens=args.new_tokens)
    reqs = [GenerateRequest.from_parts([TextPart(text=t)], gen) for t in texts]

    def ours_gen() -> list[str]:
        return [o.text for s in range(0, n, b) for o in adapter.generate(reqs[s : s + b])]

    def raw_gen() -> list[str]:
        out: list[str] = []
        for s in range(0, n, b):
            chats = [[{"role": "user", "content": t}] for t in texts[s : s + b]]
            prompts = [tok.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
                       for c in chats]
            enc = tok(prompts, return_tensors="pt", padding=True, padding_side="left",
                      add_special_tokens=False).to(args.device)
            with torch.inference_mode():
                ids = model.generate(**enc, max_new_tokens=args.new_tokens, do_sample=False,
                                     pad_token_id=tok.pad_token_id)
            out += tok.batch_decode(ids[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        return out

    t_ours, t_raw, o, r = alternate(ours_gen, raw_gen, args.rounds, args.device)
    same = sum(x.strip() == y.strip() for x, y in zip(o, r, strict=True)) / n
    rows = [{"row": "llama generate", "ours_s": t_ours, "raw_s": t_raw,
             "note": f"{n} prompts x {args.new_tokens} tokens, batch {b}; "
                     f"identical texts {same:.0%}"}]

    choices = [f" w{k}" for k in (11, 22, 33, 44)]
    contexts = [f"Question: {t}\nAnswer:" for t in texts]
    mc = [LoglikelihoodRequest(context=[Msg(role="user", content=[TextPart(text=c)])],
                               continuations=choices, apply_chat_template=False)
          for c in contexts]

    def ours_mc() -> list[list[float]]:
        return [o.logprobs for s in range(0, n, b) for o in adapter.loglikelihood(mc[s : s + b])]

    def raw_mc() -> list[list[float]]:
        out: list[list[float]] = []
        for s in range(0, n, b):
            rows_ids, spans = [], []
            for c in contexts[s : s + b]:
                ctx = tok(c)["input_ids"]
                for ch in choices:
                    cont = tok(ch, add_special_tokens=False)["input_ids"]
                    rows_ids.append(ctx + cont)
                    spans.append((len(ctx), len(cont)))
            width = max(len(x) for x in rows_ids)
            ids = torch.full((len(rows_ids), width), tok.pad_token_id)
            mask = torch.zeros_like(ids)
            for i, x in enumerate(rows_ids):
                ids[i, : len(x)] = torch.tensor(x)
                mask[i, : len(x)] = 1
            ids, mask = ids.to(args.device), mask.to(args.device)
            with torch.inference_mode():
                lp = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits.float(), -1)
            sums = [float(sum(lp[i, p - 1, ids[i, p]] for p in range(start, start + k)))
                    for i, (start, k) in enumerate(spans)]
            out += [sums[j : j + len(choices)] for j in range(0, len(sums), len(choices))]
        return out

    t_ours, t_raw, o, r = alternate(ours_mc, raw_mc, args.rounds, args.device)
    diff = max(abs(x - y) for a, c in zip(o, r, strict=True) for x, y in zip(a, c, strict=True))
    rows.append({"row": "llama multiple choice", "ours_s": t_ours, "raw_s": t_raw,
                 "note": f"{n} items x 4 choices, batch {b}; largest loglik difference {diff:.3g}"})
    adapter.close()
    return rows


def qwen2vl_row(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    import io

    import torch
    from PIL import Image

    from eval_anything.core.content import ImagePart, TextPart
    from eval_anything.core.requests import GenerateRequest, GenerationConfig
    from eval_anything.models.hf import HFModel

    adapter = HFModel(pretrained=str(folder), dtype="bfloat16", device=args.device)
    proc, model, b = adapter.processor, adapter.model, args.batch
    n = max(b, args.prompts // 4)
    images = [Image.new("RGB", (224, 224), ((37 * i) % 256, (91 * i) % 256, 128))
              for i in range(n)]
    pngs = []
    for im in images:
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        pngs.append(buf.getvalue())
    texts = [prompt_text(i, 16) for i in range(n)]
    gen = GenerationConfig(max_new_tokens=args.new_tokens)
    reqs = [GenerateRequest.from_parts([ImagePart(data=p), TextPart(text=t)], gen)
            for p, t in zip(pngs, texts, strict=True)]

    def ours() -> list[str]:
        return [o.text for s in range(0, n, b) for o in adapter.generate(reqs[s : s + b])]

    def raw() -> list[str]:
        out: list[str] = []
        for s in range(0, n, b):
            chats = [[{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": t}]}]
                     for t in texts[s : s + b]]
            prompts = [proc.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
                       for c in chats]
            enc = proc(text=prompts, images=[[im] for im in images[s : s + b]],
                       return_tensors="pt", padding=True, padding_side="left").to(args.device)
            with torch.inference_mode():
                ids = model.generate(**enc, max_new_tokens=args.new_tokens, do_sample=False)
            out += proc.batch_decode(ids[:, enc["input_ids"].shape[1] :],
                                     skip_special_tokens=True)
        return out

    t_ours, t_raw, o, r = alternate(ours, raw, args.rounds, args.device)
    same = sum(x.strip() == y.strip() for x, y in zip(o, r, strict=True)) / n
    adapter.close()
    return {"row": "qwen2-vl generate", "ours_s": t_ours, "raw_s": t_raw,
            "note": f"{n} prompts with a 224x224 image x {args.new_tokens} tokens, batch {b}; "
                    f"identical texts {same:.0%}"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=128)
    ap.add_argument("--prompt-words", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dpo-steps", type=int, default=5)
    ap.add_argument("--smoke", action="store_true", help="tiny models, CPU allowed")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import torch

    args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device == "cpu" and not args.smoke:
        print("no CUDA device: run with --smoke for a CPU check that the script works")
        return 2
    if args.smoke:
        args.prompts, args.prompt_words, args.new_tokens = 8, 8, 4
        args.batch, args.rounds, args.dpo_steps = 4, 1, 1
    from dpo_gpu import dpo_row

    rows: list[dict[str, Any]] = []
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        steps: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = [
            ("llama", lambda: llama_rows(llama_like(Path(tmp) / "llama", args.device,
                                                    args.smoke), args)),
            ("qwen2-vl", lambda: [qwen2vl_row(qwen2vl_like(Path(tmp) / "qwen2vl", args.device,
                                                           args.smoke), args)]),
            ("dpo", lambda: [dpo_row(Path(tmp) / "llama", args)]),
        ]
        for name, step in steps:
            t0 = time.perf_counter()
            try:
                got = step()
            except Exception as e:  # one broken row must not hide the others' figures
                traceback.print_exc()
                got = [{"row": name, "error": f"{type(e).__name__}: {e}"[:300]}]
                failed = True
            print(f"{name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
            rows += got
            if args.device == "cuda":
                torch.cuda.empty_cache()
    print(table(rows, args, torch))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 1 if failed else 0


def table(rows: list[dict[str, Any]], args: argparse.Namespace, torch: Any) -> str:
    device = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu (smoke)"
    lines = [f"device: {device}; torch {torch.__version__}; bf16",
             "| row | ours (s) | raw (s) | ours / raw | note |", "|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['row']} | - | - | - | failed: {r['error']} |")
        elif r.get("skipped"):
            lines.append(f"| {r['row']} | - | - | - | skipped: {r['skipped']} |")
        else:
            lines.append(f"| {r['row']} | {r['ours_s']:.3f} | {r['raw_s']:.3f} | "
                         f"{r['ours_s'] / r['raw_s']:.2f} | {r['note']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
