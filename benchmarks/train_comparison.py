"""SFT vs DPO vs LLF on the demo's modality-selection data, from the same SmolLM2 base and the
same step budget, each scored on the held-out mini task with a paired 95% CI against the base.

    python benchmarks/train_comparison.py [--workdir runs/train_comparison] [--steps 20]

- SFT: the preferred answer of each demo instruction (`eval-anything demo`'s default);
- DPO: TRL's DPO on the demo's binary pairs (sigmoid + SFT term, the demo's DPO settings);
- LLF: a critic trained first (`train critic`, the same step budget) on the demo's feedback
  rows; then the base samples an answer to every demo instruction, the critic critiques it, the
  base refines it, and DPO trains on the (refinement, original) pairs with the DPO settings.

Every method trains the same number of steps of the same batch size and learning rate; the base
and each final checkpoint are scored greedily on `mini_amg_modality_selection` (24 items none of
the training data contains). Writes `comparison.json` and prints a Markdown table. Offline, CPU;
about 20 minutes on 2 idle cores (methods run in
parallel with ``--methods sft,dpo`` and ``--methods llf`` in two processes, then
``--methods ""`` prints the merged table).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

CRITIQUE_TEMPLATE = (  # the critic's training template, over the user's question only
    "Here is a question and an answer to it.\n\nQuestion: "
    "{{ prompt.split('User question: ')[-1] }}\n\nAnswer: {{ response }}\n\n"
    "Point out what is wrong or missing in the answer and say concretely how to improve it."
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="runs/train_comparison")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--llf-prompts", type=int, default=None, help="Use only the first N prompts.")
    ap.add_argument("--methods", default="sft,dpo,llf",
                    help="Comma-separated methods to run (each writes METHOD.json in the "
                    "workdir); the table covers every METHOD.json there.")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    cache = str(work / "cache.sqlite")  # the base is scored once, then answered from the cache
    for method in [m for m in args.methods.split(",") if m]:
        row = llf_method(work, cache, args) if method == "llf" else demo_method(
            method, work, cache, args)
        (work / f"{method}.json").write_text(json.dumps(row, indent=2))
    rows = {m: json.loads((work / f"{m}.json").read_text()) for m in ("sft", "dpo", "llf")
            if (work / f"{m}.json").exists()}
    add_gains(rows)
    (work / "comparison.json").write_text(json.dumps(rows, indent=2))
    print(table(rows))


def add_gains(rows: dict[str, Any]) -> None:
    """Each method's paired difference against the base run (scored in the SFT or DPO run)."""
    from eval_anything.trainers.demo.loop import DEMO_SCORE, DEMO_TASK, paired_gain

    base = next((r for r in rows.values() if r.get("base_run")), None)
    for r in rows.values():
        gain = base and paired_gain(Path(base["base_run"]), Path(r["run"]), DEMO_TASK,
                                    DEMO_SCORE)
        r["gain"] = gain.__dict__ if gain else None
        if base:
            r.setdefault("base", base["base"])


def demo_method(method: str, work: Path, cache: str, args: Any) -> dict[str, Any]:
    from eval_anything.trainers.demo.loop import DemoSettings, run_demo

    t0 = time.perf_counter()
    settings = DemoSettings(workdir=work / method, algorithm=method, max_steps=args.steps,
                            save_steps=args.steps, precision=args.precision, push=False,
                            cache_path=cache)
    report = run_demo(settings, echo=lambda line: print(f"[{method}] {line}", flush=True))
    base, last = report.outcomes[0], report.outcomes[-1]
    return outcome_row(base, last, time.perf_counter() - t0)


def llf_method(work: Path, cache: str, args: Any) -> dict[str, Any]:
    from eval_anything.trainers import train
    from eval_anything.trainers.config import load_train_config
    from eval_anything.trainers.demo.bundled_data import data_file
    from eval_anything.trainers.demo.loop import DEMO_TASK, DemoSettings, demo_pairs, task_spec
    from eval_anything.trainers.setup.models import resolve_model_path

    t0 = time.perf_counter()
    settings = DemoSettings(max_steps=args.steps, precision=args.precision)
    base = resolve_model_path("smollm2")
    common = {
        "model.path": base, "training.max_steps": args.steps, "training.save_steps": args.steps,
        "training.per_device_train_batch_size": settings.batch_size,
        "training.learning_rate": settings.learning_rate,
        "training.max_length": settings.max_length, "training.precision": args.precision,
        "training.trl": {"disable_tqdm": True},
    }
    critic = train(load_train_config(None, "critic", {
        **common, "data.train": str(data_file().parent / "feedback.jsonl"),
        "training.output_dir": str(work / "llf_critic"),
    }))
    print(f"[llf] critic trained: {critic.final_dir}", flush=True)
    prompts = work / "llf_prompts.jsonl"
    seen: dict[str, None] = {}
    for p in demo_pairs(settings, task_spec(DEMO_TASK, [])):
        seen.setdefault(p.prompt, None)
    texts = list(seen)[: args.llf_prompts]
    prompts.write_text("".join(json.dumps({"id": f"p{i}", "prompt": text}) + "\n"
                               for i, text in enumerate(texts)))
    outcome = train(load_train_config(None, "llf", {
        **common, "data.train": str(prompts), "training.output_dir": str(work / "llf"),
        "dpo.beta": settings.beta, "dpo.loss_type": list(settings.loss_type),
        "llf.critic": f"hf:pretrained={critic.final_dir},dtype=float32",
        "llf.critique_template": CRITIQUE_TEMPLATE,
        "llf.sample": {"max_new_tokens": 64, "temperature": 0.7, "seed": 0},
        "llf.critique": {"max_new_tokens": 40}, "llf.refine": {"max_new_tokens": 64},
        "llf.batch_size": 16,
        "autoscore.tasks": [DEMO_TASK], "autoscore.push": False, "autoscore.cache_path": cache,
    }))
    print(f"[llf] stages: {outcome.counts}", flush=True)
    last = outcome.train.scored[-1]
    row = outcome_row(None, last, time.perf_counter() - t0)
    row["pairs"] = outcome.counts.get("pairs")
    return row


def outcome_row(base: Any, last: Any, seconds: float) -> dict[str, Any]:
    from eval_anything.core.results_files import read_results

    def metric(o: Any) -> dict[str, Any]:
        results = read_results(Path(o.run_dir))
        m = results.tasks["mini_amg_modality_selection"].metrics["selection"]
        return {"value": m.value, "ci": [m.ci_low, m.ci_high]}

    return {
        "base": metric(base) if base else None, "base_run": base.run_dir if base else None,
        "trained": metric(last), "run": last.run_dir, "checkpoint": last.checkpoint,
        "seconds": round(seconds, 1),
    }


def table(rows: dict[str, Any]) -> str:
    base = next(r["base"] for r in rows.values() if r.get("base"))
    lines = ["| model | selection | 95% CI | minus base (paired) | 95% CI | minutes |",
             "|---|---:|---|---:|---|---:|",
             f"| base (SmolLM2-135M-Instruct) | {base['value']:.3f} | "
             f"[{base['ci'][0]:.3f}, {base['ci'][1]:.3f}] | | | |"]
    for method, r in sorted(rows.items(), key=lambda kv: ("sft", "dpo", "llf").index(kv[0])):
        t, g = r["trained"], r["gain"] or {}
        lines.append(
            f"| {method.upper()} | {t['value']:.3f} | [{t['ci'][0]:.3f}, {t['ci'][1]:.3f}] | "
            f"{g.get('mean', float('nan')):+.3f} | [{g.get('ci_low', float('nan')):+.3f}, "
            f"{g.get('ci_high', float('nan')):+.3f}] | {r['seconds'] / 60:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
