"""Task definitions in one place: packing, forward targets, losses, 8-bit rounding.

>>> x = pack_hiding(cover, [secret])            # doctest: +SKIP   (B, 6, H, W)
>>> y_star = forward_target(cfg, x)              # cover / bicubic LR / Lab L / 100
>>> terms = compute_losses(net, x)               # {"forward", "reverse", "shift", "det", "total"}

All tensors are (B, C, H, W) float in [0, 1]. Losses follow DESIGN.md sections 4-5: sums over
C, H, W averaged over the batch, weights lambda_f = 2, lambda_r = 1, lambda_s = 0.1, lambda_d = 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from wincli.layers.wic import spatial_shift
from wincli.models.config import ModelConfig


def round8(x: torch.Tensor) -> torch.Tensor:
    """The one 8-bit rounding: clamp to [0, 1] and snap to the 256 levels (no gradient).

    Every image that is stored, compared or written passes here (or ``quantize_8bit``, its
    differentiable form); ``io.to_uint8`` and ``evaluate.to8`` are this on other scales.
    """
    return torch.round(x.clamp(0.0, 1.0) * 255.0) / 255.0


def quantize_8bit(y: torch.Tensor, ste: str = "clamp") -> torch.Tensor:
    """Clamp to [0, 1], round to 8 bits, with a straight-through gradient for the rounding.

    The one step that breaks exact invertibility; everything written to a file passes here.
    ``ste="clamp"`` (default): the gradient passes the rounding but not the clamp, so it is
    zero where ``y`` is outside [0, 1] (a change there does not change the stored image).
    ``ste="identity"``: the old estimator, identity everywhere; it lets the reverse loss push
    out-of-range values further out with nothing but the forward loss holding them, which is
    how hiding training diverged (README, "Why training diverged"). Values are the same.
    """
    if ste == "identity":
        return y + (round8(y) - y).detach()
    if ste != "clamp":
        raise ValueError(f"ste must be clamp or identity, not {ste!r}")
    c = y.clamp(0.0, 1.0)
    return c + (round8(c) - c).detach()


def pack_hiding(cover: torch.Tensor, secrets: list[torch.Tensor]) -> torch.Tensor:
    """cover (B, 3, H, W) and n secrets (B, 3, H, W) -> x (B, 3 (n + 1), H, W)."""
    return torch.cat([cover, *secrets], 1)


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


def forward_target(config: ModelConfig, x: torch.Tensor) -> torch.Tensor:
    """y*: the image the forward pass should produce, (B, 3 or 1, H', W')."""
    if config.task == "hiding":
        return x[:, :3]
    if config.task == "rescaling":
        return bicubic_down(x, config.scale)
    return lab_lightness(x)


def output_to_image(config: ModelConfig, y: torch.Tensor) -> torch.Tensor:
    """Network output -> the image that is stored (x4 rescaling: mean of the 4 groups)."""
    if config.task == "rescaling" and config.scale == 4:
        b, _, h, w = y.shape
        return y.view(b, 4, 3, h, w).mean(1)
    return y


def image_to_input(config: ModelConfig, image: torch.Tensor) -> torch.Tensor:
    """Stored image -> what ``inverse`` takes (x4 rescaling: the LR repeated 4 times)."""
    if config.task == "rescaling" and config.scale == 4:
        return image.repeat(1, 4, 1, 1)
    return image


def _l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).abs().flatten(1).sum(1).mean()


def _l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).flatten(1).sum(1).mean()


def _charbonnier(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    return torch.sqrt((a - b) ** 2 + eps**2).flatten(1).sum(1).mean()


@dataclass(frozen=True)
class LossWeights:
    forward: float = 2.0
    reverse: float = 1.0
    shift: float = 0.1
    det: float = 1.0


def compute_losses(
    model,
    x: torch.Tensor,
    weights: LossWeights = LossWeights(),
    quantize: bool = True,
    ste: str = "clamp",
) -> dict[str, torch.Tensor]:
    """One training evaluation of L = lf L_forward + lr L_reverse + ls L_shift + ld L_det.

    ``x``: (B, c_in, H, W) in [0, 1]. Hiding uses L1 forward and reverse (reverse on the
    secrets, not the recovered cover); rescaling and decolorization use L2 forward and
    Charbonnier reverse. The shift loss uses the forward criterion. The forward output is rounded
    to 8 bits (straight-through) before the inverse unless ``quantize`` is False.
    Also returns ``image`` (the stored forward image) and ``recovered`` (detached).
    """
    cfg: ModelConfig = model.config
    crit_f = _l1 if cfg.task == "hiding" else _l2
    crit_r = _l1 if cfg.task == "hiding" else _charbonnier
    target = forward_target(cfg, x)
    y, extra = model.forward_train(x)
    image = output_to_image(cfg, y)
    if cfg.c_out != target.shape[1]:  # x4: each group and their mean against y*
        groups = y.view(y.shape[0], 4, 3, *y.shape[-2:])
        l_fwd = sum(crit_f(groups[:, g], target) for g in range(4)) / 4 + crit_f(image, target)
        full_target = target.repeat(1, 4, 1, 1)
    else:
        l_fwd = crit_f(image, target)
        full_target = target
    stored = quantize_8bit(image, ste) if quantize else image
    recovered = model.inverse(image_to_input(cfg, stored))
    if cfg.task == "hiding":
        l_rev = crit_r(recovered[:, 3:], x[:, 3:])
    else:
        l_rev = crit_r(recovered, x)
    if extra.shape[1]:
        shifted = torch.cat([spatial_shift(full_target, *o) for o in model.fusion.offsets], 1)
        l_shift = crit_f(extra, shifted)
    else:
        l_shift = torch.zeros((), device=x.device)
    l_det = model.log_det_penalty().to(l_fwd.dtype)
    total = (
        weights.forward * l_fwd
        + weights.reverse * l_rev
        + weights.shift * l_shift
        + weights.det * l_det
    )
    return {
        "total": total,
        "forward": l_fwd,
        "reverse": l_rev,
        "shift": l_shift,
        "det": l_det,
        "image": image.detach(),
        "recovered": recovered.detach(),
        "target": target,
    }


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of two tensors in [0, 1] (peak 1)."""
    mse = F.mse_loss(a.double(), b.double()).item()
    return float("inf") if mse == 0 else -10.0 * float(torch.log10(torch.tensor(mse)))
