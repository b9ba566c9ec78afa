#!/usr/bin/env python3
"""Maintainers, after a change to threading: wall time of `win downscale` run alone and two at
once, with default threads and with --threads 1 each, and with OpenMP's idle threads spinning
(OMP_WAIT_POLICY=ACTIVE, the OpenMP default) or sleeping (PASSIVE, what `win` sets unless the
environment says otherwise). docs/benchmarks.md, "Threads".

    python scripts/bench_threads.py --photo ../shared/data/eval/Kodak24/kodim01.png
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image


def batch(cmds: list[list[str]], env: dict) -> float:
    """Seconds until every command, started together, has finished."""
    t = time.perf_counter()
    procs = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL) for c in cmds]
    if any(p.wait() != 0 for p in procs):
        raise SystemExit(f"a command failed: {cmds[0]}")
    return time.perf_counter() - t


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", type=Path, required=True)
    ap.add_argument("--side", type=int, default=1024)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="win-threads-"))
    src = work / "in.png"
    with Image.open(args.photo) as im:
        im.convert("RGB").resize((args.side, args.side), Image.LANCZOS).save(src)
    win = [sys.executable, "-m", "wincli", "downscale", str(src), "--refine", "0"]
    print("| OMP_WAIT_POLICY | threads | alone s | two at once s | two at once / alone |")
    print("| --- | --- | --- | --- | --- |")
    for policy in ("ACTIVE", "PASSIVE"):
        env = {**os.environ, "OMP_WAIT_POLICY": policy}
        for threads in ([], ["--threads", "1"]):
            alone = batch([[*win, "-o", str(work / "a.png"), *threads]], env)
            two = batch([[*win, "-o", str(work / f"{i}.png"), *threads] for i in (1, 2)], env)
            label = "default" if not threads else threads[1]
            print(
                f"| {policy} | {label} | {alone:.1f} | {two:.1f} | {two / alone:.2f} |", flush=True
            )


if __name__ == "__main__":
    main()
