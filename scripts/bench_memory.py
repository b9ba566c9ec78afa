#!/usr/bin/env python3
"""Peak memory (RSS) of one large image with and without tiling, each in a fresh process.

    python scripts/bench_memory.py [--task rescaling-x2] [--side 4896] [--tiles 0 512 1024]

A 24-megapixel image is 4896 x 4896 (the default). Tile 0 = the whole image at once.
Prints a Markdown table: tile, seconds, peak RSS (MiB). Weights are random (cpu preset unless
--preset paper), which does not change memory.
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


def child(task: str, preset: str, side: int, tile: int) -> None:
    sys.path.insert(0, str(REPO))
    import torch

    from wincli.converter import Converter
    from wincli.models import build_model
    from wincli.tasks import parse_task

    kw = parse_task(task).kwargs()
    name = kw.pop("task")
    net = build_model(name, preset=preset, **kw).eval()
    conv = Converter(net=net, device=torch.device("cpu"), tile=tile or None)
    x = torch.rand(1, net.config.c_in, side, side)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    conv.forward(x)
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": dt, "peak_mib": peak / 1024, "before_mib": base / 1024}))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="rescaling-x2")
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--side", type=int, default=4896)
    ap.add_argument("--tiles", type=int, nargs="+", default=[0, 512, 1024])
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tile", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.task, args.preset, args.side, args.tile)
        return
    mp = args.side**2 / 1e6
    print(f"{args.task} ({args.preset} preset), {args.side}x{args.side} = {mp:.1f} MP, forward")
    print("| tile | seconds | peak RSS (MiB) |\n| --- | --- | --- |")
    for tile in args.tiles:
        r = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--task",
                args.task,
                "--preset",
                args.preset,
                "--side",
                str(args.side),
                "--tile",
                str(tile),
            ],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            print(f"| {tile or 'none'} | failed: {r.stderr.strip().splitlines()[-1]} | |")
            continue
        d = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"| {tile or 'none'} | {d['seconds']:.1f} | {d['peak_mib']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
