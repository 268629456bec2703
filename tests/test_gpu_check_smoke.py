"""``benchmarks/gpu_check.py --smoke`` runs on a CPU: the GPU check's every row (random-weight
models from configs, hf adapter against raw transformers, DPO step against plain PyTorch)
works before anyone spends GPU time on it. A check that it runs, not a measurement."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_smoke_runs_every_row(tmp_path: Path) -> None:
    out = tmp_path / "gpu_check.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--smoke", "--json", str(out)],
        env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    rows = json.loads(out.read_text())
    assert [r["row"] for r in rows] == [
        "llama generate", "llama multiple choice", "qwen2-vl generate", "dpo step"
    ]
    for r in rows:
        assert r["ours_s"] > 0 and r["raw_s"] > 0
    assert "identical texts 100%" in rows[0]["note"]
    assert "| llama generate |" in done.stdout
