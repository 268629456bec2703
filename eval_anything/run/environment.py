"""What the evaluation ran on: git commit and dirty flag, package versions, platform, device."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from eval_anything.core.results import Environment

TRACKED_PACKAGES = (
    "eval-anything",
    "torch",
    "transformers",
    "tokenizers",
    "accelerate",
    "numpy",
    "datasets",
    "lm-eval",
    "trl",
    "peft",
    "open_clip_torch",
    "sentence-transformers",
    "vllm",
    "pydantic",
)


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def source_root() -> Path:
    return Path(__file__).resolve().parents[2]


def capture_environment() -> Environment:
    root = source_root()
    commit = _git(["rev-parse", "HEAD"], root)
    status = _git(["status", "--porcelain", "--untracked-files=no"], root) if commit else None
    packages = {}
    for name in TRACKED_PACKAGES:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            continue
    return Environment(
        git_commit=commit,
        git_dirty=None if status is None else bool(status),
        packages=packages,
        platform=platform.platform(),
        python=sys.version.split()[0],
        device=_device(),
    )


def _device() -> str:
    torch = sys.modules.get("torch")
    if torch is None:
        return "cpu"
    try:
        if torch.cuda.is_available():
            return f"cuda:{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    except Exception:  # noqa: BLE001 - device probing must never fail a run
        pass
    return "cpu"
