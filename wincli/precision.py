"""Compute precision: float32, or bfloat16 / float16 autocast with float32 weights.

>>> pick_precision("auto", torch.device("cpu"), measured_ok=True)     # doctest: +SKIP
Precision(name='bf16', reason='bf16 matrix units (AMX) ...')
>>> with autocast(torch.device("cpu"), "bf16"):                       # doctest: +SKIP
...     y = net(x)

Under autocast the dense blocks' 3x3 convolutions (almost all of the arithmetic) run in the
low precision; the layers whose numerics matter stay float32 (docs/method.md, "Precision"):
every WIC and its float64 left inverse, the coupling's scale ``exp(s)`` and its additions, the
log-determinants, the losses and the 8-bit rounding. Weights stay float32 (training keeps float32
master weights; nothing is converted on load).

``auto`` picks bf16 only where the hardware runs it fast (a CPU with AMX or AVX512-BF16, a CUDA
GPU with bf16 units) and the model's measured quality loss in bf16 is within
``AUTO_MAX_LOSS_DB`` (``measured_ok``), else fp32.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# A model's restored PSNR may drop at most this much in bf16 (through 8-bit files, registry
# metrics ``bf16_delta_db``) for ``auto`` to pick bf16.
AUTO_MAX_LOSS_DB = 0.05
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Precision:
    name: str  # fp32, bf16 or fp16 (never auto)
    reason: str  # why: what ``win --version`` says

    @property
    def dtype(self) -> torch.dtype | None:
        """The autocast dtype, None for float32."""
        return DTYPES.get(self.name)


def bf16_hardware(device: torch.device) -> tuple[bool, str]:
    """(runs bf16 fast, what was detected) for a device, from the CPU's or GPU's own flags."""
    if device.type == "cuda":
        ok = torch.cuda.is_bf16_supported()
        name = torch.cuda.get_device_name(device)
        return ok, f"{name} {'has' if ok else 'has no'} bf16 units"
    if device.type != "cpu":
        return False, f"bf16 is not used on {device.type}"
    cpu = getattr(torch, "cpu", None)
    amx = bool(getattr(cpu, "_is_amx_tile_supported", lambda: False)())
    avx = bool(getattr(cpu, "_is_avx512_bf16_supported", lambda: False)())
    if not torch.backends.mkldnn.is_available():
        return False, "this torch build has no oneDNN"
    if amx:
        return True, "the CPU has bf16 matrix units (AMX)"
    if avx:
        return True, "the CPU has AVX512-BF16"
    return False, "the CPU has no bf16 units (no AMX, no AVX512-BF16)"


def pick_precision(name: str, device: torch.device, measured_ok: bool | None) -> Precision:
    """Resolve ``--precision`` for a device and a model (``measured_ok``: its bf16 loss was
    measured within ``AUTO_MAX_LOSS_DB``; None: never measured, as for a ``--weights`` file).

    An explicit fp16 needs CUDA and an explicit bf16 a device that has it (a ValueError
    otherwise); ``auto`` never fails."""
    if name not in PRECISIONS:
        raise ValueError(f"--precision must be one of {', '.join(PRECISIONS)}, not {name!r}")
    if name == "fp32":
        return Precision("fp32", "asked for")
    if name == "fp16":
        if device.type != "cuda":
            raise ValueError("--precision fp16 needs a CUDA device (use bf16 on a CPU)")
        return Precision("fp16", "asked for")
    fast, why = bf16_hardware(device)
    if name == "bf16":
        if device.type not in ("cpu", "cuda") or (device.type == "cuda" and not fast):
            raise ValueError(f"--precision bf16: {why}")
        return Precision("bf16", "asked for" + ("" if fast else f" ({why}: slow here)"))
    if not fast:
        return Precision("fp32", why)
    if measured_ok is None:
        return Precision("fp32", f"{why}, but these weights' bf16 quality was never measured")
    if not measured_ok:
        return Precision("fp32", f"{why}, but this model loses over {AUTO_MAX_LOSS_DB} dB in bf16")
    return Precision("bf16", why)


def describe_auto(device: torch.device) -> str:
    """One line: what ``--precision auto`` does on ``device`` and why."""
    fast, why = bf16_hardware(device)
    if not fast:
        return f"precision auto on {device.type}: fp32 ({why})"
    return (
        f"precision auto on {device.type}: bf16 for models whose measured bf16 loss is at most "
        f"{AUTO_MAX_LOSS_DB} dB, else fp32 ({why})"
    )


def training_precision(name: str, device: torch.device) -> Precision:
    """Resolve ``win train --precision``: ``auto`` is bf16 wherever the hardware runs it fast
    (validation is float32 either way, so a run's numbers are comparable across precisions);
    fp16 is not offered (it needs loss scaling, and bf16 does the same work without it)."""
    if name == "fp16":
        raise ValueError("win train --precision fp16 is not supported; use bf16")
    if name == "auto":
        fast, why = bf16_hardware(device)
        return Precision("bf16" if fast else "fp32", why)
    return pick_precision(name, device, measured_ok=True)


def autocast(device: torch.device, precision: Precision | str | None):
    """The autocast context for a precision (a null context for fp32)."""
    name = precision.name if isinstance(precision, Precision) else (precision or "fp32")
    if name == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=DTYPES[name])


def full_precision(x: torch.Tensor):
    """A block that runs in at least float32 whatever the autocast around it: (context, x with
    a bfloat16 / float16 input raised to float32; float32 and float64 are kept)."""
    return torch.autocast(x.device.type, enabled=False), at_least_float32(x)


def at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """``x`` raised to float32 when it is in a low-precision dtype, else unchanged."""
    return x.float() if x.dtype in (torch.bfloat16, torch.float16) else x


def low_precision_input(x: torch.Tensor) -> torch.Tensor:
    """``x`` cast once to the active autocast dtype (so that a dense block's concatenations stay
    in one dtype instead of re-casting the float32 input at every convolution)."""
    kind = x.device.type
    if kind in ("cpu", "cuda") and torch.is_autocast_enabled(kind):
        return x.to(torch.get_autocast_dtype(kind))
    return x
