#!/usr/bin/env python3
"""Time to quality of training recipes: the same short run with one thing changed.

    python scripts/compare_recipes.py --data ../shared/data/train --task rescaling --steps 1000 \
        --recipe "task:--init task" --recipe "orthogonal:--init orthogonal" [--threads 1]
    python scripts/compare_recipes.py --run "lr 2e-3:runs/hB" --run "2 couplings:runs/hC" \
        --until 1250

Each recipe is `win train` with the extra options after the colon, the same seed, data and
schedule, in runs/compare/<label>; `--run LABEL:DIR` tabulates a run made by hand (up to
`--until`, the steps it ran on `--threads`). Prints validation PSNR (held-out crops, 8-bit) at every
validation step with the CPU-seconds spent, and the PSNR gained per CPU-hour.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data")
    ap.add_argument("--task", default="rescaling")
    ap.add_argument("--extra", default="--scale 2", help="options shared by every recipe")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--val-every", type=int, default=250)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--recipe", action="append", default=[], help="LABEL:OPTIONS")
    ap.add_argument("--run", action="append", default=[], help="LABEL:RUNDIR (already trained)")
    ap.add_argument("--until", type=int, default=None, help="last step to tabulate")
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "compare")
    args = ap.parse_args(argv)
    if args.recipe and not args.data:
        ap.error("--recipe needs --data")
    if not args.recipe and not args.run:
        ap.error("give --recipe LABEL:OPTIONS or --run LABEL:RUNDIR")
    runs = {}
    for spec in args.run:
        label, _, path = spec.partition(":")
        runs[label] = Path(path)
    for spec in args.recipe:
        label, _, opts = spec.partition(":")
        run = runs[label] = args.out / label
        if not (run / "state.json").exists():
            cmd = [
                sys.executable,
                "-m",
                "wincli",
                "train",
                "--task",
                args.task,
                *shlex.split(args.extra),
                "--preset",
                "cpu",
                "--data",
                args.data,
                "--steps",
                str(args.steps),
                "--val-every",
                str(args.val_every),
                "--threads",
                str(args.threads),
                "--out",
                str(run),
                *shlex.split(opts),
            ]
            print("$ win " + " ".join(cmd[3:]), flush=True)
            subprocess.run(cmd, check=True, cwd=REPO, stderr=subprocess.DEVNULL)
    results = {}
    for label, run in runs.items():
        log = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
        results[label] = [
            r
            for r in log
            if "val_image_psnr" in r and (args.until is None or r["step"] <= args.until)
        ]
    print(
        "\n| recipe | step | minutes on 1 thread | val forward-image PSNR | val reverse PSNR "
        "| sum |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for label, rows in results.items():
        for r in rows:
            print(
                f"| {label} | {r['step']} | {r['elapsed_s'] * args.threads / 60:.1f} | "
                f"{r['val_image_psnr']:.2f} | {r['val_reverse_psnr']:.2f} | "
                f"{r['val_image_psnr'] + r['val_reverse_psnr']:.2f} |"
            )


if __name__ == "__main__":
    main()
