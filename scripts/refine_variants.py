#!/usr/bin/env python3
"""Compare ways of running the encoder-side refinement on the held-out training photos.

    python scripts/refine_variants.py rescaling-x2-win-cpu ste:40:0.004:0.05 cont:20:0.004:0.1 \
        lbfgs:20:0:0.1

Each variant is ``KIND:ITERS:LR:WEIGHT[:TAIL]`` for a rescaling model:
- ``ste``: what the CLI runs, ``wincli.refine.refine_stored`` itself: Adam on the stored pixels
  through the straight-through 8-bit rounding, cosine-decayed step, the best 8-bit image seen is
  kept;
- ``cont``: Adam on the unrounded pixels (a smooth objective), rounded at the end; with ``TAIL``
  the last TAIL steps go through the rounding as ``ste`` does;
- ``lbfgs``: L-BFGS on the unrounded pixels (strong Wolfe line search, history 10), rounded at
  the end (LR unused).
The forward output is always a candidate, as in ``wincli.refine``. Prints the mean LR / HR PSNR
(``wincli.evaluate.measure``, as ``scripts/heldout.py``) over the held-out photos' center crops
and the seconds taken. Research only: the CLI runs ``ste`` (README, "Encoder-side refinement").
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def refine(net, x, kind: str, iters: int, lr: float, weight: float, tail: int = 0):
    import torch

    from wincli.refine import Refine, refine_stored
    from wincli.tasks import quantize_8bit, round8

    if kind == "ste":
        return refine_stored(net, x, Refine(iters, lr, weight, decay=True))
    task = net.config.spec
    with torch.no_grad():
        start = round8(task.to_image(net(x)).float())
        target, wanted = task.target(x.float()), task.restored(x)[0].float()

    def objective(y, rounded: bool):
        s = quantize_8bit(y) if rounded else y
        got = task.restored(net.inverse(task.from_image(s)))[0].float().clamp(0, 1)
        return ((got - wanted) ** 2).mean() + weight * ((s - target) ** 2).mean(), s

    best, best_loss = start, objective(start, True)[0].item()
    if kind == "lbfgs":
        p = start.clone().contiguous().view(-1).requires_grad_(True)
        opt = torch.optim.LBFGS(
            [p], lr=1, max_iter=iters, max_eval=int(iters * 1.25), history_size=10,
            line_search_fn="strong_wolfe",
        )  # fmt: skip

        def closure():
            opt.zero_grad()
            loss, _ = objective(p.view(start.shape).clamp(0, 1), False)
            loss.backward()
            return loss

        opt.step(closure)
        y = p.detach().view(start.shape).clamp(0, 1)
    else:
        y = start.clone().requires_grad_(True)
        opt = torch.optim.Adam([y], lr=lr)
        for step in range(iters):
            rounded = step >= iters - tail  # cont: the last TAIL steps through the rounding
            loss, s = objective(y, rounded)
            if rounded and loss.item() < best_loss:
                best, best_loss = s.detach().clone(), loss.item()
            (y.grad,) = torch.autograd.grad(loss, y)
            for group in opt.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / iters))
            opt.step()
            with torch.no_grad():
                y.clamp_(0, 1)
        y = y.detach()
    with torch.no_grad():
        loss, s = objective(y, True)
    return s if loss.item() < best_loss else best


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="registry name or .safetensors file (rescaling)")
    ap.add_argument("variants", nargs="+", help="KIND:ITERS:LR:WEIGHT[:TAIL]")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "train"))
    ap.add_argument("--crop", type=int, default=512)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    from scripts.heldout import heldout_samples, load
    from wincli.evaluate import measure
    from wincli.train.data import find_images, split_holdout

    torch.set_num_threads(args.threads)
    conv = load(args.model)
    task = conv.net.config.spec
    if task.kind != "rescaling":
        sys.exit("error: refine_variants.py compares rescaling models")
    _, held = split_holdout(find_images([args.data]), 6)
    samples = list(heldout_samples(task, held, args.crop, 30))
    for variant in args.variants:
        kind, iters, lr, weight, *tail = variant.split(":")
        t0, rows = time.time(), []
        for _, x in samples:
            opts = (int(iters), float(lr), float(weight), *map(int, tail))
            stored = refine(conv.net, x, kind, *opts)
            with torch.no_grad():
                rec = conv.inverse(stored, size=tuple(x.shape[-2:]))
            m = measure(task, x, stored, task.restored(rec))
            rows.append((m["lr_psnr"], m["hr_psnr"]))
        lr_psnr, hr_psnr = np.mean(rows, 0)
        took = time.time() - t0
        print(f"{variant}: LR {lr_psnr:.2f} HR {hr_psnr:.2f} ({took:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
