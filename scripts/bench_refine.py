#!/usr/bin/env python3
"""What encoder-side refinement costs: seconds and peak memory of `win downscale` /
`win decolorize`'s forward pass with and without `--refine N`, each in a fresh process.

    python scripts/bench_refine.py [--side 512] [--threads 2] [--steps 40] [--models NAME ...]

For every shipped default checkpoint whose task has a refinement search (``Task.refine_search``):
a random ``--side`` x ``--side`` image (content does not change speed or memory) through
``Converter.forward`` whole (no tiling, no one-pass encoder), once with ``--refine 0`` and once
with ``--steps`` steps, after a warm-up on a small image. Prints a Markdown table: model,
refinement, seconds, megapixels per second of the high-resolution side, and the peak RSS it added
in bytes per high-side pixel (the ratio of the two is what ``wincli.converter.REFINE_MEMORY``
plans for).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def child(name: str, side: int, steps: int, threads: int) -> None:
    sys.path.insert(0, str(REPO))
    import torch

    from wincli.converter import Converter
    from wincli.refine import Refine, default_refine
    from wincli.weights import load_record, load_registry

    torch.set_num_threads(threads)
    rec = next(r for r in load_registry() if r.name == name)
    net, _, _ = load_record(rec, allow_download=False)
    choice = default_refine(net.config.spec, steps) if steps else Refine()
    conv = Converter(net=net, device=torch.device("cpu"), refine=choice)
    conv.forward(torch.rand(1, net.config.c_in, 32, 32))  # warm-up
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    x = torch.rand(1, net.config.c_in, side, side)
    t = time.perf_counter()
    conv.forward(x)
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": dt, "bpp": (peak - base) / side**2, "refine": str(choice)}))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=40, help="refinement steps measured")
    ap.add_argument("--models", nargs="*", help="registry names (default: every refined task)")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        name, side, refine, threads = args.child
        child(name, int(side), int(refine), int(threads))
        return

    sys.path.insert(0, str(REPO))
    from wincli.weights import load_registry

    names = args.models or [r.name for r in load_registry() if r.default and r.spec.refine_search()]
    print(f"{args.side} x {args.side} px, {args.threads} threads, whole image")
    print("| model | refinement | seconds | MP/s | peak RSS added, bytes/px |")
    print("| --- | --- | --- | --- | --- |")
    for name in names:
        for refine in ("0", str(args.steps)):
            cmd = [sys.executable, __file__, "--child", name, str(args.side), refine]
            out = subprocess.run(
                [*cmd, str(args.threads)], capture_output=True, text=True, check=True
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            mps = args.side**2 / 1e6 / r["seconds"]
            print(
                f"| {name} | {r['refine']} | {r['seconds']:.2f} | {mps:.3f} | {r['bpp']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
