"""Time and memory per item of the models that answer with images and speech themselves, on the
tiny random-weight checkpoints the tests build (tests/tiny_native.py): each case is the Python
API equivalent of ``eval-anything run --model M --model-args ARGS --tasks TASK --limit N``, run
in its own process (so its peak memory is its own) with torch at one thread.

    .venv/bin/python benchmarks/native_models.py [--items 4] [--out DIR]

Prints a Markdown table (import and load time, seconds per item for generation and judging,
peak resident memory after the load and at the end, parameters); docs/any-to-any.md quotes
it. Tiny weights time the harness and the models' generation loops, not real model compute:
see that page for the estimate of what the released checkpoints need on a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

#: (label, checkpoint, adapter, model args beyond pretrained/dtype, task)
CASES = [
    ("Janus", "janus", "hf", "", "mini_amg_if_image"),
    ("Janus", "janus", "hf", "", "starter_gen"),
    ("Emu3", "emu3", "hf", "", "mini_amg_if_image"),
    ("Qwen2.5-Omni", "omni", "hf", "", "mini_amg_if_audio"),
    ("Qwen2.5-Omni", "omni", "hf", "", "starter_gen"),
    ("Qwen2.5-Omni talker=false", "omni", "hf", "talker=false", "starter_gen"),
    ("Qwen3-Omni", "omni3", "hf", "", "mini_amg_if_audio"),
    ("Qwen3-Omni", "omni3", "hf", "", "starter_gen"),
    ("agent: Janus draws itself", "janus_sectioned", "agent", "image=self,audio=none",
     "mini_amg_modality_selection"),
    ("agent: Qwen2.5-Omni speaks itself", "omni_sectioned", "agent",
     "audio=self,image=procedural", "mini_amg_modality_synergy"),
    # the paper's open models take the agent path for media; tiny stand-ins of their classes
    ("agent: LLaVA + procedural", "llava", "agent", "", "mini_amg_if_image"),
    ("agent: Qwen2-Audio + procedural", "qwen2_audio", "agent", "", "mini_amg_if_audio"),
    ("agent: Llama + procedural", "llama", "agent", "", "mini_amg_modality_synergy"),
]


def build_all(folder: Path) -> dict[str, Path]:
    from test_hf_av_inputs import build_tiny_qwen2_audio
    from tiny import build_tiny_llama, build_tiny_llava
    from tiny_native import (
        SECTIONED,
        build_tiny_emu3,
        build_tiny_janus,
        build_tiny_qwen2_5_omni,
        build_tiny_qwen3_omni,
    )

    return {
        "janus": build_tiny_janus(folder / "janus"),
        "emu3": build_tiny_emu3(folder / "emu3"),
        "omni": build_tiny_qwen2_5_omni(folder / "omni"),
        "omni3": build_tiny_qwen3_omni(folder / "omni3"),
        "janus_sectioned": build_tiny_janus(folder / "janus_s", answer=SECTIONED),
        "omni_sectioned": build_tiny_qwen2_5_omni(folder / "omni_s", answer=SECTIONED),
        "llava": build_tiny_llava(folder / "llava"),
        "qwen2_audio": build_tiny_qwen2_audio(_made(folder / "qwen2_audio")),
        "llama": build_tiny_llama(folder / "llama"),
    }


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def model_args(adapter: str, folder: Path, extra: str) -> str:
    base = (f"pretrained={folder},dtype=float32" if adapter == "hf"
            else f"lm=hf,lm.pretrained={folder},lm.dtype=float32")
    return f"{base},{extra}" if extra else base


def child(adapter: str, args: str, task: str, items: int, out: Path) -> dict[str, object]:
    """One case in this process: imports, load, then the run (generation, judging, writing);
    peak resident memory after the load and at the end."""
    import resource

    def peak_mib() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t0 = time.perf_counter()
    import torch
    import transformers  # noqa: F401 - timed apart from the model's own load

    torch.set_num_threads(1)
    import eval_anything as ea
    from eval_anything.models.build import build_adapter

    imported = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = build_adapter(adapter, args)
    loaded = time.perf_counter() - t0
    after_load = peak_mib()
    t1 = time.perf_counter()
    ea.evaluate(adapter, [task], model_args=args, limit=items, output_dir=out, cache_path=None,
                progress=False, adapter=model)
    ran = time.perf_counter() - t1
    torch_model = getattr(getattr(model, "lm", model), "model", None)
    params = sum(p.numel() for p in torch_model.parameters()) if torch_model is not None else 0
    model.close()
    return {"import_s": imported, "load_s": loaded, "run_s": ran, "items": items,
            "params": params, "rss_load_mib": after_load, "rss_peak_mib": peak_mib()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=4)
    ap.add_argument("--out", type=Path, default=None, help="keep the checkpoints and runs here")
    ap.add_argument("--child", nargs=4, metavar=("ADAPTER", "ARGS", "TASK", "OUT"),
                    help=argparse.SUPPRESS)
    ns = ap.parse_args()
    if ns.child:
        adapter, args, task, out = ns.child
        print(json.dumps(child(adapter, args, task, ns.items, Path(out))))
        return
    root = ns.out or Path(tempfile.mkdtemp(prefix="native-bench-"))
    dirs = build_all(root / "models")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "EVAL_ANYTHING_CACHE_DIR": str(root / "cache")}
    print(f"tiny checkpoints, {ns.items} items per case, torch threads 1, CPU\n")
    print("| model | task | model args | params | import s | load s | s / item "
          "| RSS after load MiB | peak RSS MiB |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for k, (label, ckpt, adapter, extra, task) in enumerate(CASES):
        args = model_args(adapter, dirs[ckpt], extra)
        cmd = [sys.executable, __file__, "--items", str(ns.items), "--child", adapter, args, task,
               str(root / "runs" / str(k))]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{label} on {task} failed:\n{proc.stderr[-3000:]}")
        fig = json.loads(proc.stdout.strip().splitlines()[-1])
        shown = (f"--model {adapter} {extra}").strip()
        print(f"| {label} | {task} | `{shown}` | {fig['params'] / 1e6:.2f}M | "
              f"{fig['import_s']:.1f} | {fig['load_s']:.2f} | {fig['run_s'] / fig['items']:.2f} | "
              f"{fig['rss_load_mib']:.0f} | {fig['rss_peak_mib']:.0f} |")


if __name__ == "__main__":
    main()
