"""Networks, presets and task definitions.

>>> net = build_model("rescaling", scale=2, preset="cpu")    # doctest: +SKIP
"""

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
    "preset_config",
]
