"""Networks, presets and task definitions.

>>> net = build_model("rescaling", scale=2, preset="cpu")    # doctest: +SKIP
"""

from dataclasses import replace

from wincli.models.config import VARIANTS, ModelConfig
from wincli.models.presets import PAPER_PARAMS, PRESETS, preset_config
from wincli.models.win import WIN, InvertibleNet, WINNaive


def build_from_config(config: ModelConfig) -> InvertibleNet:
    """A fresh network for ``config`` (weights at their initial values)."""
    return WINNaive(config) if config.variant == "win-naive" else WIN(config)


def build_model(
    task: str,
    *,
    secrets: int = 1,
    scale: int = 2,
    variant: str = "win",
    preset: str = "paper",
) -> InvertibleNet:
    """A fresh WIN / WIN-Naive for ``task``; ``.forward(x)`` and ``.inverse(y)`` take
    (B, C, H, W) float tensors in [0, 1]."""
    cfg = preset_config(task, secrets=secrets, scale=scale, variant=variant, preset=preset)
    return build_from_config(cfg)


def _coupling_field(config: ModelConfig) -> str:
    return "naive_couplings" if config.variant == "win-naive" else "couplings"


def coupling_count(config: ModelConfig) -> int:
    """Couplings per WIM (WIN) or in all (WIN-Naive): what ``--couplings`` sets."""
    return getattr(config, _coupling_field(config))


def grow_couplings(net: InvertibleNet, couplings: int) -> InvertibleNet:
    """``net`` with ``couplings`` couplings per WIM (WIN-Naive: in all) instead of fewer.

    The trained couplings keep their weights and the new ones are appended after them at their
    initial values, which are the identity (every dense block's last convolution is zero), so
    the grown network computes exactly what ``net`` computes, forward and inverse, and training
    goes on from there with more capacity. The x4 second stage keeps its own count when its
    config names one (``late_couplings``)."""
    have = coupling_count(net.config)
    if couplings < have:
        raise ValueError(
            f"cannot shrink {have} couplings to {couplings}: "
            "a checkpoint can gain couplings, not lose them"
        )
    grown = build_from_config(replace(net.config, **{_coupling_field(net.config): couplings}))
    missing, unexpected = grown.load_state_dict(net.state_dict(), strict=False)
    new = [k for k in missing if not _is_new_coupling(k, have)]
    if unexpected or new:  # only the appended couplings may be missing
        raise ValueError(f"cannot grow {net.config.name}: {(unexpected + new)[:3]}")
    return grown


def _is_new_coupling(key: str, have: int) -> bool:
    parts = key.split(".")
    return any(
        a == "couplings" and b.isdigit() and int(b) >= have
        for a, b in zip(parts[:-1], parts[1:], strict=True)
    )


def count_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = [
    "PAPER_PARAMS",
    "PRESETS",
    "VARIANTS",
    "WIN",
    "InvertibleNet",
    "ModelConfig",
    "WINNaive",
    "build_from_config",
    "build_model",
    "count_params",
    "coupling_count",
    "grow_couplings",
    "preset_config",
]
