"""Encoder-side refinement: choose the stored 8-bit image for the fixed inverse network.

>>> y = refine_stored(net, x, Refine(iters=20))        # doctest: +SKIP

The forward pass gives a stored image (LR, gray or stego) that the inverse turns back into x up
to the network's error and the 8-bit rounding. But the stored image is free: any 8-bit image can
be written, and the inverse that ``win upscale`` / ``colorize`` / ``reveal`` runs is fixed. So the
encoder, which has x, can search for the stored image whose inverse is closest to x. Starting from
the rounded forward output, a few Adam steps on the stored image's pixels minimise

    mean over restored parts ||clamp(inverse(round8(y))_part) - x_part||^2
        + stored_weight * ||round8(y) - y*||^2

with the straight-through rounding of ``quantize_8bit`` (so every evaluated loss is that of a real
8-bit image), and the best 8-bit image seen is kept. The forward output itself is the first one
evaluated, so the objective never ends worse than without refinement. The network's weights are
untouched and the decoder needs nothing new: a refined file is restored by the same inverse.
This is what a video encoder's rate-distortion search is to its decoder. What it buys per task
and what it costs are measured by ``scripts/heldout.py --refine`` and ``scripts/bench_refine.py``
(docs/method.md, docs/notes/2026-11-30-refinement-experiments.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from wincli.imaging import quantize_8bit, round8

FLOOR_WEIGHT = 10.0  # the hinge of Refine.stored_floor, per unit of squared error below the floor


@dataclass(frozen=True)
class Refine:
    """How the stored image is refined; ``iters=0`` stores the forward output as it is."""

    iters: int = 0
    lr: float = 0.002  # Adam step on [0, 1] pixel values (one 8-bit level is 0.0039)
    stored_weight: float = 0.0  # weight of the stored image's error against y* (LR vs bicubic)
    decay: bool = False  # cosine decay of the step to 0 over the iterations
    # A floor on the stored image's PSNR against y* (dB, 0: none), per image: a hinge that costs
    # nothing while the stored image is at least this close to y* and FLOOR_WEIGHT x the excess
    # squared error when it is not.
    stored_floor: float = 0.0


def default_refine(task, choice: Refine | int | None = None) -> Refine:
    """The refinement for ``task``: ``choice`` if it is a Refine; else none by default (the
    one-pass encoder gives the stored image at the cost of a forward pass, and each refinement
    step costs about two), or ``choice`` steps of the task's search (``Task.refine_search``: the
    step size and the stored image's weight chosen on the held-out training photos with
    ``python scripts/heldout.py NAME --crop 512 --refine 40 --refine-weight W --refine-lr LR``,
    docs/notes)."""
    if isinstance(choice, Refine):
        return choice
    base = Refine(**task.refine_search())
    return base if choice is None else replace(base, iters=int(choice))


def stored_objective(
    net, stored: torch.Tensor, wanted, target, stored_weight: float, dtype=torch.float32
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The objective a stored 8-bit image is chosen by (the refinement's and the one-pass
    encoder's): the mean squared error of what the user gets back (clamped) against ``wanted``
    (``task.restored(x)``), plus ``stored_weight`` times the stored image's own error against
    ``target`` (y*; None: no such term). Returns it and the per-image stored error (or None)."""
    task = net.config.spec
    rec = net.inverse(task.from_image(stored.to(dtype)))
    got = [g.float().clamp(0.0, 1.0) for g in task.restored(rec)]  # what the user gets
    loss = sum(((g - w) ** 2).mean() for g, w in zip(got, wanted, strict=True)) / len(wanted)
    if target is None:
        return loss, None
    err = ((stored - target) ** 2).flatten(1).mean(1)  # per image
    return loss + stored_weight * err.mean(), err


def encode(net, x: torch.Tensor, encoder=None) -> torch.Tensor:
    """The stored image before rounding: the forward output, corrected by the one-pass encoder
    (``wincli.encoder``) when one is given."""
    y0 = net.config.spec.to_image(net(x))
    return y0 if encoder is None else encoder(x, y0)


def refine_stored(net, x: torch.Tensor, refine: Refine, encoder=None, on_step=None) -> torch.Tensor:
    """(B, c_in, H, W) x -> the refined stored image (B, C, h, w) on the 8-bit grid, starting
    from the one-pass encoder's output (``encoder``) or the forward output.

    ``net`` is an :class:`~wincli.models.InvertibleNet`; its parameters are not changed and get no
    gradient (only the stored image's does). Runs in the dtype of ``x``; the pixels that are
    optimised are float32. ``on_step()`` is called after every step (progress).
    """
    with torch.inference_mode(False):  # callers may be in inference mode; this needs autograd
        return _refine(net, x.clone(), refine, encoder, on_step)


def _refine(net, x: torch.Tensor, refine: Refine, encoder=None, on_step=None) -> torch.Tensor:
    task = net.config.spec
    with torch.no_grad():
        start = round8(encode(net, x, encoder).float())
        if refine.iters <= 0:
            return start.to(x.dtype)
        target = task.target(x.float()) if refine.stored_weight or refine.stored_floor else None
        floor_mse = 10 ** (-refine.stored_floor / 10)
        wanted = [p.float() for p in task.restored(x)]

    def objective(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        stored = quantize_8bit(y)
        loss, err = stored_objective(net, stored, wanted, target, refine.stored_weight, x.dtype)
        if refine.stored_floor:
            loss = loss + FLOOR_WEIGHT * (err - floor_mse).clamp(min=0).mean()
        return loss, stored

    y = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([y], lr=refine.lr)
    best, best_loss = start, float("inf")
    for step in range(refine.iters + 1):
        last = step == refine.iters
        with torch.set_grad_enabled(not last):
            loss, stored = objective(y)
        if loss.item() < best_loss:
            best, best_loss = stored.detach().clone(), loss.item()
        if last:
            break
        (y.grad,) = torch.autograd.grad(loss, y)
        if refine.decay:
            for group in opt.param_groups:
                group["lr"] = refine.lr * 0.5 * (1 + math.cos(math.pi * step / refine.iters))
        opt.step()
        with torch.no_grad():
            y.clamp_(0.0, 1.0)
        if on_step is not None:
            on_step()
    return best.to(x.dtype)
