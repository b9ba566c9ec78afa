"""Device choice: ``auto`` picks CUDA, then Apple MPS, then the CPU.

>>> pick_device("auto")          # doctest: +SKIP
device(type='cpu')
"""

from __future__ import annotations

import os

import torch

from wincli.errors import DeviceError

DEVICES = ("auto", "cpu", "cuda", "mps")


def _mps() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def pick_device(name: str) -> torch.device:
    """Resolve a ``--device`` value; under torchrun CUDA uses the process's LOCAL_RANK."""
    local = int(os.environ.get("LOCAL_RANK", 0))
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local)
        return torch.device("mps") if _mps() else torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError("--device cuda: no CUDA GPU is available here")
        return torch.device("cuda", local)
    if name == "mps":
        if not _mps():
            raise DeviceError("--device mps: Apple MPS is not available here")
        return torch.device("mps")
    raise DeviceError(f"unknown device {name!r}; use one of {', '.join(DEVICES)}")
