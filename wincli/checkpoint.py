"""Model files: safetensors with the architecture config in the header metadata.

>>> save_model(net, "run/model.safetensors", {"step": "1000"})      # doctest: +SKIP
>>> net = load_model("run/model.safetensors")                       # tensors and JSON only, no code

Writes are atomic (temp file + rename), so an interrupted save never leaves a broken file.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from wincli.errors import WeightsError
from wincli.fs import atomic_write
from wincli.models import ModelConfig, build_from_config

CONTENT_KEY = "content_sha256"


def content_hash(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order."""
    import hashlib

    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def save_tensors(tensors: dict[str, torch.Tensor], path: str | Path, meta: dict[str, str]) -> None:
    """Safetensors with ``meta`` plus the content hash that every load checks."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    meta = {**meta, CONTENT_KEY: content_hash(tensors)}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))


def save_model(model, path: str | Path, meta: dict[str, str] | None = None) -> None:
    """Model weights (float32) + ``config`` JSON in the safetensors header."""
    info = {"config": json.dumps(model.config.to_dict()), "format": "wincli-1"}
    info.update(meta or {})
    state = {k: v.float() for k, v in model.state_dict().items()}
    save_tensors(state, path, info)


def read_metadata(path: str | Path) -> dict[str, str]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None


def load_state(path: str | Path, trusted: bool = False) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file, checked against the content hash in its metadata.

    A mismatch is an error (the tensor bytes were altered); a file without a hash loads with a
    warning unless ``trusted`` (a registry file whose whole-file sha256 was already checked).
    """
    import warnings

    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None
    expected = read_metadata(path).get(CONTENT_KEY)
    if expected is None:
        if not trusted:
            warnings.warn(
                f"{path}: no content hash in the file; its tensors cannot be checked", stacklevel=2
            )
    elif content_hash(state) != expected:
        raise WeightsError(f"{path}: tensors do not match the file's content hash (altered)")
    return state


def load_model(path: str | Path, config: ModelConfig | None = None, trusted: bool = False):
    """Rebuild the network from ``config`` (or the file's own metadata) and load strictly."""
    if config is None:
        meta = read_metadata(path)
        if "config" not in meta:
            raise WeightsError(f"{path}: no architecture config in the file; pass one explicitly")
        config = ModelConfig.from_dict(json.loads(meta["config"]))
    model = build_from_config(config)
    state = load_state(path, trusted)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise WeightsError(f"{path}: weights do not fit {config.name} ({first})") from None
    return model.eval()


def optimizer_tensors(opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """An optimizer's state as named tensors ("<param index>.<key>"), for ``save_tensors``."""
    out = {}
    for idx, state in opt.state_dict()["state"].items():
        for key, value in state.items():
            out[f"{idx}.{key}"] = torch.as_tensor(value)
    return out


def load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    """Put back what ``optimizer_tensors`` saved (the hyper-parameters stay ``opt``'s)."""
    sd = opt.state_dict()
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    sd["state"] = state
    opt.load_state_dict(sd)
