#!/usr/bin/env python3
"""Peak memory (RSS) of one large image with and without tiling, each in a fresh process.

    python scripts/bench_memory.py [--task rescaling-x2] [--side 4896] [--tiles 0 512 1024]
    python scripts/bench_memory.py --per-model [--side 1024] [--write] [--models NAME ...]

``--per-model`` measures every shipped checkpoint in the registry (its real weights and
architecture, default options): the peak RSS a whole ``--side`` x ``--side`` image adds, forward
and inverse each in a fresh process, over a process that loaded the model and ran a 64-px image.
The larger of the two, divided by the pixels of the high-dimensional side (cover / HR / colour),
is the model's ``bytes_per_pixel``; ``--write`` stores it in weights/registry.json, where
``--tile auto`` reads it to size tiles. ``--models`` measures (and writes) only those.

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


def child_per_model(name: str, side: int, direction: str) -> None:
    """Peak RSS growth of one whole image through a shipped model, in bytes per pixel of the
    high-dimensional side."""
    sys.path.insert(0, str(REPO))
    import torch

    from wincli.converter import Converter
    from wincli.weights import load_record, load_registry

    rec = next(r for r in load_registry() if r.name == name)
    net, _, _ = load_record(rec, allow_download=False)
    conv = Converter(net=net, device=torch.device("cpu"))
    task = net.config.spec
    m = net.config.multiple
    stored_channels = conv.forward(torch.rand(1, net.config.c_in, m, m)).shape[1]

    def run(px: int) -> None:
        x = torch.rand(1, net.config.c_in, px, px)
        if direction == "forward":
            conv.forward(x)
        else:
            conv.inverse(torch.rand(1, stored_channels, px // task.down, px // task.down))

    run(16 * m)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    run(side)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"bytes_per_pixel": (peak - base) / side**2}))


def per_model(side: int, write: bool, names: list[str] | None = None) -> None:
    sys.path.insert(0, str(REPO))
    from wincli.registry import registry_file, set_fields
    from wincli.weights import load_registry

    print(f"whole {side}x{side} image (high-dimensional side), peak RSS growth per pixel")
    print("| model | forward B/px | inverse B/px | bytes_per_pixel |\n| --- | --- | --- | --- |")
    found = {}
    for rec in load_registry():
        if names and rec.name not in names:
            continue
        got = []
        for direction in ("forward", "inverse"):
            cmd = [sys.executable, __file__, "--child-model", rec.name, "--direction", direction]
            r = subprocess.run(
                cmd + ["--side", str(side)], capture_output=True, text=True, check=True
            )
            got.append(json.loads(r.stdout.strip().splitlines()[-1])["bytes_per_pixel"])
        found[rec.name] = round(max(got))
        print(f"| {rec.name} | {got[0]:.0f} | {got[1]:.0f} | {found[rec.name]} |", flush=True)
    if write:
        for name, bpp in found.items():
            set_fields(name, bytes_per_pixel=bpp)
        print(f"wrote bytes_per_pixel into {registry_file()}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="rescaling-x2")
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--side", type=int, default=4896)
    ap.add_argument("--tiles", type=int, nargs="+", default=[0, 512, 1024])
    ap.add_argument("--per-model", action="store_true", help="every registry checkpoint")
    ap.add_argument("--write", action="store_true", help="with --per-model: into the registry")
    ap.add_argument("--models", nargs="*", help="with --per-model: only these registry names")
    ap.add_argument("--child-model", help=argparse.SUPPRESS)
    ap.add_argument("--direction", default="forward", help=argparse.SUPPRESS)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tile", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_model:
        child_per_model(args.child_model, args.side, args.direction)
        return
    if args.per_model:
        per_model(1024 if args.side == 4896 else args.side, args.write, args.models)
        return
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
