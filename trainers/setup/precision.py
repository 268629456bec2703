"""Training precision chosen from the hardware, never from a default.

TRL's configs default to ``bf16=True`` and ``use_cpu`` does not turn it off. On a CPU without
bfloat16 instructions every bf16 matmul is emulated, about 6x slower: a SmolLM2-135M DPO step
went from ~11 s to 140 s. So ``auto`` picks bf16 only where the device really has it (CUDA GPUs
that report it, CPUs with AVX512-BF16 or AMX), fp16 on older CUDA GPUs, fp32 elsewhere, and an
explicit request the device cannot honour is an error rather than a silent slowdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from eval_anything.errors import UserError

PrecisionName = Literal["fp32", "bf16", "fp16"]
_CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class Precision:
    name: PrecisionName
    device: str
    reason: str

    def trainer_flags(self) -> dict[str, bool]:
        """The ``bf16``/``fp16`` arguments for transformers/TRL training arguments."""
        return {"bf16": self.name == "bf16", "fp16": self.name == "fp16"}


def detect_device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bfloat16 matmuls (AVX512-BF16 or AMX-BF16)."""
    import torch

    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        fn = getattr(cpu, probe, None)
        if fn is not None:
            try:
                if fn():
                    return True
            except RuntimeError:
                pass
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        flags = cpuinfo.read_text(errors="ignore")
        return any(f in flags.split() for f in _CPU_BF16_FLAGS)
    return False


def device_supports(device: str) -> dict[str, bool]:
    """Which reduced precisions ``device`` runs natively."""
    import torch

    if device.startswith("cuda"):
        return {"bf16": bool(torch.cuda.is_bf16_supported()), "fp16": True}
    if device == "cpu":
        return {"bf16": cpu_supports_bf16(), "fp16": False}
    return {"bf16": False, "fp16": False}


def decide(requested: str, device: str, supports: dict[str, bool]) -> Precision:
    """The pure decision, separate from probing so it can be tested on any machine."""
    if requested == "auto":
        if supports.get("bf16"):
            return Precision("bf16", device, f"{device} supports bfloat16")
        if device.startswith("cuda") and supports.get("fp16"):
            return Precision("fp16", device, f"{device} lacks bfloat16; fp16 mixed precision")
        return Precision("fp32", device, f"{device} lacks native bfloat16; fp32")
    if requested == "fp32":
        return Precision("fp32", device, "requested")
    if requested in ("bf16", "fp16"):
        if not supports.get(requested):
            raise UserError(
                f"field 'training.precision': {requested} was requested but {device} does not "
                f"run {requested} natively (it would be emulated, several times slower); "
                "use precision: auto or fp32"
            )
        return Precision(requested, device, "requested")  # type: ignore[arg-type]
    raise UserError(
        f"field 'training.precision': {requested!r} is not one of auto, fp32, bf16, fp16"
    )


def choose_precision(requested: str = "auto", device: str | None = None) -> Precision:
    dev = device or detect_device()
    return decide(requested, dev, device_supports(dev))
