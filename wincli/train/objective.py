"""The training objective of WIN: L = lf L_forward + lr L_reverse + ls L_shift + ld L_det.

>>> terms = compute_losses(net, x, LossWeights(forward=2.0))          # doctest: +SKIP
>>> terms["total"].backward()

Each task owns its criteria and targets (``wincli.tasks``); this module puts them together as
docs/method.md ("Tasks and losses") says: sums over C, H, W averaged over the batch, weights
lambda_f = 2, lambda_r = 1, lambda_s = 0.1, lambda_d = 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from wincli.imaging import quantize_8bit
from wincli.tasks import Task


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
    channel=None,
) -> dict[str, torch.Tensor]:
    """One training evaluation of L = lf L_forward + lr L_reverse + ls L_shift + ld L_det.

    ``x``: (B, c_in, H, W) in [0, 1]. Hiding uses L1 forward and reverse (reverse on the
    secrets, not the recovered cover); rescaling and decolorization use L2 forward and
    Charbonnier reverse. The shift loss uses the forward criterion. The forward output is rounded
    to 8 bits (straight-through) before the inverse unless ``quantize`` is False, then passes
    ``channel`` when one is given (``wincli.jpeg.JpegChannel``: what sharing does to the file).
    Also returns ``image`` (the stored forward image) and ``recovered`` (detached).
    """
    from wincli.layers.wic import spatial_shift

    task: Task = model.config.spec
    target = task.target(x)
    y, extra = model.forward_train(x)
    image = task.to_image(y)
    l_fwd = task.forward_loss(y, image, target)
    stored = quantize_8bit(image, ste) if quantize else image
    if channel is not None:
        stored = channel(stored)
    recovered = model.inverse(task.from_image(stored))
    l_rev = task.crit_reverse(
        torch.cat(task.restored(recovered), 1), torch.cat(task.restored(x), 1)
    )
    if extra.shape[1]:
        full_target = task.from_image(target)
        shifted = torch.cat([spatial_shift(full_target, *o) for o in model.fusion.offsets], 1)
        l_shift = task.crit_forward(extra, shifted)
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
