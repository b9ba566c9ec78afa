"""Image math every part of wincli shares: the one 8-bit rounding, resampling, colour spaces.

>>> stored = quantize_8bit(y)          # (B, C, H, W) -> the 8-bit grid, straight-through gradient
>>> lr = bicubic_down(hr, 2)           # anti-aliased bicubic, MATLAB imresize style
>>> lightness = lab_lightness(rgb)     # CIE Lab L / 100 (D65)

All tensors are (B, C, H, W) float in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def round8(x: torch.Tensor) -> torch.Tensor:
    """The one 8-bit rounding: clamp to [0, 1] and snap to the 256 levels (no gradient).

    Every image that is stored, compared or written passes here (or ``quantize_8bit``, its
    differentiable form); ``io.to_uint8`` is this on the uint8 scale.
    """
    return torch.round(x.clamp(0.0, 1.0) * 255.0) / 255.0


ESTIMATORS = ("clamp", "identity", "noise", "mix")


def quantize_8bit(y: torch.Tensor, ste: str = "clamp") -> torch.Tensor:
    """Clamp to [0, 1], round to 8 bits, with a straight-through gradient for the rounding.

    The one step that breaks exact invertibility; everything written to a file passes here.
    ``ste="clamp"`` (default): the gradient passes the rounding but not the clamp, so it is
    zero where ``y`` is outside [0, 1] (a change there does not change the stored image).
    ``ste="identity"``: the old estimator, identity everywhere; it lets the reverse loss push
    out-of-range values further out with nothing but the forward loss holding them, which is
    how hiding training diverged (docs/method.md, "The 8-bit rounding"). Values are the same.
    Training-only proxies (values are *not* on the 8-bit grid): ``ste="noise"`` replaces the
    rounding by additive uniform noise of one level's width (the usual proxy in learned
    compression) after the same clamp; ``ste="mix"`` draws, per sample of the batch, the clamped
    straight-through rounding or the noise with equal odds.
    """
    if ste == "identity":
        return y + (round8(y) - y).detach()
    if ste not in ESTIMATORS:
        raise ValueError(f"ste must be one of {', '.join(ESTIMATORS)}, not {ste!r}")
    c = y.clamp(0.0, 1.0)
    rounded = c + (round8(c) - c).detach()
    if ste == "clamp":
        return rounded
    noisy = (c + (torch.rand_like(c) - 0.5) / 255.0).clamp(0.0, 1.0)
    if ste == "noise":
        return noisy
    pick = torch.rand((c.shape[0],) + (1,) * (c.dim() - 1), device=c.device) < 0.5
    return torch.where(pick, rounded, noisy)


def bicubic_down(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """Anti-aliased bicubic downscale (MATLAB imresize style, a = -0.5): (B, C, H, W) ->
    (B, C, H / scale, W / scale). H and W must be multiples of ``scale``."""
    h, w = hr.shape[-2:]
    return F.interpolate(
        hr, size=(h // scale, w // scale), mode="bicubic", align_corners=False, antialias=True
    )


def bicubic_up(lr: torch.Tensor, scale: int) -> torch.Tensor:
    """Bicubic upscale (a = -0.5 as in PIL/MATLAB), clamped to [0, 1]."""
    h, w = lr.shape[-2:]
    up = F.interpolate(
        lr, size=(h * scale, w * scale), mode="bicubic", align_corners=False, antialias=True
    )
    return up.clamp(0.0, 1.0)


def lab_lightness(rgb: torch.Tensor) -> torch.Tensor:
    """CIE Lab L / 100 of sRGB (D65): (B, 3, H, W) in [0, 1] -> (B, 1, H, W) in [0, 1]."""
    c = rgb.clamp(0.0, 1.0)
    lin = torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    y = 0.2126729 * lin[:, 0:1] + 0.7151522 * lin[:, 1:2] + 0.0721750 * lin[:, 2:3]
    eps = (6 / 29) ** 3
    f = torch.where(y > eps, y.clamp_min(eps) ** (1 / 3), y / (3 * (6 / 29) ** 2) + 4 / 29)
    return (116 * f - 16) / 100
