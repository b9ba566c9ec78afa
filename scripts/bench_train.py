#!/usr/bin/env python3
"""Training throughput: steps/s and patch pixels/s for the training options asks about
(channels_last, torch.compile with the CPU inductor, larger patches), and bf16 against fp32
for the cpu and paper presets.

    python scripts/bench_train.py [--task hiding-1] [--threads 1] [--steps 20] [--warm 5]
    python scripts/bench_train.py --precisions fp32 bf16 --presets cpu paper \
        --variants channels_last --patches 64

One training step is the real one (``compute_losses`` through a ``_LossModule``, backward,
gradient clip, AdamW) on random patches with a fixed seed; the first ``--warm`` steps are not
timed (compile time is reported on its own). Prints a Markdown table. Speed does not depend on
the data, so no images are needed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wincli.models import build_model  # noqa: E402
from wincli.precision import autocast  # noqa: E402
from wincli.tasks import parse_task  # noqa: E402
from wincli.train.loop import _LossModule  # noqa: E402
from wincli.train.objective import LossWeights  # noqa: E402


def bench(
    task, batch: int, patch: int, steps: int, warm: int, variant: str,
    preset: str = "cpu", precision: str = "fp32", profile: bool = False,
) -> tuple[float, float, dict | None]:  # fmt: skip
    """(steps per second after warm-up, seconds spent in the warm-up steps, and with
    ``profile`` the share of the timed steps' CPU time per kind of operator). ``precision``:
    the autocast around the forward and loss, as `win train --precision` runs it."""
    torch.manual_seed(0)
    net = build_model(preset=preset, **task.kwargs())
    module = _LossModule(net, LossWeights(), True)
    if variant == "channels_last":
        net.to(memory_format=torch.channels_last)
    if variant == "compile":
        module = torch.compile(module)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4, weight_decay=1e-4)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, task.c_in, patch, patch, generator=g)
    if variant == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)

    def step():
        with autocast(x.device, precision):
            terms = module(x)
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()

    t = time.perf_counter()
    for _ in range(warm):
        step()
    warm_s = time.perf_counter() - t
    prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
    t = time.perf_counter()
    if profile:
        prof.start()
    for _ in range(steps):
        step()
    sps = steps / (time.perf_counter() - t)
    if not profile:
        return sps, warm_s, None
    prof.stop()
    return sps, warm_s, op_shares(prof.key_averages())


KINDS = (  # first match wins; names are aten operators
    ("convolution backward", ("convolution_backward", "conv2d_backward")),
    ("convolution forward", ("conv",)),
    ("additions", ("aten::add",)),
    ("dtype casts and copies", ("_to_copy", "copy_", "aten::to", "clone", "contiguous")),
    ("optimizer and clip", ("foreach", "adamw", "_fused", "norm", "addcdiv", "lerp", "sqrt")),
    ("concatenation", ("cat",)),
    ("WIC and log-determinant", ("linalg", "slogdet", "inverse", "lu", "mm", "bmm")),
)


def op_shares(events) -> dict:
    """Share of self CPU time per kind of operator (KINDS, the rest as "other")."""
    total, shares = 0.0, {}
    for ev in events:
        kind = next((k for k, keys in KINDS if any(key in ev.key for key in keys)), "other")
        shares[kind] = shares.get(kind, 0.0) + ev.self_cpu_time_total
        total += ev.self_cpu_time_total
    return {k: v / total for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="hiding-1")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warm", type=int, default=5)
    ap.add_argument("--variants", nargs="+", default=["plain", "channels_last", "compile"])
    ap.add_argument("--patches", nargs="+", type=int, default=[64, 96, 128])
    ap.add_argument("--presets", nargs="+", default=["cpu"], choices=["cpu", "paper"])
    ap.add_argument("--precisions", nargs="+", default=["fp32"], choices=["fp32", "bf16"])
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also print where each row's time goes (torch.profiler, self CPU time)",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    task = parse_task(args.task)
    print(f"{args.task}, batch {args.batch}, {args.threads} thread(s)\n")
    print(
        "| preset | precision | variant | patch | steps/s | patch Mpx/s | vs the preset's first "
        "row | warm-up s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    profiles = []
    for preset in args.presets:
        base = None
        for precision in args.precisions:
            for patch in args.patches:
                for variant in args.variants:
                    if patch != 64 and variant != "plain":
                        continue  # patch size is compared with the plain step only
                    sps, warm_s, shares = bench(
                        task, args.batch, patch, args.steps, args.warm, variant, preset,
                        precision, args.profile,
                    )  # fmt: skip
                    if shares:
                        profiles.append((f"{preset} {precision} {variant} {patch}", shares))
                    mpx = sps * args.batch * patch * patch / 1e6
                    base = base or mpx
                    print(
                        f"| {preset} | {precision} | {variant} | {patch} | {sps:.2f} | {mpx:.3f} "
                        f"| {mpx / base:.2f}x | {warm_s:.1f} |",
                        flush=True,
                    )
    for row, shares in profiles:
        print(f"\n{row}: " + ", ".join(f"{k} {100 * v:.0f}%" for k, v in shares.items()))


if __name__ == "__main__":
    main()
