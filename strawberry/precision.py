"""CPU mixed precision: bf16 autocast on CPUs that compute bf16 natively, fp32 elsewhere.

Only the matrix products run in bf16 (torch.autocast); the weights stay fp32. So LoRA weights, optimizer state and
the saved adapter are fp32, and generation never runs on bf16-cast weights (on 2 cores that was 6.6x slower than
fp32, while autocast was 1.9x faster). GPU profiles keep their own dtype handling (4-bit / bf16 per profile).
"""

import contextlib
from pathlib import Path

SETTINGS = ("auto", "bf16", "fp32")
NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}  # x86 flags of bf16 dot-product instructions


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU feature flags the kernel reports (empty where there is no /proc/cpuinfo, e.g. macOS)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    return {flag for line in text.splitlines() if line.startswith("flags") for flag in line.split(":", 1)[1].split()}


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    return bool(NATIVE_BF16_FLAGS & cpu_flags(cpuinfo))


def resolve_precision(setting: str, device: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """What a run on `device` uses for the profile's `precision` setting: "bf16-autocast" or "fp32" on a CPU
    ("auto": bf16 where the CPU has native bf16 instructions), "cuda" (the profile's own dtype) on a GPU."""
    if setting not in SETTINGS:
        raise ValueError(f"params.yaml profile precision={setting!r}: choose one of {', '.join(SETTINGS)}")
    if device != "cpu":
        return "cuda"
    if setting == "auto":
        setting = "bf16" if cpu_has_native_bf16(cpuinfo) else "fp32"
    return "bf16-autocast" if setting == "bf16" else "fp32"


def autocast(precision: str) -> contextlib.AbstractContextManager:
    """The context that forward passes (training and generation) run in for a resolved precision."""
    if precision == "bf16-autocast":
        import torch  # here, not at the top: the profiles are read by code that never loads a model

        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()
