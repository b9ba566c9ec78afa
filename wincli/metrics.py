"""The quality numbers: one PSNR and one SSIM, both on 8-bit images (docs/evaluation.md).

>>> psnr(restored, original)             # doctest: +SKIP   dB; tensors in [0, 1] or uint8 arrays
>>> ssim(restored, original, shave=2)    # doctest: +SKIP

Both round their inputs to the 8-bit grid first (what a user receives). PSNR is over all
channels with peak 255; SSIM uses an 11x11 Gaussian window (sigma 1.5) on [0, 255], the valid
region, averaged over channels (Wang et al. 2004, the paper's protocol). ``shave`` drops that
many border pixels (rescaling shaves ``scale``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def levels(x: torch.Tensor) -> torch.Tensor:
    """Float in [0, 1] -> float 0..255 on the 8-bit grid (``round8`` on the 0..255 scale;
    exact integers, so a later uint8 cast cannot truncate)."""
    return x.clamp(0.0, 1.0).mul_(255.0).round_()  # round8's levels, on one copy


def _pair(a, b, shave: int, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    def as_levels(t):
        if isinstance(t, np.ndarray):
            from wincli.io import from_uint8

            t = from_uint8(t)
        return levels(t).to(dtype)

    a, b = as_levels(a), as_levels(b)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare images of shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if shave:
        a, b = a[..., shave:-shave, shave:-shave], b[..., shave:-shave, shave:-shave]
    return a, b


CHUNK = 1 << 22  # values per slice of the PSNR sum


def psnr(a, b, shave: int = 0) -> float:
    """PSNR (dB, peak 255) of two images after rounding both to 8 bits; inf when equal.

    ``a``, ``b``: (B, C, H, W) tensors in [0, 1], or (H, W[, C]) uint8 arrays."""
    # levels are integers 0..255: their differences and squares are exact in float32, and the
    # sum runs over slices in float64, so a 12 MP pair costs two float32 copies, not six doubles
    a, b = _pair(a, b, shave, dtype=torch.float32)
    a, b = a.reshape(-1), b.reshape(-1)
    total = 0.0
    for i in range(0, a.numel(), CHUNK):
        d = a[i : i + CHUNK] - b[i : i + CHUNK]
        total += float(d.square_().sum(dtype=torch.float64))
    mse = total / a.numel()
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def _gauss(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """The normalised 1-D Gaussian; the 2-D window is its outer product (separable)."""
    ax = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(ax**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(a, b, shave: int = 0) -> float:
    """SSIM of 8-bit images, 11x11 Gaussian (sigma 1.5), valid region, mean over channels."""
    a, b = _pair(a, b, shave)
    c = a.shape[1]
    g = _gauss().to(a)
    wv, wh = g.view(1, 1, -1, 1).repeat(c, 1, 1, 1), g.view(1, 1, 1, -1).repeat(c, 1, 1, 1)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def f(t):  # the 11x11 window as two 1-D passes (11x fewer operations, same valid region)
        return F.conv2d(F.conv2d(t, wv, groups=c), wh, groups=c)

    mu_a, mu_b = f(a), f(b)
    saa = f(a * a) - mu_a**2
    sbb = f(b * b) - mu_b**2
    sab = f(a * b) - mu_a * mu_b
    m = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a**2 + mu_b**2 + c1) * (saa + sbb + c2))
    return float(m.mean(dim=(0, 2, 3)).mean())
