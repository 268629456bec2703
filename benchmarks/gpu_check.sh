#!/usr/bin/env bash
# GPU check that needs nothing downloaded (about 3-6 minutes on one GPU; stops at 8):
#   benchmarks/gpu_check.py builds random-weight models from configs on the GPU (a ~0.7B
#   Llama-like and a small Qwen2-VL-like) and times, in bf16, the hf adapter's generation and
#   multiple-choice scoring against raw transformers calls, and a DPO step against a plain
#   PyTorch step; it prints one table.
#   Where vLLM is installed, the vLLM checks run too (gpu-marked tests, gpu_check_vllm.py).
# Needs: an NVIDIA GPU with torch and transformers. eval-anything is installed from this tree
# without dependencies; pure-Python dependencies the machine lacks (pydantic, pyyaml, ...) and
# TRL for the DPO row are installed from benchmarks/wheels/ when that folder holds them. Fill it
# beforehand, on a machine with network, for the GPU machine's Python:
#   benchmarks/gpu_check.sh --fetch-wheels [PYTHON_VERSION, default 3.12]
# Usage: benchmarks/gpu_check.sh [OUT_DIR] [extra gpu_check.py args]
# Figures land in OUT_DIR/gpu_check.json and OUT_DIR/gpu_check.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"

if [[ "${1:-}" == "--fetch-wheels" ]]; then
  version="${2:-3.12}"
  mkdir -p benchmarks/wheels
  # pure-Python packages and small binary wheels only: the whole folder must stay under 64 MiB
  "$PY" -m pip download --only-binary=:all: --no-deps --python-version "$version" \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 -d benchmarks/wheels \
    pydantic pydantic-core annotated-types typing-inspection typing-extensions pyyaml jinja2 \
    markupsafe rich markdown-it-py mdurl pygments typer click shellingham httpx httpcore h11 \
    anyio idna certifi trl datasets pyarrow dill multiprocess xxhash fsspec
  du -sh benchmarks/wheels
  exit 0
fi

out="${1:-gpu_check_out}"
shift || true
mkdir -p "$out"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
"$PY" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', \
transformers.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$out/gpu.txt"

missing=$("$PY" - <<'EOF'
import importlib.util
need = {"pydantic": "pydantic", "yaml": "pyyaml", "jinja2": "jinja2", "rich": "rich",
        "typer": "typer", "httpx": "httpx", "PIL": "pillow", "trl": "trl", "datasets": "datasets",
        "pyarrow": "pyarrow", "dill": "dill", "multiprocess": "multiprocess",
        "xxhash": "xxhash", "fsspec": "fsspec"}
print(" ".join(pkg for mod, pkg in need.items() if importlib.util.find_spec(mod) is None))
EOF
)
if [[ -n "$missing" && -d benchmarks/wheels ]]; then
  echo "installing from benchmarks/wheels: $missing"
  "$PY" -m pip install -q --no-index --find-links benchmarks/wheels $missing || true
elif [[ -n "$missing" ]]; then
  echo "not installed (no benchmarks/wheels folder): $missing"
fi
"$PY" -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -2

timeout 480 "$PY" benchmarks/gpu_check.py --json "$out/gpu_check.json" "$@" 2>&1 \
  | tee "$out/gpu_check.txt"

if "$PY" -c "import vllm" 2>/dev/null; then
  "$PY" -m pytest -q -m gpu tests/test_vllm_adapter.py -p no:cacheprovider 2>&1 \
    | tee "$out/pytest_gpu.txt"
  "$PY" benchmarks/gpu_check_vllm.py --json "$out/gpu_check_vllm.json" 2>&1 \
    | tee "$out/gpu_check_vllm.txt"
else
  echo "vLLM not installed: its checks skipped" | tee -a "$out/gpu.txt"
fi
